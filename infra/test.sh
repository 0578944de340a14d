#!/usr/bin/env bash
# npm test: the same set-up as npm start (minus starting the platform), a
# strict type-check, then the whole vitest suite against real Docker,
# Redis and Postgres. Tests create their own database and queue prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/install-deps.sh
node --import tsx infra/setup.ts --no-migrate --with-browser --with-brokers --with-lab
echo "[hearth] type-checking"
npx tsc --noEmit -p tsconfig.json
exec npx vitest run --config test/vitest.config.ts "$@"

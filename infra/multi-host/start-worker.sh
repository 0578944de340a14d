#!/usr/bin/env bash
# A worker host: make sure Docker and the runtime images are here, check Postgres and Redis, run the worker.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f /etc/hearth/hearth.env ]; then set -a; . /etc/hearth/hearth.env; set +a; fi
: "${DATABASE_URL:?set DATABASE_URL (see infra/multi-host/hearth.env.example)}"
: "${REDIS_URL:?set REDIS_URL}"
bash infra/install-deps.sh
node --import tsx infra/setup.ts --role=worker
exec node --import tsx worker/main.ts

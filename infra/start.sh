#!/usr/bin/env bash
# npm start: install dependencies, set up Docker/Postgres/Redis/images, start gateway + worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/install-deps.sh
exec node --import tsx infra/start.ts

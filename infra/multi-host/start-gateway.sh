#!/usr/bin/env bash
# A gateway host: check Postgres and Redis, apply migrations, serve the API.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f /etc/hearth/hearth.env ]; then set -a; . /etc/hearth/hearth.env; set +a; fi
: "${DATABASE_URL:?set DATABASE_URL (see infra/multi-host/hearth.env.example)}"
: "${REDIS_URL:?set REDIS_URL}"
: "${HEARTH_API_KEY:?set HEARTH_API_KEY}"
bash infra/install-deps.sh
node --import tsx infra/setup.ts --role=gateway
# glibc malloc: large upload buffers in their own mappings, returned on free (gateway/memory-env.ts).
export MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2
exec node --import tsx gateway/main.ts

#!/usr/bin/env bash
# A worker host: make sure Docker and the runtime images are here, check Postgres and Redis, run the worker.
set -euo pipefail
cd "$(dirname "$0")/../.."
# HEARTH_ENV_FILE: another settings file than /etc/hearth/hearth.env (several "hosts" on one machine: netns-lab.sh).
env_file=${HEARTH_ENV_FILE:-/etc/hearth/hearth.env}
if [ -f "$env_file" ]; then set -a; . "$env_file"; set +a; fi
: "${DATABASE_URL:?set DATABASE_URL (see infra/multi-host/hearth.env.example)}"
: "${REDIS_URL:?set REDIS_URL}"
# HEARTH_SKIP_NPM_INSTALL=1: node_modules is already there (a checkout several "hosts" share must not be reinstalled under them).
if [ "${HEARTH_SKIP_NPM_INSTALL:-}" != 1 ]; then bash infra/install-deps.sh; fi
node --import tsx infra/setup.ts --role=worker
exec node --import tsx worker/main.ts

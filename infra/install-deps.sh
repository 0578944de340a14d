#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null; then
  echo "[hearth] cannot continue: Node.js 20 is required and 'node' is not on PATH" >&2
  exit 2
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "[hearth] cannot continue: Node.js 20 or later is required, found $(node -v)" >&2
  exit 2
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[hearth] installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

#!/usr/bin/env bash
# Installs everything the project needs from its own files: npm packages (package-lock.json), the service build,
# the login page assets, and (unless SKIP_AIRFLOW=1) a Python virtualenv with the pinned Airflow and the plugin.
# Idempotent: re-running skips what is already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

echo "==> building the auth service and login page assets"
npm run -s build

if [ "${SKIP_AIRFLOW:-0}" != "1" ] && [ -f scripts/setup-airflow.sh ]; then
  bash scripts/setup-airflow.sh
fi

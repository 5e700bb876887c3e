#!/usr/bin/env bash
# Installs everything the project needs from its own files: npm packages (package-lock.json), the service build,
# the login page assets, and (unless SKIP_AIRFLOW=1) a Python virtualenv with the pinned Airflow and the plugin.
# Idempotent and quick when nothing changed: each step records a hash of its inputs and is skipped while they are
# the same (node_modules/.install-stamp, node_modules/.build-stamp, .venv/.setup-stamp). Prints the time of each step
# run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

install_stamp=node_modules/.install-stamp
install_inputs="$(node --version) $(inputs_hash package-lock.json)"
if ! stamp_matches "$install_stamp" "$install_inputs"; then
  echo "==> npm ci"
  timed "npm ci" npm ci --no-audit --no-fund --loglevel=error
  printf '%s' "$install_inputs" > "$install_stamp"
fi

# Everything `npm run build` reads: the service's sources and config, and the page assets' source package. The stamp
# is not kept in dist/: `nest build` empties dist/ on every build (`npm run build` by hand, the test run's build step),
# which would make the next setup rebuild for nothing.
build_stamp=node_modules/.build-stamp
build_inputs="$install_inputs $(inputs_hash apps libs tsconfig.json tsconfig.build.json nest-cli.json \
  scripts/build-login-assets.mjs)"
if ! stamp_matches "$build_stamp" "$build_inputs" || [ ! -f dist/apps/auth-service/src/main.js ] ||
  [ ! -f airflow_plugin/src/airflow_webauthn/static/vendor/simplewebauthn-browser.umd.min.js ]; then
  echo "==> building the auth service and login page assets"
  timed "build" npm run -s build
  printf '%s' "$build_inputs" > "$build_stamp"
fi

if [ "${SKIP_AIRFLOW:-0}" != "1" ] && [ -f scripts/setup-airflow.sh ]; then
  bash scripts/setup-airflow.sh
fi

#!/usr/bin/env bash
# Sets up and runs every test: TypeScript typecheck and unit tests, the service end-to-end suite on SQLite and
# again on PostgreSQL, the Airflow plugin's checks and tests, and the cross-component suites (real Airflow, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-browser.sh
exec bash scripts/test-all.sh

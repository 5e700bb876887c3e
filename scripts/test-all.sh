#!/usr/bin/env bash
# Runs every test against an already set-up checkout (scripts/test.sh sets up first). `npm test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${E2E_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
failed=()
step() {
  local name="$1"; shift
  echo
  echo "==> $name"
  if "$@"; then echo "<== $name: ok"; else echo "<== $name: FAILED"; failed+=("$name"); fi
}

step "build" npm run -s build
step "typecheck" npx tsc -p tsconfig.json --noEmit
step "unit tests" npx jest --selectProjects unit
step "service e2e (SQLite)" npx jest --selectProjects e2e --runInBand
step "service e2e (PostgreSQL)" env E2E_DATABASE_URL="$PG_URL" npx jest --selectProjects e2e --runInBand
step "multi-instance (3 service processes, PostgreSQL)" env E2E_DATABASE_URL="$PG_URL" npx jest --selectProjects multi-instance --runInBand
step "OpenAPI schema fuzzing (schemathesis)" bash test/fuzz/run-openapi-fuzz.sh
if [ -x .venv/bin/python ] && [ -f airflow_plugin/pyproject.toml ]; then
  step "plugin lint (ruff)" bash -c "cd airflow_plugin && ../.venv/bin/ruff check . && ../.venv/bin/ruff format --check ."
  step "plugin types (mypy)" bash -c "cd airflow_plugin && ../.venv/bin/mypy src"
  step "plugin unit tests" bash -c "cd airflow_plugin && ../.venv/bin/python -m pytest -q"
fi
if [ -d test/integration ] && [ -x .venv/bin/python ]; then
  step "integration (real Airflow)" .venv/bin/python -m pytest -q test/integration
fi
if [ -d test/integration ] && [ -f airflow_plugin/constraints-3.2.2.txt ]; then
  # The oldest supported Airflow: its own venv (idempotent, fast on a warm uv cache), integration suite only.
  step "integration (real Airflow 3.2.2)" bash -c "scripts/setup-airflow.sh 3.2.2 && .venv-airflow-3.2.2/bin/python -m pytest -q test/integration"
fi
if [ -d test/browser ] && [ -x .venv/bin/python ]; then
  step "browser (real Chromium, real Airflow)" npx jest --selectProjects browser --runInBand
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test suites passed"

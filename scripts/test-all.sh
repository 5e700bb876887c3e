#!/usr/bin/env bash
# Runs every test against an already set-up checkout (scripts/test.sh sets up first). `npm test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${E2E_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
failed=()
step() {
  local name="$1"; shift
  local started=$SECONDS
  echo
  echo "==> $name"
  if "$@"; then echo "<== $name: ok ($((SECONDS - started)) s)"; else echo "<== $name: FAILED ($((SECONDS - started)) s)"; failed+=("$name"); fi
}
# Two steps at once, each output printed whole when both have ended. For suites that mostly wait (on a database,
# on timers), not for CPU: the service e2e suite on SQLite and on PostgreSQL take 4-5 min each alone, about 5 min together.
steps_together() {
  local name_a="$1" cmd_a="$2" name_b="$3" cmd_b="$4" out pid_a pid_b started=$SECONDS
  out="$(mktemp -d)"
  bash -c "$cmd_a" > "$out/a" 2>&1 & pid_a=$!
  bash -c "$cmd_b" > "$out/b" 2>&1 & pid_b=$!
  wait "$pid_a" && rc_a=0 || rc_a=$?
  wait "$pid_b" && rc_b=0 || rc_b=$?
  for part in "a:$name_a:$rc_a" "b:$name_b:$rc_b"; do
    IFS=: read -r file name rc <<< "$part"
    echo
    echo "==> $name (alongside the other)"
    cat "$out/$file"
    if [ "$rc" = 0 ]; then echo "<== $name: ok"; else echo "<== $name: FAILED"; failed+=("$name"); fi
  done
  echo "(both in $((SECONDS - started)) s)"
  rm -rf "$out"
}

# The oldest supported Airflow's venv (the integration suite runs again on it, below): built now, in the background
# (mostly downloads and file copies, idempotent, seconds on a warm uv cache), so it is ready when that run starts.
INTEGRATION_DUAL=0
if [ -d test/integration ] && [ -f airflow_plugin/constraints-3.2.2.txt ]; then
  INTEGRATION_DUAL=1
  venv_322_log="$(mktemp)"
  bash scripts/setup-airflow.sh 3.2.2 > "$venv_322_log" 2>&1 & venv_322_pid=$!
fi

step "build" npm run -s build
step "setup writes nothing outside the checkout" bash scripts/check-setup-stays-in-checkout.sh
step "typecheck" npx tsc -p tsconfig.json --noEmit
step "lint" npm run -s lint
step "unit tests" npx jest --selectProjects unit
steps_together "service e2e (SQLite)" "npx jest --selectProjects e2e --runInBand" \
  "service e2e (PostgreSQL)" "E2E_DATABASE_URL='$PG_URL' npx jest --selectProjects e2e --runInBand"
step "multi-instance (3 service processes, PostgreSQL)" env E2E_DATABASE_URL="$PG_URL" npx jest --selectProjects multi-instance --runInBand
step "OpenAPI schema fuzzing (schemathesis)" bash test/fuzz/run-openapi-fuzz.sh
if [ -x .venv/bin/python ] && [ -f airflow_plugin/pyproject.toml ]; then
  step "plugin lint (ruff)" bash -c "cd airflow_plugin && ../.venv/bin/ruff check . && ../.venv/bin/ruff format --check ."
  step "plugin types (mypy)" bash -c "cd airflow_plugin && ../.venv/bin/mypy src"
  step "plugin unit tests" bash -c "cd airflow_plugin && ../.venv/bin/python -m pytest -q"
  # The example agent is copied by agent authors: it stays lint- and type-clean (the integration suite runs it).
  step "example agent lint and types" bash -c "cd examples/agent && ../../.venv/bin/ruff check . && ../../.venv/bin/ruff format --check . && ../../.venv/bin/mypy"
fi
INTEGRATION=".venv/bin/python -m pytest -q test/integration"
if [ "$INTEGRATION_DUAL" = 1 ]; then
  # The oldest supported Airflow: its own venv (built in the background since the start), and the modules whose
  # outcome depends on Airflow's version: its auth manager interface (roles, per-DAG and team access, menus), its
  # sessions and tokens (airflowctl's included), refusals and fail-closed re-checks, its CLI (`airflow users list`).
  # The rest (provider sign-in, the CLIs, the flood, the contract) exercise our service and plugin the same way on
  # any Airflow, and run once, on 3.3.2.
  VERSIONED_MODULES="test_rest_authorization test_dag_access test_teams test_passkey_login test_login_page test_airflow_tokens test_forged_tokens test_fail_closed test_service_account_disable test_access_review test_airflowctl"
  venv_322_rc=0
  wait "$venv_322_pid" || venv_322_rc=$?
  echo
  echo "==> venv for Airflow 3.2.2 (built in the background): exit $venv_322_rc"
  cat "$venv_322_log"
  rm -f "$venv_322_log"
  INTEGRATION_322="[ $venv_322_rc = 0 ] && .venv-airflow-3.2.2/bin/python -m pytest -q $(printf 'test/integration/%s.py ' $VERSIONED_MODULES)"
fi
if [ "$INTEGRATION_DUAL" = 1 ] && [ -x .venv/bin/python ]; then
  # Both runs at once, each on its own stack (own ports, databases, temporary directories): they mostly wait (on
  # api-servers starting, on re-check intervals and grace periods), and their timing checks keep a slack for a
  # loaded 2-core runner. One after the other they took 591 s + 315 s in CI. To even out the two lanes, the 3.3.2
  # modules that start only a service of their own (no Airflow api-server, no `stack` fixture, so no second stack
  # start) run on 3.3.2 in the second lane, after the 3.2.2 run; every module still runs on 3.3.2, once.
  STACKLESS_MODULES="test_cli_webauthn test_access_review"
  INTEGRATION_A="$INTEGRATION $(printf -- '--ignore=test/integration/%s.py ' $STACKLESS_MODULES)"
  INTEGRATION_B="rc=0; ( $INTEGRATION_322 ) || rc=\$?; echo; echo '--- Airflow 3.3.2: the modules without a stack ---'
    .venv/bin/python -m pytest -q $(printf 'test/integration/%s.py ' $STACKLESS_MODULES) || rc=\$?; exit \$rc"
  steps_together "integration (real Airflow 3.3.2)" "$INTEGRATION_A" \
    "integration (real Airflow 3.2.2, the versioned modules; then 3.3.2, $STACKLESS_MODULES)" "$INTEGRATION_B"
elif [ -d test/integration ] && [ -x .venv/bin/python ]; then
  step "integration (real Airflow)" bash -c "$INTEGRATION"
elif [ "$INTEGRATION_DUAL" = 1 ]; then
  step "integration (real Airflow 3.2.2)" bash -c "$INTEGRATION_322"
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

#!/usr/bin/env bash
# Runs a local Airflow (api-server, dag-processor, scheduler, triggerer) that signs people in with the WebAuthn
# auth manager.
#
# Called by scripts/run.sh as it starts the auth service (this script waits for the service where it needs it),
# with what it needs of the service's settings exported:
#   PORT (the auth service's port), HOST, AIRFLOW_PORT, PUBLIC_URL / JWT_ISSUER, JWT_AUDIENCE
# State lives in ./data: data/airflow (AIRFLOW_HOME: airflow.cfg, SQLite database, logs, a small example DAG
# folder), data/airflow-secrets.env (Airflow's JWT secret, generated once) and data/airflow-service-account.env (the
# client credentials Airflow uses to re-check sessions and run `airflow webauthn ...`, created once with the
# service CLI). Every setting goes into data/airflow/airflow.cfg ([core] auth_manager, [webauthn_auth_manager]),
# so `AIRFLOW_HOME=data/airflow .venv/bin/airflow webauthn ...` works in a new terminal; anything exported as
# AIRFLOW__SECTION__KEY still wins, as always in Airflow. Logs: data/airflow-*.log. SIGTERM (or Ctrl-C when run
# directly) stops the four processes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

: "${PORT:?PORT (the auth service port) must be set; start everything with scripts/run.sh}"
# The service CLI below reads the service's settings (key-encryption key included) from data/service.env.
[ -s data/service.env ] || { printf '[run-airflow] no data/service.env: start everything with scripts/run.sh\n' >&2; exit 1; }
AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
AIRFLOW_BIND="${AIRFLOW_BIND:-127.0.0.1}"
VENV="$ROOT/.venv"
AIRFLOW="$VENV/bin/airflow"
SERVICE_CLI=(node "$ROOT/dist/apps/auth-service/src/cli.js")

log() { printf '[run-airflow] %s\n' "$*" >&2; }
[ -x "$AIRFLOW" ] || { log "no $AIRFLOW: run scripts/setup-airflow.sh first"; exit 1; }

mkdir -p data/airflow/dags data/airflow/logs
umask 077

# ---- the auth manager's view of the auth service (same rules as the service's own defaults) ----
service_host="${HOST:-127.0.0.1}"
[ "$service_host" = "0.0.0.0" ] && service_host=127.0.0.1
service_url="http://127.0.0.1:${PORT}"
issuer="${JWT_ISSUER:-${PUBLIC_URL:-http://${service_host}:${PORT}}}"

# ---- Airflow's own JWT secret: one value for every Airflow process, kept across restarts ----
if [ ! -s data/airflow-secrets.env ]; then
  secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))')
  printf 'AIRFLOW__API_AUTH__JWT_SECRET=%s\n' "$secret" > data/airflow-secrets.env
  log "generated Airflow's JWT secret (data/airflow-secrets.env)"
fi

# ---- service accounts, each created once and re-issued if the service forgot it ----
#   airflow      Airflow's own credential: scope sessions:read (reads session status, can change nothing).
#   airflow-cli  the `airflow webauthn` admin commands' credential: admin group + admin scope. Kept in its own file,
#                never in airflow.cfg or the api-server's environment (`set -a; . data/airflow-cli.env; set +a`).
json_field() { "$VENV/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
credentials_work() {
  local id="${1%%:*}" secret="${1#*:}" code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${service_url}/v1/oauth/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=${id}" \
    --data-urlencode "client_secret=${secret}") || return 1
  [ "$code" = 200 ]
}
# ensure_account NAME FILE VARIABLE CREATE_ARGS...: FILE holds VARIABLE=<clientId>:<clientSecret> (0600).
ensure_account() {
  local name="$1" file="$2" var="$3" current="" out
  shift 3
  [ -s "$file" ] && current=$(sed -n "s/^${var}=//p" "$file")
  if [ -n "$current" ] && credentials_work "$current"; then return 0; fi
  if out=$("${SERVICE_CLI[@]}" service-account create --name "$name" "$@" --json 2>>data/airflow-setup.log); then
    log "created service account '$name' ($*)"
  else
    # It exists but its secret is not the one we have (e.g. the file was removed).
    out=$("${SERVICE_CLI[@]}" service-account rotate-secret "$name" --json 2>>data/airflow-setup.log) \
      || { log "could not create the '$name' service account; see data/airflow-setup.log"; exit 1; }
    log "issued a new secret for service account '$name'"
  fi
  printf '%s=%s:%s\n' "$var" "$(json_field clientId <<<"$out")" "$(json_field clientSecret <<<"$out")" > "$file"
  chmod 600 "$file"
}
ensure_accounts() {
  ensure_account airflow data/airflow-service-account.env AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_CREDENTIALS \
    --scopes sessions:read
  ensure_account airflow-cli data/airflow-cli.env AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS \
    --groups airflow-admins --scopes admin
}
# run.sh starts this script as soon as it has started the service, not once the service listens: wait for it here.
wait_for_service() {
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "${service_url}/readyz" 2>/dev/null && return 0
    sleep 0.25
  done
  log "the auth service did not answer at ${service_url}/readyz"
  exit 1
}

# ---- a tiny example DAG folder, so the DAG list shows something without loading Airflow's 80 examples ----
if [ ! -e data/airflow/dags/webauthn_hello.py ]; then
  cat > data/airflow/dags/webauthn_hello.py <<'PY'
"""Example DAG written by scripts/run-airflow.sh (delete it freely; it is not recreated while the folder has it)."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, tags=["example"])
def webauthn_hello():
    @task
    def hello() -> str:
        return "signed in with a passkey"

    @task
    def show(message: str) -> None:
        print(message)

    show(hello())


webauthn_hello()
PY
fi

# ---- Airflow's configuration, in airflow.cfg (the environment still overrides it; anything exported wins) ----
export AIRFLOW_HOME="$ROOT/data/airflow"
write_airflow_cfg() {
  local jwt_secret service_credentials
  jwt_secret=$(sed -n 's/^AIRFLOW__API_AUTH__JWT_SECRET=//p' data/airflow-secrets.env)
  service_credentials=$(sed -n 's/^AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_CREDENTIALS=//p' data/airflow-service-account.env)
  # Only the keys below are set; anything else in airflow.cfg (an admin's own settings) is kept.
  CFG_DAGS_FOLDER="$AIRFLOW_HOME/dags" \
  CFG_EXECUTION_API_SERVER_URL="http://localhost:${AIRFLOW_PORT}/execution/" \
  CFG_JWT_SECRET="$jwt_secret" \
  CFG_SERVICE_URL="$service_url" \
  CFG_ISSUER="$issuer" \
  CFG_AUDIENCE="${JWT_AUDIENCE:-airflow}" \
  CFG_SERVICE_CREDENTIALS="$service_credentials" \
  "$VENV/bin/python" - "$AIRFLOW_HOME/airflow.cfg" <<'PY'
"""Sets the demo's settings in airflow.cfg, keeping every other section and key."""
import configparser
import json
import os
import sys

path = sys.argv[1]
cfg = configparser.ConfigParser(interpolation=None)
cfg.optionxform = str  # keep keys as written
cfg.read(path)
env = os.environ
managed = {
    "core": {
        "auth_manager": "airflow_webauthn.auth_manager.WebAuthnAuthManager",
        "dags_folder": env["CFG_DAGS_FOLDER"],
        "load_examples": "False",
        # A local demo: a handful of LocalExecutor workers instead of Airflow's default 32.
        "parallelism": "4",
        "execution_api_server_url": env["CFG_EXECUTION_API_SERVER_URL"],
    },
    "api_auth": {"jwt_secret": env["CFG_JWT_SECRET"]},
    "webauthn_auth_manager": {
        "service_url": env["CFG_SERVICE_URL"],
        "issuer": env["CFG_ISSUER"],
        "audience": env["CFG_AUDIENCE"],
        "service_credentials": env["CFG_SERVICE_CREDENTIALS"],
    },
}
defaults = {
    "webauthn_auth_manager": {
        "role_mapping": json.dumps(
            {"airflow-admins": "ADMIN", "airflow-ops": "OP", "airflow-users": "USER", "airflow-viewers": "VIEWER"}
        ),
    },
}
for section, values in managed.items():
    if not cfg.has_section(section):
        cfg.add_section(section)
    for key, value in values.items():
        # Airflow reads airflow.cfg with %-interpolation: a literal % must be doubled.
        cfg.set(section, key, value.replace("%", "%%"))
for section, values in defaults.items():
    for key, value in values.items():
        if not cfg.has_option(section, key):
            cfg.set(section, key, value)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    out.write("# Written by scripts/run-airflow.sh: it sets [core] auth_manager and the [webauthn_auth_manager] keys\n")
    out.write("# on every start and keeps everything else. Holds secrets: keep it private.\n")
    cfg.write(out)
PY
}

# Migrations depend only on Airflow's version: skip them (about 10 s) while the database was migrated by this one.
migrate_if_needed() {
  local migrate_stamp="$AIRFLOW_HOME/.db-migrate-stamp" airflow_version started
  airflow_version=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("apache-airflow"))')
  if [ -f "$AIRFLOW_HOME/airflow.db" ] && [ "$(cat "$migrate_stamp" 2>/dev/null)" = "$airflow_version" ]; then
    log "Airflow's database is migrated for $airflow_version (data/airflow/airflow.db)"
    return 0
  fi
  log "migrating Airflow's database (data/airflow/airflow.db)"
  started=$SECONDS
  "$AIRFLOW" db migrate >> data/airflow-db-migrate.log 2>&1 || { log "airflow db migrate failed; see data/airflow-db-migrate.log"; exit 1; }
  printf '%s' "$airflow_version" > "$migrate_stamp"
  log "migrated in $((SECONDS - started)) s"
}

# ---- start the three processes, each in its own session so stopping one group stops its workers too ----
pids=()
stopping=0
stop_all() {  # TERM every process group, give them 20 s, then KILL whatever is left
  [ "$stopping" = 1 ] && return
  stopping=1
  # A second TERM (a supervisor signalling the whole process group, then run.sh forwarding it) must not cut the
  # shutdown short and leave Airflow running: ignore further signals until everything has stopped.
  trap '' TERM INT
  [ ${#pids[@]} -eq 0 ] && return
  log "stopping Airflow"
  local pid watchdog
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  (
    trap 'exit 0' TERM
    for _ in $(seq 1 100); do sleep 0.2; done
    for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  ) &
  watchdog=$!
  wait "${pids[@]}" 2>/dev/null || true
  kill -TERM "$watchdog" 2>/dev/null || true
  # Leaders are gone; remove any worker they left behind in their groups.
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 130' INT
trap 'stop_all' EXIT

start() {  # start NAME ARGS...: background, own session, log in data/airflow-NAME.log
  local name="$1"; shift
  setsid "$AIRFLOW" "$@" >> "data/airflow-${name}.log" 2>&1 < /dev/null &
  pids+=($!)
}
start_api_server() { start api-server api-server --host "$AIRFLOW_BIND" --port "$AIRFLOW_PORT"; }

# The api-server first, alone: the four importing Airflow at once on a small machine slow its start (the URL)
# several times over; the others start once it answers.
# A restart (warm: both service accounts' files are there) starts it at once, while the auth service is still
# starting: it spends its first seconds importing Airflow and reaches the service later (its credential check).
# The accounts are verified meanwhile; if the service had forgotten Airflow's, it gets a new secret and the
# api-server is started again with it. A first start creates the accounts first.
if [ -s data/airflow-service-account.env ] && [ -s data/airflow-cli.env ]; then
  write_airflow_cfg
  migrate_if_needed
  start_api_server
  given=$(cat data/airflow-service-account.env)
  wait_for_service
  ensure_accounts
  if [ "$(cat data/airflow-service-account.env)" != "$given" ]; then
    log "restarting the api-server with Airflow's new service-account secret"
    write_airflow_cfg
    kill -TERM -- "-${pids[0]}" 2>/dev/null || true
    wait "${pids[0]}" 2>/dev/null || true
    pids=()
    start_api_server
  fi
else
  wait_for_service
  ensure_accounts
  write_airflow_cfg
  migrate_if_needed
  start_api_server
fi

alive() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') && [ -n "$state" ] && [ "${state:0:1}" != Z ]; }
health="http://127.0.0.1:${AIRFLOW_PORT}/api/v2/monitor/health"
[ "$AIRFLOW_BIND" != 0.0.0.0 ] && [ "$AIRFLOW_BIND" != 127.0.0.1 ] && health="http://${AIRFLOW_BIND}:${AIRFLOW_PORT}/api/v2/monitor/health"
for _ in $(seq 1 360); do
  curl -fsS "$health" >/dev/null 2>&1 && break
  alive "${pids[0]}" || { log "the api-server exited; see data/airflow-api-server.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$health" >/dev/null 2>&1 || { log "Airflow did not answer ${health} in 180 s; see data/airflow-api-server.log"; exit 1; }
start dag-processor dag-processor
start scheduler scheduler
# Deferrable operators and sensors run here; without it Airflow's health shows the triggerer as unhealthy.
start triggerer triggerer
log "Airflow is up: http://localhost:${AIRFLOW_PORT} (logs: data/airflow-{api-server,dag-processor,scheduler,triggerer}.log)"

# Run until stopped; if one of the processes dies, stop the others and report it.
set +e
wait -n "${pids[@]}"
status=$?
if [ "$stopping" = 0 ]; then
  log "an Airflow process exited (status $status); stopping the others. See data/airflow-*.log"
  exit 1
fi

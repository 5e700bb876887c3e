#!/usr/bin/env bash
# Sets up and runs the whole product locally on SQLite: the auth service and (once the plugin is installed) a real
# Airflow (api-server, scheduler, dag-processor, triggerer) using the WebAuthn auth manager. Prints the Airflow URL
# and, until the first admin has enrolled, an enrollment link. Safe to run again on existing data.
#
#   scripts/run.sh            set up and run everything in the foreground (Ctrl-C stops everything)
#   scripts/run.sh service    restart only the auth service of a running demo (after editing data/service.env
#                             or rebuilding); Airflow keeps running
#
# State lives in ./data; delete it to start over:
#   data/service.env       the service's configuration (key-encryption key included), written once; the service
#                          and its CLI read it by default: `npm run -s cli -- users list` works in any terminal
#   data/auth.sqlite       the service's database;  data/auth-service.log its log
#   data/airflow/          AIRFLOW_HOME (airflow.cfg names the auth manager and its settings)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODE="${1:-all}"
case "$MODE" in
  all | service) ;;
  *) echo "usage: scripts/run.sh [service]" >&2; exit 2 ;;
esac

SERVICE_ENV=data/service.env
SERVICE_PID=data/auth-service.pid
RUN_PID=data/run.pid
SERVICE_LOG=data/auth-service.log
FIRST_ADMIN=data/.first-admin.txt # the first-admin lines, made while Airflow starts (a one-time link: private)

# The service CLI straight from the build (not through npm, which writes its logs under ~/.npm).
SERVICE_CLI=(node dist/apps/auth-service/src/cli.js)
STARTED=$SECONDS

log() { printf '[run] %s\n' "$*" >&2; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
# The pid in a pid file, if that process is still the one we started (pids are reused).
pid_from() {
  local file="$1" pattern="$2" pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" && echo "$pid"
  return 0
}

# ---- the service's configuration: one file for the service, its CLI and this script ----
write_service_env() {
  local kek
  if [ -s data/secrets.env ]; then
    # A checkout run before data/service.env existed: keep its key, or the stored signing keys become unreadable.
    kek=$(sed -n 's/^KEY_ENCRYPTION_KEY=//p' data/secrets.env)
  else
    kek=$(node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))")
  fi
  local airflow_port="${AIRFLOW_PORT:-8080}"
  cat > "$SERVICE_ENV" <<EOF
# The auth service's configuration for this demo, written once by scripts/run.sh (edit it freely, then
# scripts/run.sh service). Read by the service and by \`npm run -s cli -- ...\` from this checkout; a variable set
# in the environment beats this file. Keep it secret: KEY_ENCRYPTION_KEY opens the token signing keys.
KEY_ENCRYPTION_KEY=${kek}
HOST=127.0.0.1
PORT=${AUTH_SERVICE_PORT:-3000}
DATABASE_URL=${DATABASE_URL:-${ROOT}/data/auth.sqlite}
WEBAUTHN_RP_ID=localhost
WEBAUTHN_ORIGINS=http://localhost:${airflow_port}
LOG_FORMAT=text
EOF
  chmod 600 "$SERVICE_ENV"
  log "wrote $SERVICE_ENV"
}

stop_service() {
  local pid
  pid=$(pid_from "$SERVICE_PID" 'auth-service/src/main.js')
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  rm -f "$SERVICE_PID"
}

# spawn_service, then await_service: started, then listening (`run.sh` starts Airflow in between).
service_offset=0
spawn_service() {
  service_offset=$(($(stat -c %s "$SERVICE_LOG" 2>/dev/null || echo 0) + 1))
  # Own session: Ctrl-C in this terminal reaches it through our trap, and `run.sh service` can replace it.
  # Same heap cap as `npm start`: keeps the service under 200 MB RSS under load (bench/README.md).
  setsid node --max-old-space-size=128 --max-semi-space-size=8 dist/apps/auth-service/src/main.js --env-file "$SERVICE_ENV" >> "$SERVICE_LOG" 2>&1 < /dev/null &
  echo "$!" > "$SERVICE_PID"
}

await_service() {
  local offset="$service_offset" pid
  pid=$(cat "$SERVICE_PID")
  # Ready when *this* process says it listens (another program on the port must not pass for it).
  for _ in $(seq 1 120); do
    tail -c +"$offset" "$SERVICE_LOG" | grep -q 'listening on' && break
    alive "$pid" || break
    sleep 0.5
  done
  if ! alive "$pid" || ! tail -c +"$offset" "$SERVICE_LOG" | grep -q 'listening on'; then
    log "the auth service did not start:"
    tail -c +"$offset" "$SERVICE_LOG" | tail -n 5 >&2
    return 1
  fi
  echo "auth service: http://127.0.0.1:${PORT} (API docs at /docs, log in $SERVICE_LOG, pid $pid)"
}

start_service() { spawn_service && await_service; }

# A setting as the service sees it: the environment's value when set, else the one in data/service.env.
setting() {
  local name="$1" value="${!1:-}"
  if [ -z "$value" ]; then
    value=$(sed -n "s/^${name}=//p" "$SERVICE_ENV" | tail -n 1)
    value="${value%\"}"
    value="${value#\"}"
  fi
  printf '%s' "$value"
}

mkdir -p data
umask 077
[ -s "$SERVICE_ENV" ] || { [ "$MODE" = all ] && write_service_env; } || { log "no $SERVICE_ENV: start the demo with scripts/run.sh first"; exit 1; }
# What this script and run-airflow.sh need to know; the service and the CLI read the file themselves.
for name in PORT HOST PUBLIC_URL JWT_ISSUER JWT_AUDIENCE WEBAUTHN_ORIGINS; do
  value=$(setting "$name")
  if [ -n "$value" ]; then export "$name=$value"; fi
done
PORT="${PORT:-3000}"

if [ "$MODE" = service ]; then
  [ -f dist/apps/auth-service/src/main.js ] || { log "not built: run npm run build"; exit 1; }
  stop_service
  start_service
  [ -n "$(pid_from "$RUN_PID" 'scripts/run.sh')" ] ||
    echo "(no ./scripts/run.sh is running: the service stays in the background; stop it with: kill \$(cat $SERVICE_PID))"
  exit
fi

# ---- the whole demo ----
running=$(pid_from "$RUN_PID" 'scripts/run.sh')
if [ -n "$running" ]; then
  log "already running (pid $running): stop it with Ctrl-C in its terminal, or restart only the service with scripts/run.sh service"
  exit 1
fi
echo $$ > "$RUN_PID"

bash scripts/setup.sh
log "set up in $((SECONDS - STARTED)) s"

airflow_pid=""
first_admin_pid=""
cleanup() {
  trap '' INT TERM
  if [ -n "$first_admin_pid" ]; then wait "$first_admin_pid" 2>/dev/null || true; fi
  rm -f "$FIRST_ADMIN"
  if alive "$airflow_pid"; then
    kill -TERM "$airflow_pid" 2>/dev/null || true
    wait "$airflow_pid" 2>/dev/null || true
  fi
  stop_service
  rm -f "$RUN_PID"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No separate `migrate`: the service brings its schema up to date before it listens (one Node start fewer).
stop_service # a service left behind by a run that was killed hard
spawn_service

AIRFLOW_PORT="${WEBAUTHN_ORIGINS##*:}"
export AIRFLOW_PORT
# Airflow starts with the service, not after it: its api-server spends its first seconds importing Airflow, and
# run-airflow.sh waits for the service where it needs it.
if [ -x .venv/bin/airflow ] && [ -f scripts/run-airflow.sh ]; then
  bash scripts/run-airflow.sh &
  airflow_pid=$!
fi
await_service

# The first admin: an invite until they have a passkey, then nothing to do (a second run must not fail here). Two
# service CLI runs (about 3 s each on a busy machine), made while Airflow starts instead of after it; printed once
# Airflow answers.
first_admin() {
  local passkeys invite
  passkeys=$( ("${SERVICE_CLI[@]}" users show admin --json 2>/dev/null || true) | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{process.stdout.write(String(JSON.parse(s).passkeys.filter(p=>!p.revokedAt).length))}catch{process.stdout.write('0')}})" || true)
  if [ "$passkeys" = 0 ]; then
    invite=$("${SERVICE_CLI[@]}" invite create --username admin --display-name "Airflow admin" --groups airflow-admins --json)
    echo "First-admin invite: $(node -e "process.stdout.write(JSON.parse(process.argv[1]).url)" "$invite")"
    echo "(open the invite link in a browser to enroll a passkey)"
  else
    echo "First admin:        'admin' has a passkey: sign in at the URL above"
  fi
}
first_admin > "$FIRST_ADMIN" &
first_admin_pid=$!

if [ -n "$airflow_pid" ]; then
  # Print the links only once Airflow answers: the first start (migrations, DAG parsing) takes a while.
  for _ in $(seq 1 480); do
    curl -fsS "http://127.0.0.1:${AIRFLOW_PORT}/api/v2/monitor/health" >/dev/null 2>&1 && break
    alive "$airflow_pid" || { log "Airflow did not start; see data/airflow-*.log"; exit 1; }
    sleep 0.5
  done
fi

echo
echo "Airflow:            http://localhost:${AIRFLOW_PORT}   (ready in $((SECONDS - STARTED)) s)"
wait "$first_admin_pid" || { log "could not create the first-admin invite (see the output above)"; exit 1; }
first_admin_pid=""
cat "$FIRST_ADMIN"
rm -f "$FIRST_ADMIN"
echo "Administer:         npm run -s cli -- --help   |   (set -a; . data/airflow-cli.env; AIRFLOW_HOME=$ROOT/data/airflow .venv/bin/airflow-webauthn --help)"
echo "Restart the service: scripts/run.sh service     (Ctrl-C stops everything)"

# Run until stopped. The service may be replaced by `run.sh service`, so watch Airflow, and say once if the
# service is gone.
said=0
while :; do
  if [ -n "$airflow_pid" ] && ! alive "$airflow_pid"; then
    log "Airflow stopped; see data/airflow-*.log"
    exit 1
  fi
  if [ -z "$(pid_from "$SERVICE_PID" 'auth-service/src/main.js')" ]; then
    [ "$said" = 1 ] || log "the auth service is not running (see $SERVICE_LOG); start it again with scripts/run.sh service"
    said=1
  else
    said=0
  fi
  sleep 2 &
  wait $! || true
done

#!/usr/bin/env bash
# Sets up and runs the whole product locally on SQLite: the auth service and (once the plugin is installed) a real
# Airflow api-server using the WebAuthn auth manager. Prints the Airflow URL and a first-admin enrollment link.
# State lives in ./data (SQLite files, the generated key-encryption key); delete it to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

mkdir -p data
umask 077
# A key-encryption key is generated once per checkout, never shipped: the service refuses to start without one.
if [ ! -f data/secrets.env ]; then
  echo "KEY_ENCRYPTION_KEY=$(node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))")" > data/secrets.env
fi
set -a
# shellcheck disable=SC1091
. data/secrets.env
AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
PORT="${AUTH_SERVICE_PORT:-3000}"
HOST=127.0.0.1
DATABASE_URL="${DATABASE_URL:-./data/auth.sqlite}"
WEBAUTHN_RP_ID=localhost
WEBAUTHN_ORIGINS="http://localhost:${AIRFLOW_PORT}"
LOG_FORMAT="${LOG_FORMAT:-text}"
set +a

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

npm run -s cli -- migrate >/dev/null
# Same heap cap as `npm start`: keeps the service under 200 MB RSS under load (bench/README.md).
node --max-old-space-size=128 dist/apps/auth-service/src/main.js > data/auth-service.log 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:${PORT}/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "http://127.0.0.1:${PORT}/readyz" >/dev/null || { echo "auth service did not start; see data/auth-service.log"; exit 1; }
echo "auth service: http://127.0.0.1:${PORT} (API docs at /docs, log in data/auth-service.log)"

if [ -x .venv/bin/airflow ] && [ -f scripts/run-airflow.sh ]; then
  bash scripts/run-airflow.sh &
  pids+=($!)
  # Print the links only once Airflow answers: the first start (migrations, DAG parsing) takes a while.
  for _ in $(seq 1 240); do
    curl -fsS "http://127.0.0.1:${AIRFLOW_PORT}/api/v2/monitor/health" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "Airflow did not start; see data/airflow-*.log"; exit 1; }
    sleep 1
  done
fi

invite=$(npm run -s cli -- invite create --username admin --display-name "Airflow admin" --groups airflow-admins --json)
url=$(node -e "process.stdout.write(JSON.parse(process.argv[1]).url)" "$invite")
echo
echo "Airflow:            http://localhost:${AIRFLOW_PORT}"
echo "First-admin invite: ${url}"
echo "(open the invite link in a browser to enroll a passkey; Ctrl-C stops everything)"
wait

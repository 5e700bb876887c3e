#!/usr/bin/env bash
# Schema fuzzing of the auth service's OpenAPI document (/docs/openapi.json) with schemathesis: every operation,
# anonymous and with an admin service account's token, on a throwaway SQLite database. Fails on any 5xx, any
# status the document does not declare, and any response that does not match its declared schema or type.
# Needs `npm run build` first; installs schemathesis (pinned in test/fuzz/requirements.txt) into .venv-fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."

. scripts/lib.sh
if [ ! -x .venv-fuzz/bin/schemathesis ] || [ test/fuzz/requirements.txt -nt .venv-fuzz/bin/schemathesis ]; then
  uv="$(ensure_uv)"
  "$uv" venv -q --allow-existing -p python3.11 .venv-fuzz
  VIRTUAL_ENV=.venv-fuzz "$uv" pip install -q --python .venv-fuzz/bin/python -r test/fuzz/requirements.txt
  touch .venv-fuzz/bin/schemathesis
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export NODE_ENV=test DATABASE_URL="$work/auth.sqlite" KEY_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" \
  WEBAUTHN_RP_ID=localhost WEBAUTHN_ORIGINS=http://localhost:8080 PUBLIC_URL="http://127.0.0.1:$port" \
  PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn RATE_LIMIT_PER_MINUTE=0
node dist/apps/auth-service/src/main.js >"$work/service.log" 2>&1 &
service=$!
cleanup() { kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "service did not start:"; cat "$work/service.log"; exit 1; }

account=$(node dist/apps/auth-service/src/cli.js service-account create --name fuzz-admin --groups airflow-admins --scopes admin --json)
client_id=$(node -e 'console.log(JSON.parse(process.argv[1]).clientId)' "$account")
client_secret=$(node -e 'console.log(JSON.parse(process.argv[1]).clientSecret)' "$account")
token() {
  curl -fs -d grant_type=client_credentials --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" \
    "http://127.0.0.1:$port/v1/oauth/token" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))'
}

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# From the throwaway directory: schemathesis keeps a cache (.schemathesis/) in its working directory.
fuzzer="$PWD/.venv-fuzz/bin/schemathesis"
st() { (cd "$work" && "$fuzzer" run "http://127.0.0.1:$port/docs/openapi.json" --checks "$checks" --workers 1 \
  --max-examples "${FUZZ_EXAMPLES:-15}" --max-time "${FUZZ_SECONDS:-45}" --seed 1 "$@"); }

echo "==> anonymous, every operation"
st
# The fuzzer's own account must stay usable: it may not disable itself or rotate its own secret away.
echo "==> as an admin service account, every operation but those that would lock the fuzzer out"
st -H "Authorization: Bearer $(token)" --exclude-path-regex '/(disable|rotate-secret)$'
if grep -E '"level":"error"|\bERROR\b' "$work/service.log" | grep -v 'RequestLog' >/dev/null; then
  echo "the service logged errors during fuzzing:"; grep -E '"level":"error"|\bERROR\b' "$work/service.log" | head -20; exit 1
fi
echo "openapi fuzz: no server errors, every answer as documented"

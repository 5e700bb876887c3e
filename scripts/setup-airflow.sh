#!/usr/bin/env bash
# Create (or update) the repository's Python environment for the Airflow side:
#   .venv/ at the repository root with apache-airflow 3.3.2 (pinned by airflow_plugin/constraints-3.3.2.txt)
#   and the airflow-webauthn plugin installed editable with its dev tools.
# `scripts/setup-airflow.sh 3.2.2` builds .venv-airflow-3.2.2/ instead (another supported version, pinned by
# airflow_plugin/constraints-3.2.2.txt), where CI runs the integration suite a second time.
# Idempotent: skipped while its inputs are unchanged (.venv/.setup-stamp); fast on a warm uv cache. uv comes from
# the project's own .venv-tools/ (scripts/lib.sh), never from the user's site.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PYTHON="${PYTHON:-python3.11}"
DEFAULT_VERSION="3.3.2"
AIRFLOW_VERSION="${1:-$DEFAULT_VERSION}"
if [[ "$AIRFLOW_VERSION" == "$DEFAULT_VERSION" ]]; then
    VENV_DIR="$REPO_ROOT/.venv"
else
    VENV_DIR="$REPO_ROOT/.venv-airflow-${AIRFLOW_VERSION}"
fi
CONSTRAINTS="airflow_plugin/constraints-${AIRFLOW_VERSION}.txt"
if [[ ! -f "$CONSTRAINTS" ]]; then
    echo "[setup-airflow] no $CONSTRAINTS: supported versions are $(cd airflow_plugin && ls constraints-*.txt | sed 's/constraints-//; s/.txt//' | tr '\n' ' ')" >&2
    exit 2
fi

log() { printf '[setup-airflow] %s\n' "$*" >&2; }
. scripts/lib.sh
UV="$(ensure_uv)"

# Reinstall only when an input changed: the Airflow version and its pinned set, the plugin's metadata (its sources
# are installed editable), the venv's Python and uv versions, and how the venv is laid out ("bytecode": compiled).
STAMP="$VENV_DIR/.setup-stamp"
INPUTS="$AIRFLOW_VERSION uv $UV_VERSION bytecode $(inputs_hash "$CONSTRAINTS" airflow_plugin/pyproject.toml)"
if [[ -x "$VENV_DIR/bin/python" ]] && stamp_matches "$STAMP" "$INPUTS $("$VENV_DIR/bin/python" --version 2>&1)"; then
    log "up to date: $VENV_DIR"
    exit 0
fi

if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    log "creating $VENV_DIR with $PYTHON"
    timed "python venv" "$UV" venv --quiet -p "$PYTHON" "$VENV_DIR"
else
    log "reusing $VENV_DIR"
fi

log "installing apache-airflow==${AIRFLOW_VERSION} and airflow_plugin[dev] (constraints: $CONSTRAINTS)"
VIRTUAL_ENV="$VENV_DIR" timed "airflow + plugin install" "$UV" pip install --quiet \
    --python "$VENV_DIR/bin/python" \
    -c "$CONSTRAINTS" \
    "apache-airflow==${AIRFLOW_VERSION}" \
    -e "./airflow_plugin[dev]"
# uv installs no bytecode, and with PYTHONDONTWRITEBYTECODE set (common in containers) Python never writes it either:
# every Airflow process then compiles some 2,000 modules again on start (about 14 of the api-server's 30 s on a busy
# machine; 5 s of every `airflow` command). Compile them once here. Not uv's --compile-bytecode: it compiles only
# when it installs something, so a venv made before would stay without.
timed "bytecode" "$VENV_DIR/bin/python" -m compileall -q -j 0 \
    "$("$VENV_DIR/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null ||
    log "some installed files do not compile (they are not importable either); carrying on"
printf '%s' "$INPUTS $("$VENV_DIR/bin/python" --version 2>&1)" > "$STAMP"

# Versions from the installed metadata: importing airflow here would create ~/airflow when AIRFLOW_HOME is unset.
log "done: $("$VENV_DIR/bin/python" -c 'from importlib.metadata import version as v
print("airflow", v("apache-airflow"), "+ airflow_webauthn", v("airflow-webauthn"))')"
log "activate with: source .venv/bin/activate"

#!/usr/bin/env bash
# Create (or update) the repository's Python environment for the Airflow side:
#   .venv/ at the repository root with apache-airflow 3.3.2 (pinned by airflow_plugin/constraints-3.3.2.txt)
#   and the airflow-webauthn plugin installed editable with its dev tools.
# `scripts/setup-airflow.sh 3.2.2` builds .venv-airflow-3.2.2/ instead (another supported version, pinned by
# airflow_plugin/constraints-3.2.2.txt), where CI runs the integration suite a second time.
# Idempotent: re-running only installs what changed. Fast on a warm uv cache.
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

if ! command -v uv >/dev/null 2>&1; then
    log "uv not found; installing it with pip (user site)"
    "$PYTHON" -m pip install --user --quiet uv
    export PATH="$HOME/.local/bin:$PATH"
fi

if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    log "creating $VENV_DIR with $PYTHON"
    uv venv --quiet -p "$PYTHON" "$VENV_DIR"
else
    log "reusing $VENV_DIR"
fi

log "installing apache-airflow==${AIRFLOW_VERSION} and airflow_plugin[dev] (constraints: $CONSTRAINTS)"
VIRTUAL_ENV="$VENV_DIR" uv pip install --quiet \
    --python "$VENV_DIR/bin/python" \
    -c "$CONSTRAINTS" \
    "apache-airflow==${AIRFLOW_VERSION}" \
    -e "./airflow_plugin[dev]"

log "done: $("$VENV_DIR/bin/python" -c 'import airflow, airflow_webauthn; print("airflow", airflow.__version__, "+ airflow_webauthn", airflow_webauthn.__version__)')"
log "activate with: source .venv/bin/activate"

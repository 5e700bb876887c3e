# Shared by the setup scripts (source it): the project's own tools, step timing and input stamps.
#
# Nothing here writes outside the checkout: uv lives in .venv-tools/ (a venv made with the system's python3.11,
# uv pinned below), never in ~/.local; uv may not download a Python (it uses python3.11 from PATH). Only the package
# managers' download caches (npm's ~/.npm, uv's ~/.cache/uv) are written on a cold install; a warm run skips both.

UV_VERSION=0.13.10
TOOLS_VENV=.venv-tools
export UV_PYTHON_DOWNLOADS=never
# pip runs only inside our venvs: no root warning, no version check, no cache in HOME.
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# npm writes a debug log of every run (even `npm run build`) under ~/.npm/_logs: keep those in the checkout too.
export npm_config_logs_dir="$PWD/.run/npm-logs"

# timed NAME COMMAND...: runs the command and prints how long it took (the cold start's figures by step).
timed() {
  local name="$1" started=$SECONDS
  shift
  "$@"
  printf '[setup] %s: %d s\n' "$name" "$((SECONDS - started))" >&2
}

# inputs_hash PATH...: one sha256 over the names and contents of the given files (directories walked), so a stamp
# changes when any input does, whatever the file times say (a checkout, a copy or a touch do not fool it).
inputs_hash() {
  find "$@" -type f -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-64
}

# stamp_matches FILE VALUE: the last successful run of a step recorded VALUE in FILE.
stamp_matches() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# ensure_uv: prints the path of the project's uv, installing the pinned version into .venv-tools/ once.
ensure_uv() {
  local python="${PYTHON:-python3.11}" uv="$PWD/$TOOLS_VENV/bin/uv"
  if [ ! -x "$uv" ] || [ "$("$uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    printf '[setup] installing uv %s into %s/\n' "$UV_VERSION" "$TOOLS_VENV" >&2
    "$python" -m venv --clear "$TOOLS_VENV" >&2
    "$TOOLS_VENV/bin/pip" install --quiet "uv==$UV_VERSION" >&2
  fi
  printf '%s' "$uv"
}

#!/usr/bin/env bash
# Checks that the setup writes nothing outside the checkout: runs scripts/setup.sh with a new, empty HOME and no
# user-site tools on PATH (no ~/.local/bin), then fails if anything appeared in that HOME. Run it on a set-up
# checkout (CI runs it after the setup, in scripts/test-all.sh): every step is then skipped by its stamp, which is
# also what this proves, in a few seconds (a warm setup that rebuilt or reinstalled something would show here).
set -euo pipefail
cd "$(dirname "$0")/.."

fresh_home="$(mktemp -d)"
trap 'rm -rf "$fresh_home"' EXIT
# PATH without the user's own bin directories, so a uv (or anything else) installed there cannot be relied on.
clean_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '/\.local/bin$' | paste -sd: -)"
started=$SECONDS
HOME="$fresh_home" PATH="$clean_path" XDG_CACHE_HOME="" XDG_CONFIG_HOME="" XDG_DATA_HOME="" bash scripts/setup.sh
took=$((SECONDS - started))

written="$(cd "$fresh_home" && find . -mindepth 1 | sort)"
if [ -n "$written" ]; then
  echo "the setup wrote outside the checkout (in a fresh HOME):" >&2
  printf '%s\n' "$written" | head -n 20 >&2
  exit 1
fi
echo "setup on a fresh HOME: nothing written outside the checkout (${took} s)"

#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it:
# the Python suite (unit, CLI, real server over stdio, real plugin runs, Neovim)
# and, when present, the VS Code client's own tests and its end-to-end test.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN=${PYTHON:-python3}
VENV=${DIFY_LSP_TEST_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON_BIN" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[test]'

# pytest exits non-zero on any failure, and with 5 when no test ran: both fail here.
"$VENV/bin/python" -m pytest -p no:cacheprovider "$@"

if [ -f vscode-client/scripts/ci.sh ] && [ "${DIFY_LSP_SKIP_VSCODE:-0}" != "1" ]; then
  DIFY_LSP_PYTHON_FOR_CLIENT="$(pwd)/$VENV/bin/python" bash vscode-client/scripts/ci.sh
fi

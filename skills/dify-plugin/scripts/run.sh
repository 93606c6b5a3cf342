#!/usr/bin/env bash
# Run one part of a plugin offline, as the Dify daemon does, with a mock model answering its self.session calls.
#   run.sh PLUGIN --tool NAME --param k=v ...
#   run.sh PLUGIN --endpoint 'POST /path' --header 'Content-Type: application/json' --body '{...}' --setting k=v
#   run.sh PLUGIN --strategy NAME | --model TYPE/NAME --prompt TEXT | --datasource NAME | --trigger dispatch
# Prints the structured result (JSON): status, messages / summary, transcript of reverse invocations, logs, error
# with the plugin's traceback. Exit 0: success; 1: the plugin failed or timed out; 2: usage error.
set -uo pipefail
. "$(dirname "$0")/_dify_lsp.sh"
[ $# -ge 2 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dify_lsp run "$@" --format json

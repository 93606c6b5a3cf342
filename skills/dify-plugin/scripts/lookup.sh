#!/usr/bin/env bash
# Look things up before writing them:
#   lookup.sh rule DL207                      what a finding code means, how to silence it
#   lookup.sh session model.llm.invoke        a self.session.* method: signature, parameters, return, permission
#   lookup.sh yaml tool parameters.scope      a YAML key of a file kind (or: yaml FILE.yaml KEY)
#   lookup.sh parts PLUGIN                    a plugin's providers, tools, models, endpoints... and what can run
# Prints JSON; exit 2 with the reason when the thing does not exist.
set -uo pipefail
. "$(dirname "$0")/_dify_lsp.sh"
json() { python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }
what="${1:-}"; shift || true
case "$what" in
  rule)    [ $# -eq 1 ] && exec "${DIFY_LSP_CMD[@]}" mcp --call explain_rule --args "$(json code "$1")" ;;
  session) [ $# -le 1 ] && exec "${DIFY_LSP_CMD[@]}" mcp --call session_api --args "$(json name "${1:-}")" ;;
  yaml)    if [ $# -ge 1 ] && [ -f "$1" ]; then
             exec "${DIFY_LSP_CMD[@]}" mcp --call yaml_key --args "$(json file "$1" key "${2:-}")"
           elif [ $# -ge 1 ]; then
             exec "${DIFY_LSP_CMD[@]}" mcp --call yaml_key --args "$(json kind "$1" key "${2:-}")"
           fi ;;
  parts)   [ $# -eq 1 ] && exec "${DIFY_LSP_CMD[@]}" mcp --call plugin_parts --args "$(json path "$1")" ;;
esac
sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
exit 2

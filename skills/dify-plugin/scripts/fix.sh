#!/usr/bin/env bash
# Write the quick fix of one finding (one with fixes in `check.sh PATH --format json` / check_plugin):
#   fix.sh FILE CODE [LINE CHARACTER] [FIX]     LINE and CHARACTER: the finding's range.start (0-based)
# Prints what was written and the findings left in FILE; exit 2 when there is no such finding or fix.
set -uo pipefail
. "$(dirname "$0")/_dify_lsp.sh"
[ $# -eq 2 ] || [ $# -eq 4 ] || [ $# -eq 5 ] || { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
args=$(python3 -c 'import json, sys
a = {"path": sys.argv[1], "code": sys.argv[2]}
if len(sys.argv) > 3: a.update(line=int(sys.argv[3]), character=int(sys.argv[4]))
if len(sys.argv) > 5: a["fix"] = int(sys.argv[5])
print(json.dumps(a))' "$@") || exit 2
exec "${DIFY_LSP_CMD[@]}" mcp --call apply_fix --args "$args"

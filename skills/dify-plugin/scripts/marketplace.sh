#!/usr/bin/env bash
# Prepare a Dify Marketplace submission: check the folder with the marketplace rules, package it as
# `dify plugin package` does, and check the .difypkg the reviewers will get.
#   marketplace.sh PLUGIN [OUT.difypkg]        (default: <plugin folder name>.difypkg beside the folder)
# Exit 0: ready (no error); 1: something Marketplace review blocks; 2: usage or packaging error.
set -uo pipefail
. "$(dirname "$0")/_dify_lsp.sh"
[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
plugin="${1%/}"
out="${2:-$(dirname "$plugin")/$(basename "$(cd "$plugin" && pwd)").difypkg}"
echo "== check $plugin --marketplace" >&2
dify_lsp check "$plugin" --marketplace --color never --no-show-source; folder=$?
[ "$folder" -le 1 ] || exit 2
echo "== package -> $out" >&2
dify_lsp plugin package "$plugin" -o "$out" || exit 2
echo "== check $out --marketplace" >&2
dify_lsp check "$out" --marketplace --color never --no-show-source; package=$?
[ "$package" -le 1 ] || exit 2
[ "$folder" -eq 0 ] && [ "$package" -eq 0 ] && echo "ready: $out" >&2 && exit 0
exit 1

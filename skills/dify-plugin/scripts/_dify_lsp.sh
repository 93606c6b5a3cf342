# Sourced by the other scripts: how to start dify-lsp ($DIFY_LSP, else dify-lsp on PATH, else python3 -m dify_lsp).
if [ -n "${DIFY_LSP:-}" ]; then
  read -r -a DIFY_LSP_CMD <<<"$DIFY_LSP"
elif command -v dify-lsp >/dev/null 2>&1; then
  DIFY_LSP_CMD=(dify-lsp)
else
  DIFY_LSP_CMD=(python3 -m dify_lsp)
fi
dify_lsp() { "${DIFY_LSP_CMD[@]}" "$@"; }

-- dify-lsp for Neovim 0.11+: a `vim.lsp.config` file.
--
-- Put this folder (editors/neovim) on your 'runtimepath' and enable it:
--
--   vim.opt.runtimepath:append('/path/to/dify-lsp/editors/neovim')
--   vim.lsp.enable('dify_lsp')
--
-- The server starts for YAML and Python buffers inside a Dify plugin (a folder
-- with manifest.yaml), one server per plugin folder.  Override any field with
-- vim.lsp.config('dify_lsp', {...}); for example, without the `dify-lsp`
-- script on PATH, run the server from the Python that has it installed:
--
--   vim.lsp.config('dify_lsp', { cmd = { '/path/to/venv/bin/python', '-m', 'dify_lsp' } })
--
-- Settings (all optional) are the `dify` section; the server reads them from
-- workspace/configuration (and again on :DifyRestart).  See README.md.

---@param method string
---@return boolean
local function has_builtin_handler(method)
  return vim.lsp.handlers[method] ~= nil
end

-- Neovim 0.11 has no built-in handler for these two server->client requests,
-- so it does not advertise them either.  This config handles both itself and
-- advertises them, so that:
--  * diagnostics of every open buffer follow edits in *other* plugin files
--    (a tool YAML's diagnostics depend on its manifest, provider and Python);
--  * code lenses ("Run invocation") follow edits without waiting for BufEnter.
local handlers = {}
local workspace_capabilities = {}

if not has_builtin_handler('workspace/diagnostic/refresh') then
  workspace_capabilities.diagnostics = { refreshSupport = true }
  handlers['workspace/diagnostic/refresh'] = function(_, _, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      for bufnr in pairs(client.attached_buffers) do
        if vim.api.nvim_buf_is_loaded(bufnr) then
          client:request('textDocument/diagnostic', {
            textDocument = vim.lsp.util.make_text_document_params(bufnr),
          }, nil, bufnr)
        end
      end
    end
    return vim.NIL
  end
end

if not has_builtin_handler('workspace/codeLens/refresh') then
  workspace_capabilities.codeLens = { refreshSupport = true }
  handlers['workspace/codeLens/refresh'] = function(_, _, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      for bufnr in pairs(client.attached_buffers) do
        if vim.api.nvim_buf_is_loaded(bufnr) then
          vim.lsp.codelens.refresh({ bufnr = bufnr })
        end
      end
    end
    return vim.NIL
  end
end

---@type vim.lsp.Config
return {
  -- The `dify-lsp` script serves LSP over stdio when run without a command.
  -- Equivalent: { 'python3', '-m', 'dify_lsp' } with the Python that has dify-lsp installed.
  cmd = { 'dify-lsp' },
  filetypes = { 'yaml', 'python' },
  root_markers = { 'manifest.yaml' },
  -- Only start inside a plugin folder: never for a stray YAML or Python file.
  workspace_required = true,
  capabilities = { workspace = workspace_capabilities },
  handlers = handlers,
  -- Answered to workspace/configuration (section "dify"); the shape is the
  -- server's settings object (docs: README.md, "Settings").
  -- settings:start (generated from dify_lsp/settings.py by scripts/update_settings_docs.py)
  settings = {
    dify = {
      -- python = nil, -- unset: for runs `$DIFY_LSP_PYTHON`, the plugin's `.venv`, else the run environment built with uv
      run = {
        backend = 'mock',
        timeout = 60,
        validateCredentials = false,
        credentialType = 'api-key',
        toolPlugins = {},
        openai = {
          baseUrl = 'https://api.openai.com/v1',
          apiKeyEnv = 'OPENAI_API_KEY',
          models = { llm = 'gpt-4o-mini', ['text-embedding'] = 'text-embedding-3-small', rerank = 'rerank', tts = 'tts-1', speech2text = 'whisper-1', moderation = 'omni-moderation-latest' },
        },
      },
      diagnostics = {
        files = true,
        schema = true,
        python = true,
        permissions = true,
      },
      select = {},
      extendSelect = {},
      ignore = {},
      -- marketplace = nil, -- unset: the plugin's `marketplace = true` in `[tool.dify-lsp]` turns it on, else off
      cache = true,
      debounceMs = 200,
      -- locale = nil, -- unset: the editor's `locale`, else the environment
    },
  },
  -- settings:end
}

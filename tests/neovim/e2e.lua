-- End-to-end checks of dify-lsp in a real Neovim, driven by tests/test_neovim.py.
--
-- Run as: nvim --headless --clean -u <init.lua: the README's setup lines> -c 'luafile tests/neovim/e2e.lua'
-- Environment:
--   DIFY_NVIM_OUT      where to write the results (JSON, rewritten after every step)
--   DIFY_NVIM_PLUGIN   the plugin folder (a copy of examples/llm-tool prepared by the test)
--   DIFY_NVIM_SERVER   the server command as a JSON list
--   DIFY_NVIM_PYTHON   interpreter with dify_plugin for runs (empty: skip the run)
--   DIFY_NVIM_WAIT_MS  how long one step may wait for the server (default 20000)
--
-- Every step records what Neovim saw; the pytest side makes the assertions.
-- A step that throws records its traceback and the next steps still run.

local out_path = os.getenv('DIFY_NVIM_OUT')
if not out_path then
  io.stderr:write('DIFY_NVIM_OUT is not set\n')
  vim.cmd('cquit! 2')
end
local plugin = os.getenv('DIFY_NVIM_PLUGIN') or ''
local server_cmd = vim.json.decode(os.getenv('DIFY_NVIM_SERVER') or '[]')
local run_python = os.getenv('DIFY_NVIM_PYTHON') or ''
local wait_ms = tonumber(os.getenv('DIFY_NVIM_WAIT_MS') or '') or 20000

local results = { nvim_version = tostring(vim.version()), steps = {}, errors = vim.empty_dict(), done = false }

local function save()
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(results))
  f:close()
end

local function step(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    results.errors[name] = tostring(err)
  end
  table.insert(results.steps, name)
  save()
  return ok
end

local function main()
  -- Count the messages the server sends, by method.
  local seen = {}
  local function count(method)
    seen[method] = (seen[method] or 0) + 1
    results.seen = seen
  end
  for _, method in ipairs({ 'textDocument/publishDiagnostics', 'textDocument/diagnostic' }) do
    local original = vim.lsp.handlers[method]
    vim.lsp.handlers[method] = function(err, result, ctx, config)
      count(method)
      return original(err, result, ctx, config)
    end
  end

  -- The init file is the README's setup block (runtimepath, vim.lsp.enable, setup());
  -- here the server command and interpreter are set the way the README says.
  vim.lsp.config('dify_lsp', {
    cmd = server_cmd,
    settings = { dify = { python = run_python ~= '' and run_python or nil, run = { backend = 'mock', timeout = 60 } } },
  })
  -- Wrap the config's own refresh handlers to count them (they stay in charge).
  local config_handlers = vim.lsp.config.dify_lsp.handlers or {}
  local wrapped = {}
  for method, handler in pairs(config_handlers) do
    wrapped[method] = function(err, result, ctx, config)
      count(method)
      return handler(err, result, ctx, config)
    end
  end
  vim.lsp.config('dify_lsp', { handlers = wrapped })
  local dify = require('dify_lsp')
  results.commands = {
    run = vim.fn.exists(':DifyRunInvocation') == 2,
    restart = vim.fn.exists(':DifyRestart') == 2,
    new_tool = vim.fn.exists(':DifyNewTool') == 2,
  }

  local function path(rel)
    return plugin .. '/' .. rel
  end

  local function open(rel)
    vim.cmd.edit(vim.fn.fnameescape(path(rel)))
    return vim.api.nvim_get_current_buf()
  end

  local function client_of(buf)
    local client
    vim.wait(wait_ms, function()
      client = vim.lsp.get_clients({ bufnr = buf, name = 'dify_lsp' })[1]
      return client ~= nil and client.initialized == true
    end, 20)
    return assert(client, 'no dify_lsp client attached to ' .. vim.api.nvim_buf_get_name(buf))
  end

  local function diagnostics(buf)
    local out = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      local lsp = (d.user_data or {}).lsp or {}
      table.insert(out, {
        code = d.code,
        source = d.source,
        message = d.message,
        lnum = d.lnum,
        col = d.col,
        end_lnum = d.end_lnum,
        end_col = d.end_col,
        lsp_range = lsp.range,
      })
    end
    table.sort(out, function(a, b)
      return a.lnum == b.lnum and a.col < b.col or a.lnum < b.lnum
    end)
    return out
  end

  local function has_code(buf, code)
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == code then
        return true
      end
    end
    return false
  end

  local function request(buf, client, method, params, timeout)
    local response = client:request_sync(method, params, timeout or wait_ms, buf)
    if not response then
      error(method .. ': no response in time')
    end
    if response.err then
      error(method .. ': ' .. vim.inspect(response.err))
    end
    return response.result
  end

  local function completion_items(result)
    if result == nil or result == vim.NIL then
      return {}
    end
    return result.items or result
  end

  local function summarize_items(items)
    local out = {}
    for _, item in ipairs(items) do
      table.insert(out, {
        label = item.label,
        kind = item.kind,
        detail = item.detail,
        insertTextFormat = item.insertTextFormat,
        insertText = item.insertText,
        newText = type(item.textEdit) == 'table' and item.textEdit.newText or nil,
      })
    end
    return out
  end

  -- Positions are in the client's encoding (bytes for utf-8).
  local function position_params(buf, client, row, col)
    return {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = vim.lsp.util.make_given_range_params({ row, col }, { row, col }, buf, client.offset_encoding).range.start,
    }
  end

  local buffers = {}

  local started = step('start', function()
    buffers.provider = open('provider/llm.yaml')
    local client = client_of(buffers.provider)
    results.client = {
      name = client.name,
      offset_encoding = client.offset_encoding,
      root_dir = client.root_dir,
      position_encoding = client.server_capabilities.positionEncoding,
      diagnostic_provider = client.server_capabilities.diagnosticProvider,
      completion_provider = client.server_capabilities.completionProvider,
      hover_provider = client.server_capabilities.hoverProvider,
      code_lens_provider = client.server_capabilities.codeLensProvider,
      execute_commands = (client.server_capabilities.executeCommandProvider or {}).commands,
      advertised_snippets = vim.tbl_get(client.capabilities, 'textDocument', 'completion', 'completionItem', 'snippetSupport'),
      advertised_diagnostic_refresh = vim.tbl_get(client.capabilities, 'workspace', 'diagnostics', 'refreshSupport'),
      advertised_code_lens_refresh = vim.tbl_get(client.capabilities, 'workspace', 'codeLens', 'refreshSupport'),
    }
  end)
  if not started then
    error('the server did not start; the other steps would only time out')
  end

  step('diagnostics', function()
    buffers.manifest = open('manifest.yaml')
    client_of(buffers.manifest)
    local ok = vim.wait(wait_ms, function()
      return has_code(buffers.provider, 'DL002') and has_code(buffers.manifest, 'DL002')
    end, 20)
    results.diagnostics = {
      arrived = ok,
      provider = diagnostics(buffers.provider),
      manifest = diagnostics(buffers.manifest),
      -- no file outside a plugin gets a client (workspace_required)
    }
  end)

  step('outside_plugin', function()
    local stray = vim.fn.tempname() .. '.yaml'
    vim.fn.writefile({ 'a: 1' }, stray)
    vim.cmd.edit(vim.fn.fnameescape(stray))
    local buf = vim.api.nvim_get_current_buf()
    vim.wait(500, function()
      return #vim.lsp.get_clients({ bufnr = buf }) > 0
    end, 20)
    results.outside_plugin_clients = #vim.lsp.get_clients({ bufnr = buf })
  end)

  step('cross_file_refresh', function()
    -- The tool YAML is open and unchanged; an edit of the provider (in its buffer,
    -- unsaved) unlists it, so the tool YAML must get DL003 without being touched.
    local pulls = seen['textDocument/diagnostic'] or 0
    buffers.tool = open('tools/llm.yaml')
    client_of(buffers.tool)
    vim.wait(wait_ms, function()
      return (seen['textDocument/diagnostic'] or 0) > pulls
    end, 20)
    local lines = vim.api.nvim_buf_get_lines(buffers.provider, 0, -1, false)
    local row
    for i, line in ipairs(lines) do
      if line == '  - tools/llm.yaml' then
        row = i - 1
      end
    end
    assert(row, 'provider/llm.yaml has no "  - tools/llm.yaml" line')
    vim.api.nvim_buf_set_lines(buffers.provider, row, row + 1, false, { '  - tools/other.yaml' })
    local appeared = vim.wait(wait_ms, function()
      return has_code(buffers.tool, 'DL003')
    end, 20)
    local tool_diags = diagnostics(buffers.tool)
    vim.api.nvim_buf_set_lines(buffers.provider, row, row + 1, false, { '  - tools/llm.yaml' })
    local cleared = vim.wait(wait_ms, function()
      return not has_code(buffers.tool, 'DL003')
    end, 20)
    results.cross_file = {
      appeared = appeared,
      cleared = cleared,
      tool = tool_diags,
      -- the provider's tool list changed twice: code lenses must follow
      code_lens_refreshes = seen['workspace/codeLens/refresh'] or 0,
    }
  end)

  step('completion', function()
    buffers.python = open('tools/llm.py')
    local client = client_of(buffers.python)
    local n = vim.api.nvim_buf_line_count(buffers.python)
    local text = '        self.session.model.'
    vim.api.nvim_buf_set_lines(buffers.python, n, n, false, { text })
    local params = position_params(buffers.python, client, n + 1, #text)
    params.context = { triggerKind = 2, triggerCharacter = '.' }
    local items = completion_items(request(buffers.python, client, 'textDocument/completion', params))
    results.completion = { position = params.position, items = summarize_items(items) }
    vim.api.nvim_buf_set_lines(buffers.python, n, n + 1, false, {})
  end)

  step('hover', function()
    local client = client_of(buffers.python)
    local lines = vim.api.nvim_buf_get_lines(buffers.python, 0, -1, false)
    local row, col
    for i, line in ipairs(lines) do
      local s = line:find('.invoke(', 1, true)
      if s then
        row, col = i, s + 2 -- inside the word "invoke" (0-based byte col of its 2nd letter)
        break
      end
    end
    assert(row, 'tools/llm.py has no .invoke(')
    local params = position_params(buffers.python, client, row, col)
    local result = request(buffers.python, client, 'textDocument/hover', params)
    local value
    if type(result) == 'table' and result.contents then
      local c = result.contents
      if type(c) == 'string' then
        value = c
      elseif c.value then
        value = c.value
      else
        local parts = {}
        for _, part in ipairs(c) do
          table.insert(parts, type(part) == 'string' and part or part.value)
        end
        value = table.concat(parts, '\n')
      end
    end
    results.hover = { position = params.position, value = value, range = type(result) == 'table' and result.range or nil }
  end)

  step('code_lens', function()
    -- dify_lsp.setup() refreshes code lenses on attach and on edits.
    local client = client_of(buffers.python)
    vim.api.nvim_set_current_buf(buffers.python)
    vim.lsp.codelens.refresh({ bufnr = buffers.python })
    vim.wait(wait_ms, function()
      return #vim.lsp.codelens.get(buffers.python) > 0
    end, 20)
    local lenses = {}
    for _, lens in ipairs(vim.lsp.codelens.get(buffers.python)) do
      table.insert(lenses, { line = lens.range.start.line, command = lens.command })
    end
    -- Renaming the tool (in its YAML buffer) changes the lenses of the Python file;
    -- a server that knows the client supports it asks for a code lens refresh.
    local before = seen['workspace/codeLens/refresh'] or 0
    local lines = vim.api.nvim_buf_get_lines(buffers.tool, 0, -1, false)
    for i, line in ipairs(lines) do
      if line == '  name: llm' then
        vim.api.nvim_buf_set_lines(buffers.tool, i - 1, i, false, { '  name: llm_renamed' })
        vim.wait(wait_ms / 2, function()
          return (seen['workspace/codeLens/refresh'] or 0) > before
        end, 20)
        vim.api.nvim_buf_set_lines(buffers.tool, i - 1, i, false, { '  name: llm' })
        break
      end
    end
    results.code_lens = {
      lenses = lenses,
      supported = client:supports_method('textDocument/codeLens'),
      refresh_requests_after_edit = (seen['workspace/codeLens/refresh'] or 0) - before,
    }
  end)

  step('run_invocation', function()
    if run_python == '' then
      results.run = { skipped = 'no interpreter with dify_plugin' }
      return
    end
    vim.api.nvim_set_current_buf(buffers.python)
    vim.api.nvim_win_set_cursor(0, { 12, 8 })
    local progress = {}
    local au = vim.api.nvim_create_autocmd('LspProgress', {
      callback = function(ev)
        local value = ev.data.params.value or {}
        table.insert(progress, { kind = value.kind, title = value.title, message = value.message })
      end,
    })
    dify.last_result = nil
    vim.cmd('DifyRunInvocation prompt=hello-from-neovim')
    local finished = vim.wait(90000, function()
      return dify.last_result ~= nil
    end, 50)
    pcall(vim.api.nvim_del_autocmd, au)
    local scratch = vim.fn.bufnr('dify://run/llm')
    results.run = {
      finished = finished,
      result = dify.last_result,
      progress = progress,
      buffer = scratch ~= -1 and vim.api.nvim_buf_get_lines(scratch, 0, -1, false) or nil,
    }
  end)

  step('run_by_name', function()
    -- From the manifest (no tool of its own) the tool is named as provider/tool.
    if run_python == '' then
      return
    end
    vim.api.nvim_set_current_buf(buffers.manifest)
    dify.last_result = nil
    vim.cmd('DifyRunInvocation llm/llm prompt=named-from-the-manifest')
    local finished = vim.wait(90000, function()
      return dify.last_result ~= nil
    end, 50)
    local named = { finished = finished, result = dify.last_result }
    -- an unknown tool runs nothing
    dify.last_result = nil
    local messages = {}
    local notify = vim.notify
    vim.notify = function(msg, level)
      table.insert(messages, { msg = msg, level = level })
    end
    vim.cmd('DifyRunInvocation no_such_tool')
    vim.wait(2000, function()
      return #messages > 0
    end, 20)
    vim.notify = notify
    named.unknown = { messages = messages, ran = dify.last_result ~= nil }
    results.run_by_name = named
  end)

  step('code_lens_run', function()
    -- Running the lens goes through the client-side command of dify_lsp.setup(),
    -- so its result lands in the scratch buffer like :DifyRunInvocation's.
    if run_python == '' then
      return
    end
    vim.api.nvim_set_current_buf(buffers.python)
    local lens = vim.lsp.codelens.get(buffers.python)[1]
    assert(lens, 'no code lens in tools/llm.py')
    vim.api.nvim_win_set_cursor(0, { lens.range.start.line + 1, 0 })
    dify.last_result = nil
    -- "▶ Run invocation" and "⚙ Debug" share the line: the user picks Run in the prompt
    local select = vim.ui.select
    vim.ui.select = function(items, opts, on_choice)
      for i, item in ipairs(items) do
        local command = item.lens and item.lens.command or item.command or {}
        if command.command == 'dify.runInvocation' then
          return on_choice(item, i)
        end
      end
      return on_choice(items[1], 1)
    end
    vim.lsp.codelens.run()
    vim.ui.select = select
    local finished = vim.wait(90000, function()
      return dify.last_result ~= nil
    end, 50)
    results.code_lens_run = { finished = finished, result = dify.last_result }
  end)

  step('run_credentials', function()
    -- The provider gets two required credentials (a secret and a plain one): the run is refused,
    -- the plugin asks for each (inputsecret() for the secret) and runs again with them.
    if run_python == '' then
      return
    end
    local original = vim.api.nvim_buf_get_lines(buffers.provider, 0, -1, false)
    local at
    for i, line in ipairs(original) do
      if line:match('^tools:') then
        at = i - 1
        break
      end
    end
    assert(at, 'no tools: line in provider/llm.yaml')
    vim.api.nvim_buf_set_lines(buffers.provider, at, at, false, {
      'credentials_for_provider:',
      '  api_key:',
      '    type: secret-input',
      '    required: true',
      '    label:',
      '      en_US: API Key',
      '  region:',
      '    type: text-input',
      '    required: true',
      '    label:',
      '      en_US: Region',
    })
    vim.api.nvim_buf_call(buffers.provider, function()
      vim.cmd('silent write')
    end)

    local prompts = {}
    local secret_answer = 'sk-neovim-secret-42'
    local real_inputsecret, real_input = vim.fn.inputsecret, vim.fn.input
    vim.fn.inputsecret = function(prompt)
      table.insert(prompts, { fn = 'inputsecret', prompt = prompt })
      return secret_answer
    end
    vim.fn.input = function(opts)
      table.insert(prompts, { fn = 'input', prompt = type(opts) == 'table' and opts.prompt or opts })
      return 'eu-west'
    end
    -- what the client sends: every dify.runInvocation request's credentials
    local client = client_of(buffers.python)
    local sent = {}
    local real_request = client.request
    client.request = function(self, method, params, ...)
      if method == 'workspace/executeCommand' and params.command == 'dify.runInvocation' then
        table.insert(sent, vim.deepcopy(params.arguments[1].credentials or vim.NIL))
      end
      return real_request(self, method, params, ...)
    end

    local function run_once()
      dify.last_result = nil
      vim.cmd('DifyRunInvocation prompt=with-credentials')
      local finished = vim.wait(90000, function()
        return dify.last_result ~= nil
      end, 50)
      local scratch = vim.fn.bufnr('dify://run/llm')
      return {
        finished = finished,
        result = dify.last_result,
        buffer = scratch ~= -1 and vim.api.nvim_buf_get_lines(scratch, 0, -1, false) or nil,
      }
    end

    local ok, err = pcall(function()
      dify.forget_credentials()
      vim.api.nvim_set_current_buf(buffers.python)
      local first = run_once()
      first.prompts, first.sent = vim.deepcopy(prompts), vim.deepcopy(sent)
      -- the same provider again: remembered, nothing asked
      prompts, sent = {}, {}
      local again = run_once()
      again.prompts, again.sent = vim.deepcopy(prompts), vim.deepcopy(sent)
      -- forgotten, and the secret prompt cancelled: the server's refusal is shown, nothing more is asked
      dify.forget_credentials()
      prompts, sent = {}, {}
      secret_answer = ''
      local cancelled = run_once()
      cancelled.prompts, cancelled.sent = vim.deepcopy(prompts), vim.deepcopy(sent)
      results.run_credentials = { first = first, again = again, cancelled = cancelled }
    end)
    vim.fn.inputsecret, vim.fn.input = real_inputsecret, real_input
    client.request = real_request
    dify.forget_credentials()
    vim.api.nvim_buf_set_lines(buffers.provider, 0, -1, false, original)
    vim.api.nvim_buf_call(buffers.provider, function()
      vim.cmd('silent write')
    end)
    assert(ok, err)
  end)

  step('snippets', function()
    -- A second client that does not advertise snippets, on the same buffers.
    local caps = vim.lsp.protocol.make_client_capabilities()
    caps.textDocument.completion.completionItem.snippetSupport = false
    local plain_id = assert(vim.lsp.start({
      name = 'dify_lsp_plain',
      cmd = server_cmd,
      root_dir = plugin,
      capabilities = caps,
    }, { bufnr = buffers.tool }))
    vim.lsp.buf_attach_client(buffers.python, plain_id)
    local plain = vim.lsp.get_client_by_id(plain_id)
    vim.wait(wait_ms, function()
      return plain.initialized == true
    end, 20)
    local nvim_client = client_of(buffers.python)

    -- Places where completion offers code: new members, new keys, new list items.
    local probes = {
      { buf = buffers.python, text = '        self.session.model.llm.' },
      { buf = buffers.python, text = '        self.session.' },
      { buf = buffers.python, text = '        self.create_' },
      { buf = buffers.tool, text = '' }, -- a new top-level key
      { buf = buffers.tool, after = '    form: form', text = '    ' }, -- a new key of a parameter
      { buf = buffers.tool, after = '    form: form', text = '    type: ' }, -- a parameter type
      { buf = buffers.tool, after = 'parameters:', text = '  - ' }, -- a new parameter
    }
    local report = {}
    for _, probe in ipairs(probes) do
      -- the line is inserted after the line `probe.after` (default: at the end)
      local n = vim.api.nvim_buf_line_count(probe.buf)
      if probe.after then
        for i, line in ipairs(vim.api.nvim_buf_get_lines(probe.buf, 0, -1, false)) do
          if line == probe.after then
            n = i
            break
          end
        end
      end
      vim.api.nvim_buf_set_lines(probe.buf, n, n, false, { probe.text })
      local entry = { text = probe.text, file = vim.fs.basename(vim.api.nvim_buf_get_name(probe.buf)) }
      for name, client in pairs({ neovim = nvim_client, plain = plain }) do
        local params = position_params(probe.buf, client, n + 1, #probe.text)
        local ok, res = pcall(request, probe.buf, client, 'textDocument/completion', params)
        entry[name] = ok and summarize_items(completion_items(res)) or { error = tostring(res) }
      end
      vim.api.nvim_buf_set_lines(probe.buf, n, n + 1, false, {})
      table.insert(report, entry)
    end
    results.snippets = report
    plain:stop()
  end)

  step('rename', function()
    -- F2 from a read in the Python code: one WorkspaceEdit renames the YAML declaration,
    -- the read and the saved invocation's key; Neovim applies it to the buffers (loading
    -- files that are not open), then they are written.
    vim.api.nvim_set_current_buf(buffers.python)
    local row, col
    for i, line in ipairs(vim.api.nvim_buf_get_lines(buffers.python, 0, -1, false)) do
      local s = line:find('get("prompt")', 1, true)
      if s then
        row, col = i, s + 5 + 2 -- 0-based byte column inside the word prompt
        break
      end
    end
    assert(row, 'tools/llm.py does not read get("prompt")')
    vim.api.nvim_win_set_cursor(0, { row, col })
    -- Neovim sends a buffer's edits after a debounce (150 ms) and flushes only the requesting
    -- buffer's before a request: let the last edit of the tool YAML (the snippets step) reach the server.
    vim.wait(500)
    vim.lsp.buf.rename('user_prompt')
    local renamed = vim.wait(wait_ms, function()
      return vim.api.nvim_buf_get_lines(buffers.python, row - 1, row, false)[1]:find('user_prompt', 1, true) ~= nil
    end, 20)
    vim.cmd('silent! wall')
    local saved = vim.fn.bufnr(path('.dify/invocations/llm.yaml'))
    results.rename = {
      renamed = renamed,
      python_line = vim.api.nvim_buf_get_lines(buffers.python, row - 1, row, false)[1],
      tool_modified = vim.bo[buffers.tool].modified,
      saved_invocation_loaded = saved ~= -1,
    }
  end)

  step('new_tool', function()
    -- :DifyNewTool: the server's one WorkspaceEdit creates the files and lists the tool; Neovim applies
    -- it to buffers and opens them (window/showDocument); :wall writes them.
    vim.api.nvim_set_current_buf(buffers.manifest)
    dify.last_new_tool = nil
    vim.cmd('DifyNewTool echo_probe')
    local answered = vim.wait(wait_ms, function()
      return dify.last_new_tool ~= nil
    end, 20)
    vim.cmd('silent! wall')
    results.new_tool = {
      answered = answered,
      result = dify.last_new_tool,
      current = vim.fs.basename(vim.api.nvim_buf_get_name(0)),
      python_buffer = vim.fn.bufnr(path('tools/echo_probe.py')) ~= -1,
    }
  end)

  step('restart', function()
    vim.api.nvim_set_current_buf(buffers.provider)
    local old = client_of(buffers.provider)
    local old_id = old.id
    vim.cmd('DifyRestart')
    local new
    vim.wait(wait_ms, function()
      new = vim.lsp.get_clients({ bufnr = buffers.provider, name = 'dify_lsp' })[1]
      return new ~= nil and new.id ~= old_id and new.initialized == true
    end, 20)
    local restarted = new ~= nil and new.id ~= old_id
    local attached = {}
    local rediagnosed = false
    if restarted then
      for name, buf in pairs(buffers) do
        attached[name] = vim.lsp.buf_is_attached(buf, new.id)
      end
      local ns = vim.lsp.diagnostic.get_namespace(new.id, true)
      rediagnosed = vim.wait(wait_ms, function()
        for _, d in ipairs(vim.diagnostic.get(buffers.provider, { namespace = ns })) do
          if d.code == 'DL002' then
            return true
          end
        end
        return false
      end, 20)
    end
    results.restart = { restarted = restarted, old_stopped = old:is_stopped(), attached = attached, rediagnosed = rediagnosed }
  end)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  results.errors.main = tostring(err)
end
results.done = ok
save()
vim.cmd(ok and 'qall!' or 'cquit! 1')

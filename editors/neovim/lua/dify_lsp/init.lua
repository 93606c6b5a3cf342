-- Optional commands for dify-lsp in Neovim 0.11+.
--
--   require('dify_lsp').setup()
--
-- adds
--   :DifyRunInvocation [tool] [name=value ...]
--       run the tool under the cursor (or the named tool) with the server's
--       `dify.runInvocation` command; progress and the result go to a scratch buffer.
--       Missing required provider credentials are asked for (secrets with inputsecret())
--       and kept in memory for the session.
--   :DifyRestart
--       restart the dify-lsp server(s) of the current buffer (or all of them).
--   :DifyNewTool NAME
--       create tools/NAME.yaml and tools/NAME.py from templates and list the tool in the plugin's
--       tool provider (the server's `dify.newTool`; the edit lands in buffers: `:wall` saves it).
-- and makes the "▶ Run invocation" code lenses show their result the same way,
-- refreshing code lenses of dify-lsp buffers as you edit.

local M = {}

M.options = {
  -- Name of the LSP client (the vim.lsp.config / nvim-lspconfig config name).
  client_name = 'dify_lsp',
  -- Refresh code lenses of dify-lsp buffers on these events (false: never).
  codelens_events = { 'BufEnter', 'InsertLeave', 'BufWritePost', 'TextChanged' },
  -- How the result buffer opens: a command run before showing it.
  open_cmd = 'botright split',
}

--- The result of the latest run (a table as the server returned it), for scripts and tests.
M.last_result = nil

local function notify(msg, level)
  vim.notify('dify-lsp: ' .. msg, level or vim.log.levels.INFO)
end

--- The dify-lsp client attached to `bufnr`, else any running dify-lsp client.
---@param bufnr integer
---@return vim.lsp.Client?
function M.client(bufnr)
  local attached = vim.lsp.get_clients({ bufnr = bufnr, name = M.options.client_name })
  if attached[1] then
    return attached[1]
  end
  return vim.lsp.get_clients({ name = M.options.client_name })[1]
end

-- Scratch buffer -------------------------------------------------------------

local function result_buffer(title)
  local name = 'dify://run/' .. title
  local buf
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == name then
      buf = b
    end
  end
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'hide'
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = 'markdown'
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  vim.bo[buf].modifiable = false
  if vim.fn.bufwinid(buf) == -1 and #vim.api.nvim_list_uis() > 0 then
    local from = vim.api.nvim_get_current_win()
    vim.cmd(M.options.open_cmd)
    vim.api.nvim_win_set_buf(0, buf)
    vim.api.nvim_set_current_win(from)
  end
  return buf
end

local function append(buf, lines)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  local out = {}
  for _, line in ipairs(lines) do
    for _, part in ipairs(vim.split(tostring(line), '\n', { plain = true })) do
      table.insert(out, part)
    end
  end
  vim.bo[buf].modifiable = true
  local count = vim.api.nvim_buf_line_count(buf)
  local first = vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1]
  if count == 1 and first == '' then
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, out)
  else
    vim.api.nvim_buf_set_lines(buf, count, count, false, out)
  end
  vim.bo[buf].modifiable = false
end

--- The result of dify.runInvocation as lines of text (Markdown).
---@param result table
---@return string[]
function M.format_result(result)
  local lines = {}
  local function add(s)
    table.insert(lines, s)
  end
  add(
    ('## %s: %s (backend %s, %s ms)'):format(
      tostring(result.tool or '?'),
      tostring(result.status or '?'),
      tostring(result.backend or '?'),
      tostring(result.duration_ms or '?')
    )
  )
  if type(result.text) == 'string' and result.text ~= '' then
    add('')
    add('### Text')
    add(result.text)
  end
  local others = {}
  for _, message in ipairs(result.messages or {}) do
    if message.type ~= 'text' then
      table.insert(others, message)
    end
  end
  if #others > 0 then
    add('')
    add('### Messages')
    for _, message in ipairs(others) do
      add('- ' .. vim.json.encode(message))
    end
  end
  if type(result.warnings) == 'table' and #result.warnings > 0 then
    add('')
    add('### Warnings')
    for _, w in ipairs(result.warnings) do
      add('- ' .. tostring(w))
    end
  end
  if type(result.error) == 'table' then
    add('')
    add('### Error')
    add(('%s: %s'):format(tostring(result.error.type or 'error'), tostring(result.error.message or '')))
    if type(result.error.traceback) == 'string' and result.error.traceback ~= '' then
      add('```')
      add(result.error.traceback)
      add('```')
    end
  end
  if type(result.transcript) == 'table' and #result.transcript > 0 then
    add('')
    add('### Reverse invocations')
    for _, call in ipairs(result.transcript) do
      local status = call.error ~= nil and call.error ~= vim.NIL and ('error: ' .. vim.json.encode(call.error)) or 'ok'
      add(('- %s (%s ms): %s'):format(tostring(call.type), tostring(call.duration_ms or '?'), status))
    end
  end
  return lines
end

-- Running ----------------------------------------------------------------------

--- workspace/executeCommand on the server itself (client:exec_cmd would call the
--- client-side vim.lsp.commands handler registered below, i.e. ourselves).
local function execute(client, command, argument, bufnr, handler)
  return client:request('workspace/executeCommand', { command = command, arguments = { argument } }, handler, bufnr)
end

-- Credentials typed in for runs, per provider: kept in this Neovim's memory only (never written to a
-- file, a buffer or a log), so the next run of the same provider does not ask again.
local session_credentials = {}

--- Forget the credentials typed in for `provider` (all providers when nil).
---@param provider? string
function M.forget_credentials(provider)
  if provider then
    session_credentials[provider] = nil
  else
    session_credentials = {}
  end
end

--- The required credentials a run result says are missing (empty unless the run stopped for that).
---@param result table?
---@return table[]
function M.missing_credentials(result)
  if type(result) ~= 'table' or type(result.error) ~= 'table' or result.error.type ~= 'MissingCredentials' then
    return {}
  end
  local out = {}
  for _, c in ipairs(type(result.missingCredentials) == 'table' and result.missingCredentials or {}) do
    if type(c) == 'table' and type(c.name) == 'string' and c.name ~= '' then
      table.insert(out, c)
    end
  end
  return out
end

--- The request argument a missing value goes back in: credentials, parameters (endpoint settings) or subscription.
---@param c table
---@return string
function M.argument_of(c)
  if c.argument == 'parameters' or c.argument == 'subscription' then
    return c.argument
  end
  return 'credentials'
end

--- A free loopback TCP port.
---@return integer
function M.free_port()
  local server = vim.uv.new_tcp()
  server:bind('127.0.0.1', 0)
  local port = server:getsockname().port
  server:close()
  return port
end

--- The nvim-dap configuration that attaches to a debug run's debugpy.
---@param host string
---@param port integer
---@return table
function M.dap_configuration(host, port)
  return { type = 'python', request = 'attach', name = 'dify-lsp debug', connect = { host = host, port = port },
    justMyCode = true }
end

--- "⚙ Debug": run `args` under debugpy on a free port and attach nvim-dap to it once the plugin listens.
---@param client vim.lsp.Client
---@param args table
---@param bufnr? integer
function M.debug_invocation(client, args, bufnr)
  local ok, dap = pcall(require, 'dap')
  if not ok then
    notify('debugging needs nvim-dap (and its python adapter, e.g. nvim-dap-python)', vim.log.levels.ERROR)
    return
  end
  local host, port = '127.0.0.1', M.free_port()
  local request = vim.tbl_extend('force', {}, args, { debug = { host = host, port = port } })
  local done = false
  M.run_invocation(client, request, function()
    done = true
  end, bufnr)
  -- the plugin listens once its environment is ready: attach as soon as it does
  local timer = vim.uv.new_timer()
  timer:start(250, 250, vim.schedule_wrap(function()
    if done then
      timer:stop()
      timer:close()
      return
    end
    local probe = vim.uv.new_tcp()
    probe:connect(host, port, function(err)
      probe:close()
      if not err and not timer:is_closing() then
        timer:stop()
        timer:close()
        vim.schedule(function()
          dap.run(M.dap_configuration(host, port))
        end)
      end
    end)
  end))
end

--- Ask for one credential: masked (inputsecret) for a secret, plain input otherwise.
--- Returns nil when the user gives nothing or cancels.
---@param c table { name, label, type, secret }
---@return string?
function M.ask_credential(c)
  local label = type(c.label) == 'string' and c.label ~= '' and c.label or c.name
  local prompt = ('dify-lsp credential %s (%s): '):format(label, c.name)
  local ok, value
  if c.secret == true then
    ok, value = pcall(vim.fn.inputsecret, prompt)
  else
    ok, value = pcall(vim.fn.input, { prompt = prompt, cancelreturn = '' })
  end
  if not ok or type(value) ~= 'string' or value == '' then
    return nil
  end
  return value
end

--- Run dify.runInvocation with `args` (the command's argument object) on `client`,
--- showing progress and the result in a scratch buffer. When the server answers that
--- required provider credentials are missing, asks for each and runs again with them.
---@param client vim.lsp.Client
---@param args table
---@param on_done? fun(err: table?, result: table?)
---@param bufnr? integer the buffer the run was asked from
function M.run_invocation(client, args, on_done, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local title = args.tool or vim.fn.fnamemodify(vim.uri_to_fname(args.uri), ':t')
  local buf = result_buffer(title)
  append(buf, { ('Running %s with dify-lsp...'):format(title) })
  -- remembered credentials of the provider, under the ones the request names itself
  local provider = type(args.provider) == 'string' and args.provider or ''
  local credentials = vim.tbl_extend(
    'force',
    {},
    session_credentials[provider] or {},
    type(args.credentials) == 'table' and args.credentials or {}
  )
  local asked = {}
  -- settings and subscription properties asked for go back in the argument the server names (never remembered)
  local extra = {
    parameters = vim.tbl_extend('force', {}, type(args.parameters) == 'table' and args.parameters or {}),
    subscription = vim.tbl_extend('force', {}, type(args.subscription) == 'table' and args.subscription or {}),
  }

  -- Work-done progress of this client while the run lasts.
  local progress = vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      if ev.data.client_id ~= client.id then
        return
      end
      local value = ev.data.params.value or {}
      local text = table.concat(
        vim.tbl_filter(function(s)
          return s ~= nil and s ~= ''
        end, { value.title, value.message, value.percentage and (value.percentage .. '%') or nil }),
        ' '
      )
      if text ~= '' then
        append(buf, { '> ' .. text })
      end
    end,
  })

  local send

  local function finish(err, result)
    pcall(vim.api.nvim_del_autocmd, progress)
    if err then
      append(buf, { '', '## Failed', tostring(err.message or vim.inspect(err)) })
      notify('run failed: ' .. tostring(err.message), vim.log.levels.ERROR)
    elseif type(result) == 'table' then
      M.last_result = result
      append(buf, vim.list_extend({ '' }, M.format_result(result)))
      local level = result.status == 'success' and vim.log.levels.INFO or vim.log.levels.WARN
      notify(('%s: %s'):format(title, tostring(result.status)), level)
    else
      append(buf, { '', 'The server returned no result.' })
    end
    if on_done then
      on_done(err, result)
    end
  end

  local function handle(err, result)
    local missing = err and {} or M.missing_credentials(result)
    for _, c in ipairs(missing) do
      if asked[M.argument_of(c) .. ':' .. c.name] then
        missing = {} -- just given and still missing: show the server's answer instead of asking again
        break
      end
    end
    if #missing == 0 then
      finish(err, result)
      return
    end
    vim.schedule(function()
      local names = vim.tbl_map(function(c)
        return c.name
      end, missing)
      append(buf, { '> the provider needs credentials: ' .. table.concat(names, ', ') })
      local typed = {}
      for _, c in ipairs(missing) do
        local value = M.ask_credential(c)
        if value == nil then
          append(buf, { '> not given' })
          finish(err, result)
          return
        end
        asked[M.argument_of(c) .. ':' .. c.name] = true
        if M.argument_of(c) == 'credentials' then
          typed[c.name] = value
        else
          extra[M.argument_of(c)][c.name] = value
        end
      end
      local key = provider ~= '' and provider or (type(result.provider) == 'string' and result.provider or '')
      session_credentials[key] = vim.tbl_extend('force', session_credentials[key] or {}, typed)
      credentials = vim.tbl_extend('force', credentials, typed)
      append(buf, { ('Running %s again with them...'):format(title) })
      send()
    end)
  end

  send = function()
    -- a copy: the caller's table (a code lens's arguments) never holds the credentials
    local request = vim.tbl_extend('force', {}, args)
    if next(credentials) then
      request.credentials = credentials
    end
    for key, values in pairs(extra) do
      if next(values) then
        request[key] = values
      end
    end
    execute(client, 'dify.runInvocation', request, bufnr, handle)
  end
  send()
  return buf
end

--- Tools of the current plugin, as dify.listTools returns them.
local function list_tools(client, bufnr, callback)
  execute(client, 'dify.listTools', { uri = vim.uri_from_bufnr(bufnr) }, bufnr, function(err, result)
    if err then
      notify('dify.listTools failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      return
    end
    callback(type(result) == 'table' and result or {})
  end)
end

--- The tools that the buffer belongs to.
---@param tools table[]
---@param bufnr integer
---@return table[] candidates
function M.tools_for_buffer(tools, bufnr)
  -- Compare real paths: URIs may differ in escaping or symlinks.
  local function real(uri)
    if type(uri) ~= 'string' or uri == '' then
      return nil
    end
    local fname = vim.uri_to_fname(uri)
    return vim.uv.fs_realpath(fname) or fname
  end
  local this = real(vim.uri_from_bufnr(bufnr))
  local here = {}
  for _, tool in ipairs(tools) do
    if real(tool.yaml_uri) == this or real(tool.python_uri) == this then
      table.insert(here, tool)
    end
  end
  -- The tool of this file (a tool YAML or its Python source); elsewhere (manifest,
  -- provider) every tool of the plugin is a candidate.
  return #here > 0 and here or tools
end

--- Convert `name=value` strings to typed parameters using the tool's declared types.
local function parse_parameters(tool, pairs_)
  local types = {}
  for _, p in ipairs(tool.parameters or {}) do
    types[p.name] = p.type
  end
  local params = {}
  for _, item in ipairs(pairs_) do
    local name, value = item:match('^([^=]+)=(.*)$')
    if not name then
      error(('expected name=value, got %q'):format(item))
    end
    local kind = types[name]
    if kind == 'number' then
      value = tonumber(value) or value
    elseif kind == 'boolean' then
      value = value == 'true' or value == '1' or value == 'yes'
    end
    params[name] = value
  end
  return params
end

--- :DifyRunInvocation [tool] [name=value ...]
function M.run_command(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify('no dify-lsp client for this buffer (is it inside a plugin folder with manifest.yaml?)', vim.log.levels.WARN)
    return
  end
  local words = opts and opts.fargs or {}
  local wanted, pairs_ = nil, {}
  for _, w in ipairs(words) do
    if w:find('=', 1, true) then
      table.insert(pairs_, w)
    elseif not wanted then
      wanted = w
    end
  end
  list_tools(client, bufnr, function(tools)
    local candidates = {}
    if wanted then
      for _, tool in ipairs(tools) do
        if tool.tool == wanted or (tool.provider .. '/' .. tool.tool) == wanted then
          table.insert(candidates, tool)
        end
      end
    else
      candidates = M.tools_for_buffer(tools, bufnr)
    end
    if #candidates == 0 then
      notify(wanted and ('no tool named ' .. wanted) or 'this plugin has no tools', vim.log.levels.WARN)
      return
    end
    local function run(tool)
      local ok, params = pcall(parse_parameters, tool, pairs_)
      if not ok then
        notify(params, vim.log.levels.ERROR)
        return
      end
      local args = { uri = tool.yaml_uri or vim.uri_from_bufnr(bufnr), tool = tool.tool, provider = tool.provider }
      if next(params) then
        args.parameters = params
      end
      M.run_invocation(client, args, nil, bufnr)
    end
    if #candidates == 1 then
      run(candidates[1])
    else
      vim.ui.select(candidates, {
        prompt = 'Run which tool?',
        format_item = function(t)
          return t.provider .. '/' .. t.tool
        end,
      }, function(choice)
        if choice then
          run(choice)
        end
      end)
    end
  end)
end

--- The answer of the latest :DifyNewTool, for scripts and tests.
M.last_new_tool = nil

--- :DifyNewTool NAME
function M.new_tool(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify('no dify-lsp client for this buffer (is it inside a plugin folder with manifest.yaml?)', vim.log.levels.WARN)
    return
  end
  local name = opts and opts.fargs and opts.fargs[1]
  if not name or name == '' then
    notify('usage: :DifyNewTool NAME', vim.log.levels.WARN)
    return
  end
  local params = { command = 'dify.newTool', arguments = { { uri = vim.uri_from_bufnr(bufnr), name = name } } }
  client:request('workspace/executeCommand', params, function(err, result)
    M.last_new_tool = err and { status = 'error', message = err.message } or result
    local answer = M.last_new_tool or {}
    notify(answer.message or 'no answer', answer.status == 'ok' and vim.log.levels.INFO or vim.log.levels.ERROR)
  end, bufnr)
end

--- :DifyRestart: stop the dify-lsp client(s) and start them again on the same buffers.
function M.restart()
  local bufnr = vim.api.nvim_get_current_buf()
  local clients = vim.lsp.get_clients({ bufnr = bufnr, name = M.options.client_name })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.options.client_name })
  end
  if #clients == 0 then
    notify('no dify-lsp client is running', vim.log.levels.WARN)
    return
  end
  for _, client in ipairs(clients) do
    local buffers = vim.tbl_keys(client.attached_buffers)
    local config = client.config
    client:stop()
    local timer = assert(vim.uv.new_timer())
    local waited = 0
    timer:start(100, 100, vim.schedule_wrap(function()
      waited = waited + 100
      if not client:is_stopped() and waited < 5000 then
        return
      end
      if not client:is_stopped() then
        client:stop(true)
      end
      timer:stop()
      timer:close()
      for _, b in ipairs(buffers) do
        if vim.api.nvim_buf_is_loaded(b) then
          vim.lsp.start(config, { bufnr = b })
        end
      end
      notify('restarted')
    end))
  end
end

-- Setup -------------------------------------------------------------------------

local augroup = vim.api.nvim_create_augroup('dify_lsp', { clear = true })

---@param opts? table overrides for M.options
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', M.options, opts or {})

  vim.api.nvim_create_user_command('DifyRunInvocation', M.run_command, {
    nargs = '*',
    desc = 'dify-lsp: run the tool under the cursor (args: [tool] [name=value ...])',
  })
  vim.api.nvim_create_user_command('DifyRestart', M.restart, { nargs = 0, desc = 'dify-lsp: restart the server' })
  vim.api.nvim_create_user_command('DifyNewTool', M.new_tool, {
    nargs = 1,
    desc = 'dify-lsp: create a tool (YAML + Python) and list it in the provider',
  })

  -- Code lenses run through here, so their result shows like :DifyRunInvocation's.
  vim.lsp.commands['dify.runInvocation'] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client and command.arguments and command.arguments[1] then
      M.run_invocation(client, command.arguments[1], nil, ctx.bufnr)
    end
  end
  -- the "⚙ Debug" lens beside each "▶ Run invocation"
  vim.lsp.commands['dify.debugInvocation'] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client and command.arguments and command.arguments[1] then
      M.debug_invocation(client, command.arguments[1], ctx.bufnr)
    end
  end

  vim.api.nvim_clear_autocmds({ group = augroup })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= M.options.client_name then
        return
      end
      if M.options.codelens_events and client:supports_method('textDocument/codeLens') then
        vim.lsp.codelens.refresh({ bufnr = ev.buf })
        vim.api.nvim_create_autocmd(M.options.codelens_events, {
          group = augroup,
          buffer = ev.buf,
          callback = function()
            vim.lsp.codelens.refresh({ bufnr = ev.buf })
          end,
        })
      end
    end,
  })
end

return M

"""`dify-lsp mcp`: the checker, the SDK and schema knowledge, the runner, the scaffolder and the packager as
Model Context Protocol tools, for coding agents (Claude Code, Cursor, Copilot agent mode, Codex, Gemini CLI...).

- :mod:`dify_lsp.mcp.operations`: what each tool does, over the engine (the checker, the index, the session
  catalog, the schemas, the scaffold, the packager); plain functions from validated inputs to JSON-able dicts,
  raising :class:`~dify_lsp.mcp.operations.RequestError` for input the engine cannot use.
- :mod:`dify_lsp.mcp.run_adapter`: the one function that hands a run to the runner.
- :mod:`dify_lsp.mcp.server`: the MCP server (the official ``mcp`` SDK's ``MCPServer`` over stdio): tool
  descriptions for the model, input schemas, resources for the JSON Schemas.

Nothing here runs plugin code except the run tool, and nothing writes files except the tools whose whole
point is writing (apply a fix, create a tool, write a package).
"""

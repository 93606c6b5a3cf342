"""The "Dify: New tool" command: a tool YAML and Python from templates, listed in the provider, opened.

``workspace/executeCommand dify.newTool [{"uri": <any file or folder of the plugin>, "name": "web_search",
"provider": <provider YAML uri, when the plugin has several>}]``.  The server never writes files itself:
it asks the client to apply one WorkspaceEdit (workspace/applyEdit) that creates both files and edits the
provider, then asks it to show them (window/showDocument).  The answer says what was created, or why not.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from dify_lsp.features.client import uri_to_path
from dify_lsp.i18n import Listing, msg, tr

log = logging.getLogger(__name__)

NEW_TOOL_COMMAND = "dify.newTool"


def _error(message: str, language: str) -> dict[str, Any]:
    return {"status": "error", "message": tr(message, language), "created": []}


async def new_tool_command(ls: Any, args: dict[str, Any]) -> dict[str, Any]:
    # Imported here: this module is imported when the server starts (it adds a command), the scaffold
    # and the code-action helpers (the Python scanner) only when a tool is created.
    from dify_lsp.features.code_actions import workspace_edit
    from dify_lsp.scaffold import ScaffoldError, new_tool

    language = ls.language
    uri, name = args.get("uri"), args.get("name")
    if not isinstance(name, str) or not name:
        return _error(msg("give the new tool's name: {example}", example='{"uri": ..., "name": "web_search"}'), language)
    path = uri_to_path(uri) if isinstance(uri, str) else None
    root = ls.index.root_for(path) if path is not None else None
    if root is None:
        return _error(msg("no Dify plugin (manifest.yaml) found for {uri}", uri=repr(uri)), language)
    plugin = ls.index.plugin_at(root)
    provider = uri_to_path(args["provider"]) if isinstance(args.get("provider"), str) else None
    try:
        plan = new_tool(plugin, ls.index.source, name, provider)
    except ScaffoldError as exc:
        return _error(exc.args[0] if exc.args else str(exc), language)
    ctx = ls.context_for(root / "manifest.yaml", "", None, plugin)
    edit = workspace_edit(ctx, plan.edits, plan.files)
    if edit is None:
        return _error(msg("this editor cannot create files through the language server (no workspace edit resource operations)"), language)
    try:
        applied = await asyncio.wait_for(
            ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=tr(msg("New tool {name}", name=name), language))), 30
        )
    except Exception as exc:
        return _error(msg("the editor did not apply the edit: {error}", error=str(exc)), language)
    if not applied.applied:
        return _error(msg("the editor refused the edit: {reason}", reason=applied.failure_reason) if applied.failure_reason
                      else msg("the editor refused the edit without saying why"), language)
    created = [p.as_uri() for p in plan.paths_to_open()]
    if ls.client.show_document:
        for i, uri_ in enumerate(created):
            try:
                last = i == len(created) - 1
                await asyncio.wait_for(ls.window_show_document_async(types.ShowDocumentParams(uri=uri_, take_focus=last)), 10)
            except Exception as exc:  # opening is a courtesy; the files exist
                log.info("showDocument %s failed: %s", uri_, exc)
    return {"status": "ok", "message": tr(msg("created {path}", path=Listing(plugin.relative(p) for p in plan.files)), language), "created": created}


def register(server: Any) -> None:
    @server.command(NEW_TOOL_COMMAND)
    async def on_new_tool(ls: Any, *arguments: Any) -> dict[str, Any]:
        args = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
        return await new_tool_command(ls, args)

"""The "Dify: New tool" command through the real server: one applied WorkspaceEdit, files shown, check clean."""

from __future__ import annotations

import pytest
from lsprotocol import types

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex
from names_helpers import apply_workspace_edit, names_plugin, uri_path, write_all


def _client_applies_edits(session) -> tuple[list, list]:
    applied: list[types.ApplyWorkspaceEditParams] = []

    @session.client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        write_all(apply_workspace_edit(params.edit, session.encoding))
        return types.ApplyWorkspaceEditResult(applied=True)

    return applied, session.client.shown_documents  # pytest-lsp answers window/showDocument and records it


@pytest.mark.asyncio
async def test_new_tool_command_creates_lists_and_opens_the_tool(session, tmp_path):
    plugin = names_plugin(tmp_path)
    applied, shown = _client_applies_edits(session)
    session.open(plugin / "tools" / "ask.py")

    result = await session.execute("dify.newTool", {"uri": (plugin / "tools" / "ask.py").as_uri(), "name": "translate"})

    assert result["status"] == "ok", result
    assert len(applied) == 1 and applied[0].label == "New tool translate"
    assert {uri_path(u).relative_to(plugin).as_posix() for u in result["created"]} == {"tools/translate.yaml", "tools/translate.py"}
    assert "  - tools/translate.yaml\n" in (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")
    if session.client.capabilities.window and session.client.capabilities.window.show_document:
        assert [uri_path(d.uri).name for d in shown] == ["translate.yaml", "translate.py"]
        assert [d.take_focus for d in shown] == [False, True]  # the Python ends up in front
    assert check_plugin(PluginIndex(), plugin, {}).findings == []


@pytest.mark.asyncio
async def test_new_tool_command_refuses_a_taken_name_without_editing(session, tmp_path):
    plugin = names_plugin(tmp_path)
    applied, _ = _client_applies_edits(session)
    result = await session.execute("dify.newTool", {"uri": plugin.as_uri(), "name": "ask"})
    assert result == {"status": "error", "message": "the plugin already has a tool named 'ask'", "created": []}
    assert applied == []

"""Rename of tool parameters and credentials across YAML, Python and saved invocations, through the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from names_helpers import apply_workspace_edit, names_plugin, uri_path


async def _rename(session, path: Path, needle: str, new_name: str, nth: int = 0, offset: int = 1) -> types.WorkspaceEdit:
    session.open(path)
    return await session.client.text_document_rename_async(
        types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=session.find(path, needle, nth, offset),
            new_name=new_name,
        )
    )


def _replace_nth(text: str, old: str, new: str, nth: int) -> str:
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(old, idx + 1)
    return text[:idx] + new + text[idx + len(old) :]


@pytest.mark.asyncio
async def test_rename_parameter_from_yaml_changes_declaration_reads_and_saved_invocation(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml, tool_py = plugin / "tools" / "ask.yaml", plugin / "tools" / "ask.py"
    saved = plugin / ".dify" / "invocations" / "ask.yaml"
    before = {p: p.read_text(encoding="utf-8") for p in (tool_yaml, tool_py, saved)}

    edit = await _rename(session, tool_yaml, "name: question", "query", offset=len("name: q"))
    after = apply_workspace_edit(edit, session.encoding)

    assert set(after) == {tool_yaml, tool_py, saved}
    assert after[tool_yaml] == before[tool_yaml].replace("- name: question", "- name: query")
    # the two reads change; the comment, the "question" in the comment and the f-string do not
    expected_py = before[tool_py].replace('tool_parameters["question"]', 'tool_parameters["query"]').replace('params.get("question")', 'params.get("query")')
    assert after[tool_py] == expected_py
    assert '# the question comes from the LLM; "question" is required' in after[tool_py]
    assert "Answer this question: {question}" in after[tool_py]
    assert after[saved] == before[saved].replace("  question: What is Dify?", "  query: What is Dify?")
    if edit.document_changes is not None:  # a client that takes versioned edits (VS Code)
        versions = {uri_path(c.text_document.uri): c.text_document.version for c in edit.document_changes}
        assert versions == {tool_yaml: 1, tool_py: None, saved: None}  # only the open document has a version
        assert sum(len(c.edits) for c in edit.document_changes) == 4
    else:
        assert sum(len(v) for v in edit.changes.values()) == 4


@pytest.mark.asyncio
async def test_rename_parameter_from_python_keeps_yaml_quotes_and_follows_model_config(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml, tool_py = plugin / "tools" / "ask.yaml", plugin / "tools" / "ask.py"
    saved = plugin / ".dify" / "invocations" / "ask.yaml"
    before = {p: p.read_text(encoding="utf-8") for p in (tool_yaml, tool_py, saved)}

    edit = await _rename(session, tool_py, 'LLMModelConfig(**tool_parameters["model"', "llm_model", offset=len('LLMModelConfig(**tool_parameters["m'))
    after = apply_workspace_edit(edit, session.encoding)

    assert after[tool_yaml] == before[tool_yaml].replace('- name: "model"', '- name: "llm_model"')
    assert after[tool_py] == before[tool_py].replace('tool_parameters["model"]', 'tool_parameters["llm_model"]')
    assert "model_config=LLMModelConfig" in after[tool_py]  # the keyword argument named model_config is not touched
    assert after[saved] == before[saved].replace("  model: {provider", "  llm_model: {provider")


@pytest.mark.asyncio
async def test_rename_credential_from_provider_yaml(session, tmp_path):
    plugin = names_plugin(tmp_path)
    provider = plugin / "provider" / "asker.yaml"
    saved = plugin / ".dify" / "invocations" / "ask.yaml"
    before = {p: p.read_text(encoding="utf-8") for p in (provider, saved)}

    provider_py, tool_py = plugin / "provider" / "asker.py", plugin / "tools" / "ask.py"
    before.update({p: p.read_text(encoding="utf-8") for p in (provider_py, tool_py)})

    edit = await _rename(session, provider, "  api_key:", "token", offset=3)
    after = apply_workspace_edit(edit, session.encoding)

    assert set(after) == {provider, saved, provider_py, tool_py}
    assert after[provider] == before[provider].replace("  api_key:\n", "  token:\n")
    assert after[saved] == before[saved].replace("  api_key: sk-test", "  token: sk-test")
    # _validate_credentials reads it; the error message that merely names it stays
    assert after[provider_py] == before[provider_py].replace('credentials.get("api_key")', 'credentials.get("token")')
    assert '"api_key is required"' in after[provider_py]
    assert after[tool_py] == before[tool_py].replace('self.runtime.credentials.get("api_key")', 'self.runtime.credentials.get("token")')
    assert "(no api_key: answered" in after[tool_py]


@pytest.mark.asyncio
async def test_rename_credential_from_a_tool_read(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    edit = await _rename(session, tool_py, 'credentials.get("api_key")', "secret_key", offset=len('credentials.get("a'))
    after = apply_workspace_edit(edit, session.encoding)
    assert set(after) == {plugin / "provider" / "asker.yaml", plugin / "provider" / "asker.py", tool_py, plugin / ".dify" / "invocations" / "ask.yaml"}
    assert "  secret_key:\n    type: secret-input" in after[plugin / "provider" / "asker.yaml"]


@pytest.mark.asyncio
async def test_rename_endpoint_setting(session, tmp_path):
    plugin = names_plugin(tmp_path)
    group = plugin / "group" / "hook.yaml"
    endpoint_py = plugin / "endpoints" / "hook.py"
    edit = await _rename(session, group, "name: token", "secret", offset=len("name: t"))
    after = apply_workspace_edit(edit, session.encoding)
    assert set(after) == {group, endpoint_py}
    assert after[group] == group.read_text(encoding="utf-8").replace("name: token", "name: secret")
    assert after[endpoint_py] == endpoint_py.read_text(encoding="utf-8").replace('settings.get("token")', 'settings.get("secret")')


@pytest.mark.asyncio
async def test_prepare_rename_gives_the_name_range_and_nothing_elsewhere(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    session.open(tool_py)
    uri = tool_py.as_uri()
    got = await session.client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=session.find(tool_py, 'tool_parameters["question"]', offset=20))
    )
    start = session.find(tool_py, 'tool_parameters["question"]', offset=len('tool_parameters["'))
    assert isinstance(got, types.PrepareRenamePlaceholder)
    assert got.placeholder == "question"
    assert (got.range.start, got.range.end.character - got.range.start.character) == (start, len("question"))
    # the word "question" in a comment and in an f-string is not a parameter
    for needle in ("# the question", "this question"):
        none = await session.client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=session.find(tool_py, needle, offset=len(needle) - 3))
        )
        assert none is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "new_name, message",
    [
        ("model", "already exists"),
        ("two words", "not a usable tool parameter name"),
        ("true", "would be read by YAML as true or false"),
        ("", "needs a name"),
    ],
)
async def test_rename_refuses_unusable_or_colliding_names(session, tmp_path, new_name, message):
    plugin = names_plugin(tmp_path)
    tool_yaml = plugin / "tools" / "ask.yaml"
    with pytest.raises(JsonRpcException) as err:
        await _rename(session, tool_yaml, "name: question", new_name, offset=len("name: q"))
    assert message in err.value.message
    assert tool_yaml.read_text(encoding="utf-8") == (tmp_path / "names" / "tools" / "ask.yaml").read_text(encoding="utf-8")


@pytest.mark.asyncio
async def test_rename_warns_when_the_code_hands_the_parameters_on(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    text = tool_py.read_text(encoding="utf-8")
    tool_py.write_text(text.replace("        params = tool_parameters\n", "        params = tool_parameters\n        log_all(tool_parameters)\n")
                       + "\n\ndef log_all(values):\n    return sorted(values)\n", encoding="utf-8")
    edit = await _rename(session, plugin / "tools" / "ask.yaml", "name: question", "query", offset=len("name: q"))
    assert edit is not None
    warnings = [m for m in session.client.messages if m.type == types.MessageType.Warning]
    assert len(warnings) == 1
    assert "check by hand: ask.py: AskTool._invoke passes tool_parameters on as a whole" in warnings[0].message

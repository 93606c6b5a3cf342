"""YAML editor features through the real server (VS Code and Neovim profiles):
completion, hover, document links, definition both ways, symbols and quick fixes."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from conftest import copy_fixture
from lsp_session import LspSession, rng


def snippets(session: LspSession) -> bool:
    caps = session.client.capabilities
    try:
        return bool(caps.text_document.completion.completion_item.snippet_support)
    except AttributeError:
        return False


def labels(items) -> list[str]:
    return [i.label for i in items]


async def test_key_completion_on_half_typed_parameter(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text()
    # Drop `type: string` from the first parameter and start typing `ty` instead: the YAML no longer parses.
    text = text.replace("    type: string\n", "    ty\n", 1)
    session.open(tool, text)
    pos = session.find(tool, "    ty\n", offset=6)
    items = await session.completion(tool, pos)
    names = labels(items)
    assert "type" in names
    # Only missing keys: name, label, form... are already there.
    assert not {"name", "label", "human_description", "form", "required"} & set(names)
    # Required keys come first.
    ordered = [i.label for i in sorted(items, key=lambda i: i.sort_text or i.label)]
    assert ordered[0] == "type"
    (ty,) = [i for i in items if i.label == "type"]
    assert rng(ty.text_edit.range) == (pos.line, 4, pos.line, pos.character)
    if snippets(session):
        assert ty.insert_text_format == types.InsertTextFormat.Snippet
        assert ty.text_edit.new_text.startswith("type: ${1|string,number,")
    else:
        assert ty.text_edit.new_text == "type: "


async def test_enum_value_completion_for_type_and_form(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text().replace("    type: string\n", "    type: \n", 1)
    session.open(tool, text)
    items = await session.completion(tool, session.find(tool, "    type: \n", offset=10))
    assert {"string", "model-selector", "date-range", "dynamic-select"} <= set(labels(items))
    assert "date-picker" not in labels(items)
    items = await session.completion(tool, session.find(tool, "form: llm", offset=6))
    assert set(labels(items)) == {"llm", "form", "schema"}


async def test_scope_completion_depends_on_parameter_type(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text().replace("scope: llm", "scope: tool-call&")
    session.open(tool, text)
    pos = session.find(tool, "scope: tool-call&", offset=len("scope: tool-call&"))
    items = await session.completion(tool, pos)
    names = labels(items)
    assert "llm" in names and "text-embedding" in names and "tool-call" not in names
    (llm,) = [i for i in items if i.label == "llm"]
    assert rng(llm.text_edit.range) == (pos.line, pos.character, pos.line, pos.character)


async def test_path_and_icon_completion(session: LspSession, llm_tool: Path):
    (llm_tool / "_assets" / "dark.svg").write_text("<svg/>")
    provider = llm_tool / "provider" / "llm.yaml"
    text = provider.read_text().replace("  - tools/llm.yaml\n", "  - \n").replace("source: provider/llm.py", "source: ")
    session.open(provider, text)
    items = await session.completion(provider, session.find(provider, "  - \n", offset=4))
    assert "tools/llm.yaml" in labels(items)
    assert "manifest.yaml" not in labels(items)
    items = await session.completion(provider, session.find(provider, "source: ", offset=8))
    assert set(labels(items)) >= {"tools/llm.py", "provider/llm.py", "main.py"}
    items = await session.completion(provider, session.find(provider, "icon: icon.svg", offset=6))
    assert set(labels(items)) == {"icon.svg", "dark.svg"}


async def test_manifest_tag_and_permission_completion(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text().replace("      llm: true\n", "      llm: true\n      \n") + "tags:\n  - \n"
    session.open(manifest, text)
    items = await session.completion(manifest, session.find(manifest, "      llm: true\n      \n", offset=len("      llm: true\n      ")))
    assert {"text_embedding", "rerank", "tts", "speech2text", "moderation"} <= set(labels(items))
    assert "llm" not in labels(items) and "enabled" not in labels(items)
    items = await session.completion(manifest, session.find(manifest, "tags:\n  - \n", offset=len("tags:\n  - ")))
    assert {"utilities", "agent", "rag"} <= set(labels(items))


async def test_hover_on_key_and_values(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    session.open(tool)
    hover = await session.hover(tool, session.find(tool, "form: form", offset=1))
    assert hover is not None and "who fills in the value" in hover.contents.value and "required" in hover.contents.value
    assert rng(hover.range) == (session.find(tool, "form: form").line, 4, session.find(tool, "form: form").line, 8)
    hover = await session.hover(tool, session.find(tool, "model-selector", offset=3))
    assert "a model picked by the user" in hover.contents.value
    hover = await session.hover(tool, session.find(tool, "scope: llm", offset=8))
    assert "large language models" in hover.contents.value and "tool-call" in hover.contents.value
    manifest = llm_tool / "manifest.yaml"
    session.open(manifest)
    hover = await session.hover(manifest, session.find(manifest, "author: langgenius", offset=2))
    assert "lowercase" in hover.contents.value
    hover = await session.hover(manifest, session.find(manifest, "- amd64", offset=3))
    assert "x86-64" in hover.contents.value and "arm64" in hover.contents.value


async def test_document_links_and_definitions(session: LspSession, llm_tool: Path):
    provider = llm_tool / "provider" / "llm.yaml"
    session.open(provider)
    links = await session.client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=types.TextDocumentIdentifier(uri=provider.as_uri()))
    )
    targets = {l.target for l in links}
    assert targets == {(llm_tool / "tools" / "llm.yaml").as_uri(), (llm_tool / "provider" / "llm.py").as_uri(), (llm_tool / "_assets" / "icon.svg").as_uri()}
    tool = llm_tool / "tools" / "llm.yaml"
    session.open(tool)
    # extra.python.source -> the Tool class
    result = await session.definition(tool, session.find(tool, "tools/llm.py", offset=2))
    (loc,) = result
    assert loc.uri == (llm_tool / "tools" / "llm.py").as_uri()
    py_text = (llm_tool / "tools" / "llm.py").read_text()
    class_line = py_text.split("\n").index("class LLMTool(Tool):")
    assert rng(loc.range) == (class_line, 6, class_line, 13)
    # identity.name -> the Tool class as well
    (loc2,) = await session.definition(tool, session.find(tool, "name: llm", offset=7))
    assert loc2.uri == loc.uri
    # and back: the class name in Python -> the tool YAML
    py = llm_tool / "tools" / "llm.py"
    session.open(py)
    (back,) = await session.definition(py, session.position(py, class_line, 8))
    assert back.uri == tool.as_uri()
    name_line = tool.read_text().split("\n").index("  name: llm")
    assert rng(back.range) == (name_line, 8, name_line, 11)
    # not on a class name: the YAML provider stays silent
    other = await session.definition(py, session.position(py, class_line, 16))
    assert not other or all(l.uri != tool.as_uri() for l in other)


async def test_document_symbols(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    tool = root / "tools" / "search.yaml"
    session.open(tool)
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=tool.as_uri()))
    )
    (top,) = symbols
    assert top.name == "search"
    params = [c for c in top.children if c.name == "parameters"][0]
    assert [c.name for c in params.children] == ["query", "engines", "count", "period", "model", "app", "extra"]
    assert params.children[4].detail == "model-selector · Model"  # its type, and its label in the user's language
    provider = root / "provider" / "web_search.yaml"
    session.open(provider)
    (ptop,) = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=provider.as_uri()))
    )
    creds = [c for c in ptop.children if c.name == "credentials_for_provider"][0]
    assert [c.name for c in creds.children] == ["api_key", "engine", "summary_model"]
    manifest = root / "manifest.yaml"
    session.open(manifest)
    (mtop,) = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=manifest.as_uri()))
    )
    assert mtop.name == "web_search"
    plugins = [c for c in mtop.children if c.name == "plugins"][0]
    assert plugins.children[0].name == "tools" and plugins.children[0].children[0].name == "provider/web_search.yaml"


async def test_quick_fixes_for_author_version_key_and_date_picker(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text().replace("author: langgenius", "author: Yeuoly").replace("version: 0.0.1\ntype", "version: 1.0\ntype")
    manifest.write_text(text)
    session.open(manifest)
    diags = await session.diagnostics(manifest)
    titles = set()
    for d in [d for d in diags if d.code == "DL103"]:
        for action in await session.code_actions(manifest, d.range, [d]):
            titles.add(action.title)
            (edit,) = action.edit.changes[manifest.as_uri()] if action.edit.changes else action.edit.document_changes[0].edits
            assert edit.range == d.range
    assert titles >= {"Lowercase the author: yeuoly", "Use the three-part version 1.0.0"}
    tool = llm_tool / "tools" / "llm.yaml"
    ttext = tool.read_text().replace("llm_description:", "llm_descripton:").replace("type: string", "type: date-picker")
    tool.write_text(ttext)
    session.open(tool)
    diags = await session.diagnostics(tool)
    fixes = {}
    for d in diags:
        if d.code in ("DL105", "DL109"):
            for action in await session.code_actions(tool, d.range, [d]):
                fixes[d.code] = action.title
    assert fixes == {"DL105": "Rename 'llm_descripton' to 'llm_description'", "DL109": "Rename 'date-picker' to 'date-range'"}

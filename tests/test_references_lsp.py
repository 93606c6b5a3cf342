"""References and document highlights of declared names, through the real server."""

from __future__ import annotations

import pytest
from lsprotocol import types

from names_helpers import names_plugin, uri_path


def _where(session, locations) -> set[tuple[str, int, str]]:
    """(file name, line, the text the range covers) of each location."""
    out = set()
    for loc in locations:
        path = uri_path(loc.uri)
        line = path.read_text(encoding="utf-8").split("\n")[loc.range.start.line]
        raw = line.encode("utf-8") if session.encoding == "utf-8" else line.encode("utf-16-le")
        width = 1 if session.encoding == "utf-8" else 2
        text = raw[loc.range.start.character * width : loc.range.end.character * width].decode("utf-8" if width == 1 else "utf-16-le")
        out.add((f"{path.parent.name}/{path.name}", loc.range.start.line, text))
    return out


@pytest.mark.asyncio
async def test_references_from_a_read_include_the_yaml_declaration_and_saved_invocation(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    session.open(tool_py)
    found = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=tool_py.as_uri()),
            position=session.find(tool_py, 'params.get("question")', offset=len('params.get("qu')),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert _where(session, found) == {
        ("tools/ask.yaml", 10, "question"),
        ("tools/ask.py", 13, "question"),
        ("tools/ask.py", 14, "question"),
        ("invocations/ask.yaml", 1, "question"),
    }
    without = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=tool_py.as_uri()),
            position=session.find(tool_py, 'params.get("question")', offset=len('params.get("qu')),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert ("tools/ask.yaml", 10, "question") not in _where(session, without)
    assert len(without) == 3


@pytest.mark.asyncio
async def test_references_from_the_yaml_declaration(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml = plugin / "tools" / "ask.yaml"
    session.open(tool_yaml)
    found = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=tool_yaml.as_uri()),
            position=session.find(tool_yaml, '"model"', offset=2),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert _where(session, found) == {
        ("tools/ask.yaml", 19, "model"),
        ("tools/ask.py", 18, "model"),
        ("invocations/ask.yaml", 5, "model"),
    }


@pytest.mark.asyncio
async def test_highlights_in_python_mark_reads_only_not_comments_or_strings(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    session.open(tool_py)
    got = await session.client.text_document_document_highlight_async(
        types.DocumentHighlightParams(
            text_document=types.TextDocumentIdentifier(uri=tool_py.as_uri()),
            position=session.find(tool_py, 'tool_parameters["question"]', offset=len('tool_parameters["q')),
        )
    )
    assert sorted((h.range.start.line, h.kind) for h in got) == [(13, types.DocumentHighlightKind.Read), (14, types.DocumentHighlightKind.Read)]


@pytest.mark.asyncio
async def test_no_references_off_a_name(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    session.open(tool_py)
    found = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=tool_py.as_uri()),
            position=session.find(tool_py, "# the question", offset=8),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert not found


@pytest.mark.asyncio
async def test_references_follow_unsaved_edits_and_start_from_a_saved_invocation(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml, saved = plugin / "tools" / "ask.yaml", plugin / ".dify" / "invocations" / "ask.yaml"
    session.open(tool_yaml)

    async def refs(path, needle, offset):
        return _where(session, await session.client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=session.find(path, needle, offset=offset),
                context=types.ReferenceContext(include_declaration=True),
            )
        ))

    session.open(saved)
    assert ("tools/ask.yaml", 10, "question") in await refs(saved, "question:", 2)
    # the YAML renamed in the editor, not saved: the code's reads no longer belong to it
    session.set_text(tool_yaml, session.texts[tool_yaml.as_uri()].replace("- name: question", "- name: query"))
    found = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=tool_yaml.as_uri()),
            position=session.find(tool_yaml, "name: query", offset=len("name: q")),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    start = session.find(tool_yaml, "name: query", offset=len("name: "))
    assert [(uri_path(f.uri), f.range.start, f.range.end.character - f.range.start.character) for f in found] == [(tool_yaml, start, 5)]

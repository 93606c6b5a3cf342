"""The indentation-based key path guess behind YAML completion and hover, and its robustness."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from dify_lsp.caches import Caches
from dify_lsp.features import RequestContext
from dify_lsp.features.client import ClientFeatures
from dify_lsp.features.yaml_completion import yaml_completion
from dify_lsp.features.yaml_hover import yaml_hover
from dify_lsp.index import PluginIndex
from dify_lsp.settings import ServerSettings
from dify_lsp.schema import cursor as cursor_module
from dify_lsp.schema.cursor import cursor_at
from dify_lsp.textpos import Pos, Span, text_lines

TOOL = """identity:
  name: x
parameters:
  - name: q
    ty
    label:
      en_US: Q
  - name: m
    type: model-selector
    scope: tool-call&
    label:
      en
tags:
  - ut
"""


def test_half_typed_key_inside_a_list_item():
    cur = cursor_at(TOOL.split("\n"), 4, 6)
    assert cur.path == ["parameters", 0]
    assert cur.in_key and cur.prefix == "ty" and cur.prefix_col == 4
    assert set(cur.siblings) == {"name", "label"}


def test_value_position_knows_sibling_type():
    cur = cursor_at(TOOL.split("\n"), 9, 21)
    assert cur.path == ["parameters", 0] and cur.key == "scope" and not cur.in_key
    assert cur.prefix == "tool-call&"
    assert cur.siblings["type"] == "model-selector"


def test_nested_mapping_and_scalar_list_item():
    lines = TOOL.split("\n")
    assert cursor_at(lines, 11, 8).path == ["parameters", 0, "label"]
    cur = cursor_at(lines, 13, 6)
    assert cur.path == ["tags", 0] and cur.list_item and cur.prefix == "ut"


def test_blank_line_at_root_offers_root_keys():
    cur = cursor_at(["identity:", "  name: x", ""], 2, 0)
    assert cur.path == [] and cur.in_key and cur.prefix == ""
    assert "identity" in cur.siblings


class _StubPositions:
    """Engine spans as LSP ranges, one code point a unit (these texts are ASCII)."""

    def to_lsp_range(self, path: Path, span: Span, lines: list[str] | None = None) -> types.Range:
        return types.Range(
            start=types.Position(line=span.start.line, character=span.start.col),
            end=types.Position(line=span.end.line, character=span.end.col),
        )


def _client() -> ClientFeatures:
    """A client that takes snippets and Markdown."""
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(snippet_support=True, documentation_format=[types.MarkupKind.Markdown])
            ),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
        )
    )
    return ClientFeatures(lambda: caps)


class _NoEditor:
    """These features answer from the document alone: they never ask the editor anything."""

    def findings_for(self, path: Path) -> list:
        raise AssertionError("not expected")

    def document_version(self, uri: str) -> int | None:
        raise AssertionError("not expected")

    def show_message(self, message: str, level: types.MessageType) -> None:
        raise AssertionError("not expected")


def _ctx(text: str, kind: str = "tool") -> RequestContext:
    return RequestContext(
        Path("/nowhere/tool.yaml"), "file:///nowhere/tool.yaml", text, kind, None, PluginIndex(),
        ServerSettings(), _client(), _StubPositions(), _NoEditor(),
    )


def test_completion_without_a_plugin_still_offers_keys_and_scopes():
    ctx = _ctx(TOOL)
    items = yaml_completion(ctx, Pos(4, 6))
    assert "type" in [i.label for i in items] and "name" not in [i.label for i in items]
    scopes = [i.label for i in yaml_completion(ctx, Pos(9, 21))]
    assert "llm" in scopes and "tool-call" not in scopes
    # A tool YAML has no `tags`; a manifest does.
    assert yaml_completion(ctx, Pos(13, 6)) == []
    tags = [i.label for i in yaml_completion(_ctx(TOOL, "manifest"), Pos(13, 6))]
    assert "utilities" in tags and "trigger" in tags


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\t#'\"&[]{}é😀")), max_size=120), st.integers(0, 10), st.integers(0, 40))
def test_completion_and_hover_never_raise(text: str, line: int, col: int):
    lines = text.split("\n")
    line = min(line, len(lines) - 1)
    col = min(col, len(lines[line]))
    for kind in ("tool", "manifest", "tool_provider", "agent_strategy"):
        ctx = _ctx(text, kind)
        yaml_completion(ctx, Pos(line, col))
        yaml_hover(ctx, Pos(line, col))


@pytest.mark.parametrize("kind", ["tool", "manifest"])
def test_every_position_of_a_real_file_completes(kind: str):
    path = Path(__file__).parent.parent / "examples" / "llm-tool" / ("tools/llm.yaml" if kind == "tool" else "manifest.yaml")
    text = path.read_text()
    ctx = _ctx(text, kind)
    for n, line in enumerate(text.split("\n")):
        for c in range(len(line) + 1):
            yaml_completion(ctx, Pos(n, c))
            yaml_hover(ctx, Pos(n, c))


# -- the outline that lets the walk up pass over lines: the same answers as looking at every line --------

def _examples() -> list[str]:
    root = Path(__file__).parent.parent
    found = [*(root / "examples").rglob("*.yaml"), *(root / "tests" / "fixtures" / "kinds").rglob("*.yaml")]
    return [TOOL, "a:\n\t- b\n  -  c:\n    # x\n      d\n   -\n\n  - - e\n  -   f: 1\n", *(p.read_text(encoding="utf-8") for p in sorted(found)[:40])]


def _cursor_line_by_line(monkeypatch, lines: list[str], line: int, col: int):
    """cursor_at as it was before the outline: every line above looked at."""
    with monkeypatch.context() as m:
        m.setattr(cursor_module._Outline, "above", lambda self, at, column: at - 1)
        return cursor_at(lines, line, col)


def test_the_outline_walk_finds_what_looking_at_every_line_finds(monkeypatch):
    rng = random.Random(3)
    for text in _examples():
        lines = text.split("\n")
        for _ in range(60):
            line = rng.randrange(len(lines))
            col = rng.randrange(len(lines[line]) + 1)
            assert cursor_at(lines, line, col) == _cursor_line_by_line(monkeypatch, lines, line, col), (text, line, col)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\t#'-")), max_size=200), st.integers(0, 30), st.integers(0, 40))
def test_the_outline_walk_on_any_text(text: str, line: int, col: int):
    lines = text.split("\n")
    line = min(line, len(lines) - 1)
    col = min(col, len(lines[line]))
    with pytest.MonkeyPatch.context() as m:
        got = cursor_at(lines, line, col)
        m.setattr(cursor_module._Outline, "above", lambda self, at, column: at - 1)
        assert got == cursor_at(lines, line, col)


def test_an_edited_versions_outline_is_made_from_the_last_one_and_equals_a_fresh_one():
    rng = random.Random(11)
    caches = Caches()
    text = "\n".join(_examples()[3:12])
    before = dict(cursor_module.OUTLINE_COUNTS)
    for _ in range(80):
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(["x", "\n", "  ", "- ", "# ", "\n    k: v\n", ""]) + text[i + rng.randrange(3):]
        lines = text_lines(text, caches.document_lines)
        assert text_lines(text, caches.document_lines) is lines  # one split per text
        outline = cursor_module._outline(lines, caches)
        assert cursor_module._outline(lines, caches) is outline  # one outline per version
        assert outline.codes == cursor_module.outline_codes(lines)
    assert cursor_module.OUTLINE_COUNTS["updated"] - before["updated"] >= 70

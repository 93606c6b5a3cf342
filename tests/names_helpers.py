"""Helpers for the rename / references / quick-fix tests: a copy of the names fixture, applying WorkspaceEdits."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from lsp_session import units

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "names"

SAVED_INVOCATION = """\
parameters:
  question: What is Dify?   # question asked in the last run
credentials:
  api_key: sk-test
models:
  model: {provider: openai, model: gpt-4o-mini}
"""


def names_plugin(tmp_path: Path) -> Path:
    """A private copy of tests/fixtures/names, with a saved invocation file for its tool."""
    dest = tmp_path / "names"
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    saved = dest / ".dify" / "invocations" / "ask.yaml"
    saved.parent.mkdir(parents=True)
    saved.write_text(SAVED_INVOCATION, encoding="utf-8")
    return dest


def uri_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _offset(text: str, pos: types.Position, encoding: str) -> int:
    lines = text.split("\n")
    line = lines[pos.line]
    cp = 0
    while cp < len(line) and units(line[:cp], encoding) < pos.character:
        cp += 1
    return sum(len(l) + 1 for l in lines[: pos.line]) + cp


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    spans = sorted(((_offset(text, e.range.start, encoding), _offset(text, e.range.end, encoding), e.new_text) for e in edits), reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


def apply_workspace_edit(edit: types.WorkspaceEdit, encoding: str) -> dict[Path, str]:
    """The new text of every file the edit changes (read from disk), and files it creates."""
    out: dict[Path, str] = {}
    for uri, edits in (edit.changes or {}).items():
        path = uri_path(uri)
        out[path] = apply_text_edits(out.get(path, path.read_text(encoding="utf-8")), list(edits), encoding)
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            out[uri_path(change.uri)] = ""
        elif isinstance(change, types.TextDocumentEdit):
            path = uri_path(change.text_document.uri)
            base = out[path] if path in out else path.read_text(encoding="utf-8")
            out[path] = apply_text_edits(base, [e for e in change.edits if isinstance(e, types.TextEdit)], encoding)
    return out


def write_all(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

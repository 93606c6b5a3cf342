"""What the connected client supports, and positions in its units.

Feature modules reach these through :class:`~dify_lsp.features.RequestContext`
(``ctx.client``, ``ctx.positions``) or through the server object they are
given, never by importing :mod:`dify_lsp.server`: the server sits above its
features.  Engine positions are code points; the client counts in UTF-16
unless it negotiated UTF-8 or UTF-32, so conversion happens only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lsprotocol import types

from dify_lsp.caches import Caches
from dify_lsp.index import TextSource
from dify_lsp.textpos import Pos, Span, engine_text, text_lines
from dify_lsp.uris import uri_to_path

__all__ = ["ClientFeatures", "DocumentPositions", "uri_to_path"]


class ClientFeatures:
    """Answers "does the client support X?" from its initialize capabilities."""

    def __init__(self, capabilities: Callable[[], types.ClientCapabilities | None]):
        self._capabilities = capabilities

    @property
    def capabilities(self) -> types.ClientCapabilities | None:
        try:
            return self._capabilities()
        except Exception:  # before initialize
            return None

    def _get(self, *attrs: str) -> Any:
        value: Any = self.capabilities
        for attr in attrs:
            value = getattr(value, attr, None)
            if value is None:
                return None
        return value

    @property
    def snippets(self) -> bool:
        return bool(self._get("text_document", "completion", "completion_item", "snippet_support"))

    @property
    def markdown(self) -> bool:
        return types.MarkupKind.Markdown in (self._get("text_document", "hover", "content_format") or [])

    @property
    def pull_diagnostics(self) -> bool:
        return self._get("text_document", "diagnostic") is not None

    @property
    def diagnostic_refresh(self) -> bool:
        return bool(self._get("workspace", "diagnostics", "refresh_support"))

    @property
    def code_lens_refresh(self) -> bool:
        return bool(self._get("workspace", "code_lens", "refresh_support"))

    @property
    def link_tooltips(self) -> bool:
        return bool(self._get("text_document", "document_link", "tooltip_support"))

    @property
    def work_done_progress(self) -> bool:
        return bool(self._get("window", "work_done_progress"))

    @property
    def configuration(self) -> bool:
        return bool(self._get("workspace", "configuration"))

    @property
    def prepare_rename(self) -> bool:
        return bool(self._get("text_document", "rename", "prepare_support"))

    @property
    def document_changes(self) -> bool:
        """Whether a WorkspaceEdit may carry documentChanges (needed to create files)."""
        return bool(self._get("workspace", "workspace_edit", "document_changes"))

    @property
    def resource_create(self) -> bool:
        """Whether a WorkspaceEdit may create files.  Resource operations exist only inside documentChanges,
        so a client announcing them takes documentChanges (Neovim announces them without documentChanges)."""
        ops = self._get("workspace", "workspace_edit", "resource_operations") or []
        return types.ResourceOperationKind.Create in ops

    @property
    def watched_files_registration(self) -> bool:
        """Whether the server may register file watchers (workspace/didChangeWatchedFiles) at run time."""
        return bool(self._get("workspace", "did_change_watched_files", "dynamic_registration"))

    @property
    def show_document(self) -> bool:
        return bool(self._get("window", "show_document", "support"))


class DocumentPositions:
    """Engine spans <-> client ranges, for open documents (editor text) and files on disk."""

    def __init__(self, workspace: Callable[[], Any], open_paths: dict[Path, str], source: TextSource, caches: Caches | None = None):
        self._workspace = workspace
        self.open_paths = open_paths
        self.source = source
        # A document's lines, split once per version (see textpos.text_lines).
        self._lines_store = caches.document_lines if caches is not None else None

    def lines_of(self, path: Path) -> list[str]:
        uri = self.open_paths.get(path)
        if uri is not None:
            return text_lines(engine_text(self._workspace().get_text_document(uri).source), self._lines_store)
        ft = self.source.read(path)
        return text_lines(ft.text or "", self._lines_store)

    def to_lsp_range(self, path: Path, span: Span, lines: list[str] | None = None) -> types.Range:
        if lines is None:
            lines = self.lines_of(path)
        codec = self._workspace().position_codec
        rng = types.Range(
            start=types.Position(line=span.start.line, character=span.start.col),
            end=types.Position(line=span.end.line, character=span.end.col),
        )
        if span.start.line >= len(lines) or span.end.line >= len(lines):
            return rng
        return codec.range_to_client_units(lines, rng)

    def from_lsp_position(self, uri: str, position: types.Position) -> Pos:
        doc = self._workspace().get_text_document(uri)
        lines = text_lines(engine_text(doc.source), self._lines_store)
        if position.line >= len(lines):
            return Pos(max(0, len(lines) - 1), len(lines[-1]) if lines else 0)
        pos = self._workspace().position_codec.position_from_client_units(
            lines, types.Position(line=position.line, character=position.character)
        )
        return Pos(pos.line, min(pos.character, len(lines[pos.line])))

    def from_lsp_range(self, lines: list[str], rng: types.Range) -> Span:
        if not lines:
            return Span(Pos(0, 0), Pos(0, 0))
        out = self._workspace().position_codec.range_from_client_units(lines, rng)
        return Span(Pos(out.start.line, out.start.character), Pos(out.end.line, out.end.character))

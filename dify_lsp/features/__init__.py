"""Editor features: one module per feature, registered in one place.

The server has exactly one pygls handler per LSP method (see
:mod:`dify_lsp.server`).  Each handler converts the client's position to an
engine :class:`~dify_lsp.textpos.Pos` (code points), builds a
:class:`RequestContext`, and asks every *provider* registered for that method
(and for the document's kind) in turn; results are merged.  A provider that
raises is logged and skipped, so one broken feature never breaks a request.

A feature module marks its providers with :func:`provides` and lists them in
its ``PROVIDERS`` tuple; it may define ``register(server)`` for anything else
(commands).  :mod:`dify_lsp.features.registry` lists the feature modules: adding
a feature is one line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from lsprotocol import types

from dify_lsp.features.client import ClientFeatures, DocumentPositions
from dify_lsp.findings import Finding
from dify_lsp.i18n import ENGLISH, tr
from dify_lsp.index import CONTENTS, Plugin, PluginIndex, Reader
from dify_lsp.textpos import Pos, Span, text_lines

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.settings import ServerSettings

# Methods that providers can serve, and how results merge.
COMPLETION = "completion"  # -> list[types.CompletionItem]; lists are concatenated
HOVER = "hover"  # -> types.Hover | None; first non-None wins
SIGNATURE_HELP = "signature_help"  # -> types.SignatureHelp | None; first wins
DEFINITION = "definition"  # -> list[types.Location | types.LocationLink]; concatenated
DOCUMENT_LINK = "document_link"  # (ctx) -> list[types.DocumentLink]; concatenated
DOCUMENT_SYMBOL = "document_symbol"  # (ctx) -> list[types.DocumentSymbol]; concatenated
CODE_ACTION = "code_action"  # (ctx, span, diagnostics) -> list[types.CodeAction]; concatenated
CODE_LENS = "code_lens"  # (ctx) -> list[types.CodeLens]; concatenated
PREPARE_RENAME = "prepare_rename"  # (ctx, pos) -> PrepareRenamePlaceholder | an exception to answer with | None; first wins
RENAME = "rename"  # (ctx, pos, new_name) -> WorkspaceEdit | an exception to answer with | None; first wins
REFERENCES = "references"  # (ctx, pos, include_declaration) -> list[types.Location]; concatenated
DOCUMENT_HIGHLIGHT = "document_highlight"  # (ctx, pos) -> list[types.DocumentHighlight]; concatenated


class Editor(Protocol):
    """What a feature may ask of the connected editor besides answering its request (the server
    implements it; features never see the server itself)."""

    def findings_for(self, path: Path) -> list[Finding]:
        """The findings last reported for ``path``."""
        ...

    def document_version(self, uri: str) -> int | None:
        """The version of a document open in the editor; None for a file only on disk."""
        ...

    def show_message(self, message: str, level: types.MessageType) -> None:
        """Tell the user something (window/showMessage)."""
        ...


@dataclass
class RequestContext:
    """One request on one document, in engine coordinates, with what a feature may use to answer it."""

    path: Path
    uri: str
    text: str
    kind: str | None  # manifest, tool_provider, tool, python, ... (schema.references) or None
    plugin: Plugin | None
    index: PluginIndex
    settings: ServerSettings
    client: ClientFeatures  # what the client supports
    positions: DocumentPositions  # engine spans <-> client ranges
    editor: Editor
    language: str = ENGLISH  # the language the user reads (dify_lsp.i18n): setting, client locale or environment
    _lines: list[str] | None = None

    @property
    def read(self) -> Reader:
        """How a feature reads a file's content (``ctx.read.root(yf)``, ``ctx.read.span(ref)``): plainly, as the
        index holds it; only the checker's reader records (a feature decides nothing about re-running rules)."""
        return CONTENTS

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = text_lines(self.text, self.index.caches.document_lines)
        return self._lines

    # Client capabilities worth asking about (once per request: completion asks per item).
    @cached_property
    def snippets(self) -> bool:
        return self.client.snippets

    @cached_property
    def markdown(self) -> bool:
        return self.client.markdown

    # Engine <-> LSP positions for this or another document.
    def range(self, span: Span, path: Path | None = None) -> types.Range:
        # This document's lines are at hand: no second split of a long file's text per conversion.
        own = (path is None or path == self.path) and self.text
        return self.positions.to_lsp_range(path or self.path, span, self.lines if own else None)

    def position(self, pos: Pos, path: Path | None = None) -> types.Position:
        return self.range(Span(pos, pos), path).start

    def uri_for(self, path: Path) -> str:
        """The URI of a file as the client spells it when it has the file open (on Windows an editor's
        ``file:///c%3A/...`` and ``Path.as_uri()``'s ``file:///C:/...`` are one file), else ``path.as_uri()``."""
        return self.positions.open_paths.get(path) or path.as_uri()

    def tr(self, text: str | None) -> str:
        """``text`` (a static English text or a rule message) in the user's language."""
        return tr(text, self.language)

    def markup(self, markdown_text: str) -> types.MarkupContent:
        if self.markdown:
            return types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown_text)
        return types.MarkupContent(kind=types.MarkupKind.PlainText, value=markdown_text)


@dataclass(frozen=True)
class Provider:
    method: str
    fn: Callable[..., Any]
    kinds: tuple[str, ...] | None  # None: every document

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


def provides(method: str, kinds: tuple[str, ...] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark ``fn`` as a provider of ``method`` for documents of ``kinds`` (it serves once its module
    lists it in ``PROVIDERS``).

    Signatures: completion/hover/signature_help/definition take (ctx, pos);
    document_link/document_symbol/code_lens take (ctx); code_action takes
    (ctx, span, diagnostics).
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.provider = Provider(method, fn, kinds)  # type: ignore[attr-defined]
        return fn

    return mark

"""What dify-lsp needs from pygls beyond its public API, in one place.

Each item names the pygls internals it relies on; ``tests/test_pygls_compat.py``
fails when the pinned pygls (see pyproject.toml) changes under any of them.
No other module touches pygls's private attributes.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from typing import Any

from lsprotocol.types import TextDocumentContentChangePartial
from pygls.workspace import TextDocument, Workspace

_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# Where str.splitlines() ends a line and LSP does not.
_OTHER_LINE_ENDS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def lsp_lines(text: str) -> tuple[str, ...]:
    """Lines as LSP counts them, each with its line end: only \\n, \\r\\n and \\r end a line."""
    if not any(end in text for end in _OTHER_LINE_ENDS):
        return tuple(text.splitlines(True))  # the same lines, split in C
    return tuple(m.group(0) for m in _LSP_LINE.finditer(text))


class LspLinesTextDocument(TextDocument):
    """A pygls document whose lines end only where LSP says they do.

    pygls splits with str.splitlines(), which also breaks at form feeds, \\x1c-\\x1e, NEL and the
    Unicode separators; incremental edits on text holding those would land in the wrong place.
    Applying an edit overrides pygls 2.1's ``_apply_incremental_change`` (and uses its
    ``_position_codec`` and ``_source``) to do the same faster.
    """

    @property
    def lines(self) -> tuple[str, ...]:  # type: ignore[override]
        return lsp_lines(self.source)

    def _apply_incremental_change(self, change: TextDocumentContentChangePartial) -> None:
        """pygls 2.1's ``TextDocument._apply_incremental_change``, giving the same text, with the unchanged
        text copied in two slices instead of line by line through a StringIO (in a 5,000-line file that
        was milliseconds of every keystroke)."""
        lines = self.lines
        rng = self._position_codec.range_from_client_units(lines, change.range)
        start_line, start_col = rng.start.line, rng.start.character
        end_line, end_col = rng.end.line, rng.end.character
        if start_line == len(lines):
            self._source = self.source + change.text
            return
        if start_line > len(lines) or end_line < start_line:
            super()._apply_incremental_change(change)  # what pygls makes of a range that is not one
            return
        source = self.source
        start = sum(map(len, lines[:start_line])) + len(lines[start_line][:start_col])
        end = sum(map(len, lines[:end_line])) + len(lines[end_line][:end_col]) if end_line < len(lines) else len(source)
        self._source = source[:start] + change.text + source[end:]


def use_lsp_lines(workspace: Workspace) -> None:
    """Make every document ``workspace`` creates from now on an :class:`LspLinesTextDocument`.

    Relies on pygls 2.1 creating documents in ``Workspace._create_text_document`` (open and
    change go through it) and on TextDocument keeping its state in instance attributes, so a
    created document can take the subclass as its class.
    """
    create = workspace._create_text_document

    def create_with_lsp_lines(*args: Any, **kwargs: Any) -> TextDocument:
        doc = create(*args, **kwargs)
        if type(doc) is TextDocument:
            doc.__class__ = LspLinesTextDocument
        return doc

    workspace._create_text_document = create_with_lsp_lines  # type: ignore[method-assign]


def current_request_future(server: Any) -> Future[Any] | None:
    """The future pygls answers the request being handled from, or None.

    pygls answers ``$/cancelRequest`` by cancelling this future only; a command handler it
    runs keeps going, so a long command watches the future to stop itself.  Call it before
    the handler's first await, while the protocol's current message id is still this request's.
    Relies on pygls 2.1's ``JsonRPCProtocol._request_futures`` (message id -> future) and its
    public ``msg_id``.
    """
    protocol = getattr(server, "protocol", None)
    futures = getattr(protocol, "_request_futures", None)
    if not isinstance(futures, dict):
        return None
    return futures.get(protocol.msg_id)

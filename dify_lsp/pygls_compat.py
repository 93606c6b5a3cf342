"""What dify-lsp needs from pygls beyond its public API, in one place.

Each item names the pygls internals it relies on; ``tests/test_pygls_compat.py``
fails when the pinned pygls (see pyproject.toml) changes under any of them.
No other module touches pygls's private attributes.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from typing import Any

from pygls.workspace import TextDocument, Workspace

_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> tuple[str, ...]:
    """Lines as LSP counts them, each with its line end: only \\n, \\r\\n and \\r end a line."""
    return tuple(m.group(0) for m in _LSP_LINE.finditer(text))


class LspLinesTextDocument(TextDocument):
    """A pygls document whose lines end only where LSP says they do.

    pygls splits with str.splitlines(), which also breaks at form feeds, \\x1c-\\x1e, NEL and the
    Unicode separators; incremental edits on text holding those would land in the wrong place.
    """

    @property
    def lines(self) -> tuple[str, ...]:  # type: ignore[override]
        return lsp_lines(self.source)


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

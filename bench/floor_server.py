"""The floor: a minimal pygls 2.1 language server that answers instantly.

It does no work: completion returns a fixed item, hover a fixed text,
signature help a fixed signature, and every open or change publishes empty
diagnostics at once.  Whatever it costs is the price of Python, pygls,
JSON-RPC and this machine; dify-lsp's numbers are read against it.

Run: ``python bench/floor_server.py`` (stdio).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bench-floor", "1", text_document_sync_kind=types.TextDocumentSyncKind.Incremental)

ITEM = types.CompletionItem(label="floor", kind=types.CompletionItemKind.Text)
HOVER = types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.PlainText, value="floor"))
SIGNATURE = types.SignatureHelp(
    signatures=[types.SignatureInformation(label="floor()", parameters=[])], active_signature=0, active_parameter=0
)


def _publish(ls: LanguageServer, uri: str, version: int | None) -> None:
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[], version=version))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    return types.CompletionList(is_incomplete=False, items=[ITEM])


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover:
    return HOVER


@server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP, types.SignatureHelpOptions(trigger_characters=["("]))
def signature_help(ls: LanguageServer, params: types.SignatureHelpParams) -> types.SignatureHelp:
    return SIGNATURE


if __name__ == "__main__":
    server.start_io()

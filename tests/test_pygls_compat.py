"""What dify_lsp.pygls_compat relies on in the pinned pygls: each test fails when pygls changes under it."""

import asyncio
import json
import random

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument, Workspace

from dify_lsp.pygls_compat import _LSP_LINE, LspLinesTextDocument, current_request_future, lsp_lines, use_lsp_lines

URI = "file:///tmp/compat/a.py"
TEXT = "a\x0cb\nc\u2028d\r\ne"


def _open(workspace: Workspace) -> None:
    workspace.put_text_document(types.TextDocumentItem(uri=URI, language_id="python", version=1, text=TEXT))


def _insert_at_line_start(workspace: Workspace, line: int, text: str) -> str:
    at = types.Position(line=line, character=0)
    workspace.update_text_document(
        types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=text),
    )
    return workspace.get_text_document(URI).source


def test_pygls_still_splits_lines_where_lsp_does_not():
    # The reason for LspLinesTextDocument: when this fails, pygls counts lines as LSP does and the item can go.
    workspace = Workspace(None)
    _open(workspace)
    assert type(workspace.get_text_document(URI)) is TextDocument
    assert len(workspace.get_text_document(URI).lines) == 5
    assert _insert_at_line_start(workspace, 1, "X") == "a\x0cXb\nc\u2028d\r\ne"


def test_documents_of_the_workspace_count_lines_as_lsp_does():
    workspace = Workspace(None)
    use_lsp_lines(workspace)
    _open(workspace)
    doc = workspace.get_text_document(URI)
    assert type(doc) is LspLinesTextDocument
    assert doc.lines == ("a\x0cb\n", "c\u2028d\r\n", "e")
    assert _insert_at_line_start(workspace, 1, "X") == "a\x0cb\nXc\u2028d\r\ne"
    assert type(workspace.get_text_document(URI)) is LspLinesTextDocument


class _Writer:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data))


def test_the_response_future_of_a_running_command_is_the_one_cancel_request_cancels():
    server = LanguageServer("compat-test", "0")
    seen: dict[str, object] = {}

    @server.command("compat.wait")
    async def wait(ls: LanguageServer, *args: object) -> str:
        future = current_request_future(ls)
        seen["future"] = future
        cancelled = asyncio.Event()
        if future is not None:
            future.add_done_callback(lambda f: cancelled.set() if f.cancelled() else None)
        await asyncio.wait_for(cancelled.wait(), 5)
        seen["stopped"] = True
        return "stopped"

    async def drive() -> None:
        writer = _Writer()
        server.protocol.set_writer(writer, include_headers=False)

        def receive(message: dict) -> None:
            server.protocol.handle_message(server.protocol.structure_message(message))

        receive({"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand", "params": {"command": "compat.wait", "arguments": []}})
        for _ in range(100):
            if "future" in seen:
                break
            await asyncio.sleep(0.01)
        assert seen.get("future") is not None, "no response future for the running request"
        receive({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}})
        for _ in range(100):
            if any(m.get("id") == 7 for m in writer.sent):
                break
            await asyncio.sleep(0.01)
        answer = next(m for m in writer.sent if m.get("id") == 7)
        assert answer["error"]["code"] == types.LSPErrorCodes.RequestCancelled
        for _ in range(100):
            if "stopped" in seen:
                break
            await asyncio.sleep(0.01)
        assert seen.get("stopped"), "the handler never learnt of the cancellation"

    asyncio.run(drive())


def test_an_incremental_change_gives_the_text_pygls_own_change_gives():
    # The override applies an edit faster; pygls's own _apply_incremental_change (over LSP lines) is the reference.
    rng = random.Random(5)
    pieces = ["a", "bc", " ", "\n", "\r\n", "\r", "\x0c", "\u2028", "é", "😀", "中"]
    for _ in range(600):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30)))
        n = len(lsp_lines(text))
        start = types.Position(line=rng.randrange(n + 2), character=rng.randrange(8))
        end = types.Position(line=rng.randrange(start.line, n + 2) if rng.random() < 0.9 else rng.randrange(n + 1), character=rng.randrange(8))
        change = types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=rng.choice(["", "x", "\n", "😀y", "\r\nz"]))
        ours, reference = LspLinesTextDocument(URI, text), LspLinesTextDocument(URI, text)
        ours.apply_change(change)
        TextDocument._apply_incremental_change(reference, change)
        assert ours.source == reference.source, (text, change)


def test_lsp_lines_split_in_c_where_the_text_allows_it_are_the_same_lines():
    rng = random.Random(6)
    for _ in range(300):
        text = "".join(rng.choice(["a", " ", "\n", "\r\n", "\r", "é", "😀", "\x0c", "\u2028"]) for _ in range(rng.randrange(0, 25)))
        assert lsp_lines(text) == tuple(m.group(0) for m in _LSP_LINE.finditer(text))

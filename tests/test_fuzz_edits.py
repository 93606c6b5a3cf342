"""Property-based fuzzing of the real server over stdio.

Hypothesis draws edit sequences (inserts, deletes, pastes of YAML and Python
fragments, random text) on a manifest, a tool YAML and a tool's Python file.
After every edit the server must answer hover and completion with well-formed
results within a bound; after the sequence, its diagnostics must equal those
of a second server that opens the final text fresh.  No request may fail and
the server may log no error.

CI runs DIFY_LSP_FUZZ_SEQUENCES sequences (default 600), within DIFY_LSP_FUZZ_SECONDS of wall
time (default 240; sequences past the budget are skipped and not counted). A longer soak:
    DIFY_LSP_FUZZ_SEQUENCES=5000 DIFY_LSP_FUZZ_SECONDS=3600 .venv/bin/python -m pytest tests/test_fuzz_edits.py
The figures of the last run are written to .fuzz-stats.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "llm-tool"
SEQUENCES = int(os.environ.get("DIFY_LSP_FUZZ_SEQUENCES", "600"))
BUDGET_SECONDS = float(os.environ.get("DIFY_LSP_FUZZ_SECONDS", "240"))
REQUEST_BOUND = 10.0  # seconds: an answer later than this is a hang
FILES = ["manifest.yaml", "tools/llm.yaml", "tools/llm.py"]
# A second open file whose findings depend on the edited one (the server re-runs only the rules whose
# inputs changed, so a stale cross-file finding would show here).
PARTNER = {"manifest.yaml": "tools/llm.py", "tools/llm.yaml": "tools/llm.py", "tools/llm.py": "tools/llm.yaml"}

FRAGMENTS = [
    "\n", "  ", "\t", ":", "- ", "[", "]", "{", "}", "'", '"', "#", "&a ", "*a", "<<: *a\n",
    "parameters:\n  - name: x\n    type: model-selector\n    scope: llm\n",
    "plugins:\n  tools:\n    - nope.yaml\n", "icon: 😀.svg\n", "author: Yeuoly\n", "version: 1.0\n",
    "resource:\n  permission:\n    storage:\n      enabled: true\n",
    "self.session.model.", "self.session.model.llm.invoke(", "self.session.model.summary(content='x')\n",
    "tool_parameters.get('query')", "print('hi')\n", "def f(:\n", "class X(Tool):\n    pass\n",
    "中文😀", "\u200b", "\x00",
]


def utf16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def position_of(text: str, offset: int) -> types.Position:
    """LSP position of a string offset: lines end at \\n, \\r\\n or a lone \\r."""
    head = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    line = head.count("\n")
    start = head.rfind("\n") + 1
    return types.Position(line=line, character=utf16(head[start:]))


class Server:
    """One dify-lsp process driven through pytest-lsp's client (pull diagnostics, UTF-16)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.client = make_test_lsp_client()

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def _register(params):
            return None

        @self.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh_code_lenses(params):
            return None

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "dify_lsp")
        caps = client_capabilities("visual-studio-code")
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities()
        await self.client.initialize_session(
            types.InitializeParams(capabilities=caps, initialization_options={"debounceMs": 0})
        )

    async def stop(self) -> None:
        await self.client.shutdown_session()
        await self.client.stop()

    def errors(self) -> list[str]:
        return [m.message for m in self.client.log_messages if m.type == types.MessageType.Error]

    async def request(self, coro):
        return await asyncio.wait_for(coro, REQUEST_BOUND)

    async def diagnostics(self, uri: str) -> list[tuple]:
        report = await self.request(
            self.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
        )
        return sorted(
            (d.code, d.severity, d.message, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
            for d in report.items
        )


@pytest.fixture(scope="module")
def servers():
    loop = asyncio.new_event_loop()
    work = Path(tempfile.mkdtemp(prefix="dify-lsp-fuzz-"))
    edited, fresh = Server(loop), Server(loop)
    loop.run_until_complete(edited.start())
    loop.run_until_complete(fresh.start())
    stats = {"sequences": 0, "edits": 0, "requests": 0, "errors": 0, "started": time.monotonic()}
    yield loop, work, edited, fresh, stats
    stats["errors"] = len(edited.errors()) + len(fresh.errors())
    stats["seconds"] = round(time.monotonic() - stats.pop("started"), 1)
    (REPO / ".fuzz-stats.json").write_text(json.dumps(stats, indent=2))
    loop.run_until_complete(edited.stop())
    loop.run_until_complete(fresh.stop())
    loop.close()
    shutil.rmtree(work, ignore_errors=True)


edit_strategy = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.floats(0, 1),
    st.integers(0, 40),
    st.one_of(st.sampled_from(FRAGMENTS), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)),
    st.floats(0, 1),  # where to ask hover/completion afterwards
)


@pytest.mark.timeout(BUDGET_SECONDS + 300)
@settings(max_examples=SEQUENCES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(file=st.sampled_from(FILES), edits=st.lists(edit_strategy, min_size=1, max_size=8))
def test_random_edit_sequences(servers, file, edits):
    loop, work, edited, fresh, stats = servers
    if time.monotonic() - stats["started"] > BUDGET_SECONDS:
        return  # over the time budget: the remaining sequences are skipped, not counted
    n = stats["sequences"]
    stats["sequences"] += 1
    a_root = work / "a" / str(n) / "llm-tool"
    b_root = work / "b" / str(n) / "llm-tool"
    shutil.copytree(EXAMPLE, a_root)
    shutil.copytree(EXAMPLE, b_root)
    path = a_root / file
    text = path.read_text(encoding="utf-8")

    partner = PARTNER[file]

    def open_doc(server: Server, p: Path, body: str) -> None:
        server.client.text_document_did_open(
            types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=p.as_uri(), language_id="yaml" if p.suffix == ".yaml" else "python", version=1, text=body))
        )

    async def run() -> None:
        nonlocal text
        uri = path.as_uri()
        open_doc(edited, a_root / partner, (a_root / partner).read_text(encoding="utf-8"))
        await edited.diagnostics((a_root / partner).as_uri())  # a first run of the rules, with the partner open
        stats["requests"] += 1
        open_doc(edited, path, text)
        version = 1
        for kind, where, length, fragment, ask in edits:
            start = int(where * len(text))
            end = min(len(text), start + (length if kind != "insert" else 0))
            new = "" if kind == "delete" else fragment
            rng = types.Range(start=position_of(text, start), end=position_of(text, end))
            text = text[:start] + new + text[end:]
            version += 1
            stats["edits"] += 1
            edited.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
                )
            )
            at = position_of(text, int(ask * len(text)))
            doc = types.TextDocumentIdentifier(uri=uri)
            hover = await edited.request(edited.client.text_document_hover_async(types.HoverParams(text_document=doc, position=at)))
            assert hover is None or isinstance(hover, types.Hover)
            completion = await edited.request(edited.client.text_document_completion_async(types.CompletionParams(text_document=doc, position=at)))
            assert completion is None or isinstance(completion, (types.CompletionList, list))
            stats["requests"] += 2
        got = await edited.diagnostics(uri)
        # the same final text, opened fresh by a second server
        fresh_path = b_root / file
        fresh_path.write_text(text, encoding="utf-8")
        fresh.client.text_document_did_open(
            types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=fresh_path.as_uri(), language_id="plaintext", version=1, text=text))
        )
        want = await fresh.diagnostics(fresh_path.as_uri())
        stats["requests"] += 2
        assert got == want
        open_doc(fresh, b_root / partner, (b_root / partner).read_text(encoding="utf-8"))
        got_partner = await edited.diagnostics((a_root / partner).as_uri())
        want_partner = await fresh.diagnostics((b_root / partner).as_uri())
        stats["requests"] += 2
        assert got_partner == want_partner, f"{partner} after editing {file}"
        for server, p in ((edited, path), (fresh, fresh_path), (edited, a_root / partner), (fresh, b_root / partner)):
            server.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=p.as_uri())))

    loop.run_until_complete(run())
    assert edited.errors() == [] and fresh.errors() == []

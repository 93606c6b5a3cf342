"""The `openai` backend against a small OpenAI-compatible server on 127.0.0.1 (real plugin runs)."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dify_lsp.invocation.runner import RunRequest
from dify_lsp.invocation.runner import run as run_request

from invocation_helpers import plugin_copy, sdk_python

pytestmark = pytest.mark.slow


class FakeOpenAI(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict, dict]] = []

    def log_message(self, *args):
        return

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        payload = json.loads(body) if ctype.startswith("application/json") else {"raw": len(body)}
        FakeOpenAI.requests.append((self.path, payload, dict(self.headers)))
        if self.path == "/v1/chat/completions" and payload.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("Hel", "lo ", "from fake"):
                event = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            usage = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
            return
        if self.path == "/v1/chat/completions":
            return self.reply({"choices": [{"message": {"role": "assistant", "content": "blocking fake"}, "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}})
        if self.path == "/v1/embeddings":
            return self.reply({"data": [{"index": i, "embedding": [float(i), 0.5, 0.25]} for i, _ in enumerate(payload["input"])],
                               "model": payload["model"], "usage": {"prompt_tokens": 5, "total_tokens": 5}})
        if self.path == "/v1/rerank":
            return self.reply({"results": [{"index": 2, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.4},
                                           {"index": 1, "relevance_score": 0.05}]})
        if self.path == "/v1/audio/speech":
            data = b"ID3" + bytes(9000)
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(404)
        self.end_headers()

    def reply(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def fake_openai():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def python() -> str:
    return str(sdk_python())


async def run(tmp_path: Path, python: str, base_url: str, tool: str, **kw):
    plugin = plugin_copy(tmp_path, "all_tools")
    settings = {"openai": {"baseUrl": base_url, "apiKeyEnv": "DIFY_LSP_TEST_KEY", "models": {"llm": "fake-chat", "gpt-4o": "fake-big"}}}
    spec = RunRequest(plugin_root=plugin, kind="tool", target=tool, python=python, backend="openai", settings=settings, timeout=60, **kw)
    return await asyncio.wait_for(run_request(spec), 90)


async def test_llm_streams_from_the_endpoint_with_the_key_from_the_env(tmp_path, python, fake_openai, monkeypatch):
    monkeypatch.setenv("DIFY_LSP_TEST_KEY", "sk-test-abcdef")
    FakeOpenAI.requests.clear()
    result = await run(tmp_path, python, fake_openai, "llm_stream", parameters={"prompt": "hi there"})
    assert result.status == "success", result.error
    assert result.text == "Hello from fake"
    assert {"total_tokens": 14} in [m.get("json_object") for m in result.messages]
    path, body, headers = FakeOpenAI.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake-chat" and body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "hi there"}]
    assert headers["Authorization"] == "Bearer sk-test-abcdef"
    assert "sk-test-abcdef" not in json.dumps(result.to_json())
    assert result.transcript[0]["backend"] == "openai" and result.transcript[0]["response"]["usage"]["prompt_tokens"] == 11


async def test_blocking_llm_embeddings_rerank_tts(tmp_path, python, fake_openai, monkeypatch):
    monkeypatch.delenv("DIFY_LSP_TEST_KEY", raising=False)
    FakeOpenAI.requests.clear()
    blocking = await run(tmp_path / "a", python, fake_openai, "llm_blocking", parameters={"prompt": "x"})
    assert blocking.text == "blocking fake", blocking.error
    assert any("DIFY_LSP_TEST_KEY is not set" in w for w in blocking.warnings)
    emb = await run(tmp_path / "b", python, fake_openai, "embed", parameters={"texts": "a,b"})
    data = [m["json_object"] for m in emb.messages if m["type"] == "json"][0]
    assert data == {"count": 2, "dims": [3], "tokens": 5, "first": [0.0, 0.5, 0.25]}
    rr = await run(tmp_path / "c", python, fake_openai, "rerank", parameters={"query": "q", "docs": "d0|d1|d2"})
    ranked = [m["json_object"] for m in rr.messages if m["type"] == "json"][0]["docs"]
    # the endpoint's order and scores; the 0.05 result is under the config's score_threshold 0.1
    assert ranked == [{"index": 2, "score": 0.9, "text": "d2"}, {"index": 0, "score": 0.4, "text": "d0"}]
    tts = await run(tmp_path / "d", python, fake_openai, "tts", parameters={"text": "say this"})
    blob = [m for m in tts.messages if m["type"] == "blob"][0]
    assert blob["size"] == 9003 and tts.text.endswith("header b'ID3\\x00'")
    paths = [p for p, _, _ in FakeOpenAI.requests]
    assert paths == ["/v1/chat/completions", "/v1/embeddings", "/v1/rerank", "/v1/audio/speech"]
    assert FakeOpenAI.requests[3][1] == {"model": "tts-1", "input": "say this", "voice": "alloy"}


async def test_endpoint_errors_reach_the_plugin_as_daemon_style_errors(tmp_path, python, fake_openai):
    # /v1/moderations is not served by the fake: HTTP 404
    result = await run(tmp_path, python, fake_openai, "misc_models")
    assert result.status == "error"
    assert result.error["message"].startswith("invoke moderation model failed: HTTP 404")

"""A small OpenAI-compatible HTTP server on 127.0.0.1, for testing model-provider plugins offline.

``/v1/models``, ``/v1/chat/completions`` (blocking and SSE streaming, tool calls like the offline mock
model: given tools and no tool result yet it calls one with schema-valid arguments) and
``/v1/embeddings`` (the mock backend's hashed vectors), ``/v1/rerank`` (word overlap, Jina/Cohere shape),
``/v1/audio/speech`` (a silent WAV), ``/v1/audio/transcriptions`` and ``/v1/moderations``; an ``Authorization: Bearer`` header is required
when ``api_key`` is set.  Extra static pages can be served (``pages``), e.g. for a crawling datasource.
Every request is recorded in ``requests``.

    with FakeOpenAIServer(api_key="sk-test") as server:
        server.base_url  # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dify_lsp.invocation.backends.mock import (
    FLAGGED_WORDS,
    hashed_embedding,
    message_text,
    silent_wav,
    tool_call_for,
    tool_results,
    words,
)


class FakeOpenAIServer:
    def __init__(self, api_key: str | None = None, model_prefix: str = "fake", pages: dict[str, str] | None = None) -> None:
        self.api_key = api_key
        self.model_prefix = model_prefix
        self.pages = dict(pages or {})
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeOpenAIServer":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # answers --------------------------------------------------------------------------
    def chat_answer(self, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        request = {"prompt_messages": messages,
                   "tools": [t.get("function") for t in body.get("tools") or [] if isinstance(t, dict)]}
        call = tool_call_for(request)
        if call is not None:
            return "", [call]
        users = [m for m in messages if m.get("role") == "user"]
        said = message_text(users[-1].get("content")) if users else ""
        results = tool_results(request)
        answer = f"({self.model_prefix} {body.get('model')}) You said: {said}"
        return (answer + f". The tool answered: {results[-1]}" if results else answer), []

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _authorized(self) -> bool:
                if owner.api_key is None or self.headers.get("Authorization") == f"Bearer {owner.api_key}":
                    return True
                self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
                return False

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append({"method": "GET", "path": self.path})
                if self.path in owner.pages:
                    data = owner.pages[self.path].encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if self.path.rstrip("/") == "/v1/models":
                    if self._authorized():
                        self._json(200, {"object": "list", "data": [{"id": f"{owner.model_prefix}-chat", "object": "model"}]})
                    return
                self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path == "/v1/audio/transcriptions":  # multipart: the audio file
                    owner.requests.append({"method": "POST", "path": self.path, "bytes": len(raw)})
                    if self._authorized():
                        self._json(200, {"text": f"transcript of {len(raw)} bytes"})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                owner.requests.append({"method": "POST", "path": self.path, "body": body})
                if not self._authorized():
                    return
                if self.path == "/v1/chat/completions":
                    self._chat(body)
                elif self.path == "/v1/rerank":
                    query = set(words(str(body.get("query") or "")))
                    docs = [str(d) for d in body.get("documents") or []]
                    scored = sorted(({"index": i, "relevance_score": round(len(query & set(words(d))) / max(1, len(query)), 6)}
                                     for i, d in enumerate(docs)), key=lambda r: (-r["relevance_score"], r["index"]))
                    if isinstance(body.get("top_n"), int):
                        scored = scored[: body["top_n"]]
                    self._json(200, {"model": body.get("model"), "results": scored})
                elif self.path == "/v1/audio/speech":
                    audio = silent_wav(0.05 * max(1, len(words(str(body.get("input") or "")))))
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/wav")
                    self.send_header("Content-Length", str(len(audio)))
                    self.end_headers()
                    self.wfile.write(audio)
                elif self.path == "/v1/moderations":
                    text = str(body.get("input") or "")
                    self._json(200, {"results": [{"flagged": bool(FLAGGED_WORDS & set(words(text)))}]})
                elif self.path == "/v1/embeddings":
                    texts = body.get("input")
                    texts = [texts] if isinstance(texts, str) else [str(t) for t in texts or []]
                    tokens = sum(len(words(t)) for t in texts)
                    self._json(200, {"object": "list", "model": body.get("model"),
                                     "data": [{"object": "embedding", "index": i, "embedding": hashed_embedding(t)}
                                              for i, t in enumerate(texts)],
                                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _chat(self, body: dict[str, Any]) -> None:
                answer, calls = owner.chat_answer(body)
                prompt_tokens = sum(len(words(message_text(m.get("content")) or "")) for m in body.get("messages") or []
                                    if isinstance(m, dict))
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words(answer)),
                         "total_tokens": prompt_tokens + len(words(answer))}
                created = int(time.time())
                if not body.get("stream"):
                    message: dict[str, Any] = {"role": "assistant", "content": answer or None}
                    if calls:
                        message["tool_calls"] = calls
                    self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                                     "model": body.get("model"), "usage": usage,
                                     "choices": [{"index": 0, "message": message,
                                                  "finish_reason": "tool_calls" if calls else "stop"}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                parts = [w + " " for w in answer.split(" ")]
                parts[-1] = parts[-1].rstrip(" ")
                for i, part in enumerate(parts):
                    last = i == len(parts) - 1
                    delta: dict[str, Any] = {"content": part}
                    if calls and last:
                        delta["tool_calls"] = [{**c, "index": n} for n, c in enumerate(calls)]
                    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                             "model": body.get("model"),
                             "choices": [{"index": 0, "delta": delta,
                                          "finish_reason": ("tool_calls" if calls else "stop") if last else None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler

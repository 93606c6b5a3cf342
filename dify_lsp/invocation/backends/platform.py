"""The Dify platform side of reverse invocations: storage, file upload, apps, tools, workflow nodes.

- ``storage``: a real key-value store per plugin on disk, ``<plugin>/.dify/storage/``
  (one file per key), with the daemon's answers (``{"data": "ok"}``, hex values,
  ``{"data": bool}`` for exist) and its error text for a missing key; the
  manifest's ``storage.size`` is enforced.
- ``upload_file``: answers ``{"url": ...}`` pointing at a small HTTP server on
  127.0.0.1 that accepts the SDK's multipart POST, keeps the file under
  ``<plugin>/.dify/uploads/`` and answers 201 with the file's JSON, as Dify does.
- ``app``, ``fetch_app``, ``tool``, ``node_*``: canned, well-formed answers that
  the invocation file's ``responses`` section overrides.
"""

from __future__ import annotations

import binascii
import json
import mimetypes
import threading
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, AsyncIterator

from dify_lsp.invocation.backends.base import BackendError, InvokeContext
from dify_lsp.invocation.permissions import storage_limit

from dify_lsp.invocation.backends.base import PLATFORM_TYPES  # noqa: E402,F401 - where callers look for it
MISSING_KEY = "load data failed, please check if the key is correct or you have not set it"


class PluginStorage:
    """``session.storage`` of one plugin, kept on disk."""

    def __init__(self, folder: Path, limit: int | None = None) -> None:
        self.folder = folder
        self.limit = limit

    def _file(self, key: str) -> Path:
        return self.folder / ("k_" + key.encode("utf-8").hex())

    def _ensure(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text("*\n", encoding="utf-8")

    def used(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.glob("k_*"))

    def set(self, key: str, value: bytes) -> None:
        self._ensure()
        if self.limit is not None:
            old = self._file(key).stat().st_size if self._file(key).exists() else 0
            if self.used() - old + len(value) > self.limit:
                raise BackendError(f"save data failed: storage size limit exceeded ({self.limit} bytes)")
        tmp = self._file(key).with_suffix(".tmp")
        tmp.write_bytes(value)
        tmp.replace(self._file(key))

    def get(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except OSError:
            raise BackendError(MISSING_KEY) from None

    def delete(self, key: str) -> int:
        try:
            self._file(key).unlink()
            return 1
        except OSError:
            return 0

    def exist(self, key: str) -> bool:
        return self._file(key).is_file()


class UploadServer:
    """Receives ``session.file.upload`` POSTs on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: dict[str, tuple[str, str]] = {}  # token -> (filename, mimetype)
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def url_for(self, filename: str, mimetype: str) -> str:
        with self._lock:
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, name="dify-lsp-upload", daemon=True).start()
            token = uuid.uuid4().hex
            self.pending[token] = (filename, mimetype)
            port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/files/upload/{token}"

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the server quiet
                return

            def do_POST(self) -> None:  # noqa: N802
                token = self.path.rsplit("/", 1)[-1]
                meta = owner.pending.pop(token, None)
                if meta is None:
                    self._reply(404, {"error": "unknown upload url"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
                msg = BytesParser(policy=HTTP).parsebytes(head + body)
                content = b""
                filename, mimetype = meta
                for part in msg.iter_parts() if msg.is_multipart() else []:
                    if part.get_param("name", header="content-disposition") == "file":
                        content = part.get_payload(decode=True) or b""
                        filename = part.get_filename() or filename
                        mimetype = part.get_content_type() or mimetype
                file_id = uuid.uuid4().hex
                target = owner.folder / file_id / Path(filename).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                ext = Path(filename).suffix or (mimetypes.guess_extension(mimetype) or "")
                info = {
                    "id": file_id,
                    "name": filename,
                    "size": len(content),
                    "extension": ext,
                    "mime_type": mimetype,
                    "preview_url": target.as_uri(),
                }
                owner.received.append({**info, "path": str(target)})
                self._reply(201, info)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _canned(ctx: InvokeContext, key: str, default: Any) -> Any:
    value = ctx.responses.get(key) if ctx.responses else None
    return default if value is None else value


class Platform:
    """Non-model reverse invocations for one plugin."""

    def __init__(self, plugin_root: Path) -> None:
        self.plugin_root = plugin_root
        self._storage: PluginStorage | None = None
        self.uploads = UploadServer(plugin_root / ".dify" / "uploads")

    def storage(self, ctx: InvokeContext) -> PluginStorage:
        if self._storage is None:
            self._storage = PluginStorage(self.plugin_root / ".dify" / "storage", storage_limit(ctx.manifest))
        return self._storage

    async def invoke(self, invoke_type: str, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        if invoke_type == "storage":
            yield self._storage_op(request, ctx)
        elif invoke_type == "upload_file":
            yield {"url": self.uploads.url_for(str(request.get("filename") or "file"), str(request.get("mimetype") or "application/octet-stream"))}
        elif invoke_type == "fetch_app":
            app_id = request.get("app_id")
            yield _canned(ctx, "fetch_app", {
                "id": app_id, "name": "Mock app", "mode": "chat", "description": "a canned app (dify-lsp mock)",
                "parameters": {"user_input_form": [], "opening_statement": ""},
            })
        elif invoke_type == "app":
            async for item in self._app(request, ctx):
                yield item
        elif invoke_type == "tool":
            if ctx.tool_invoker is not None:
                try:
                    messages = await ctx.tool_invoker(request)
                except Exception as exc:  # the tool's own failure goes back to the caller as Dify's would
                    raise BackendError(str(exc)) from None
                if messages is not None:
                    async for message in messages:
                        yield message
                    return
            answer = _canned(ctx, "tool", None)
            if answer is None:
                # as in Dify, a tool that is not installed cannot be invoked
                raise BackendError(
                    f"tool {request.get('provider')}/{request.get('tool')} is not installed: no local plugin has it "
                    "(the running plugin, --tool-plugin DIR, the run.toolPlugins setting) and the invocation file "
                    "gives no canned answer (responses: {tool: {provider/tool: [messages]}})")
            for message in answer if isinstance(answer, list) else [answer]:
                yield message
        elif invoke_type == "node_parameter_extractor":
            params = request.get("parameters") or []
            outputs = {p.get("name"): _sample_for(p.get("type")) for p in params if isinstance(p, dict)}
            yield _canned(ctx, "node_parameter_extractor", {
                "process_data": {}, "inputs": {"query": request.get("query")},
                "outputs": {**outputs, "__is_success": 1, "__reason": None},
            })
        elif invoke_type == "node_question_classifier":
            classes = [c for c in request.get("classes") or [] if isinstance(c, dict)]
            first = classes[0] if classes else {"id": "1", "name": "default"}
            yield _canned(ctx, "node_question_classifier", {
                "process_data": {}, "inputs": {"query": request.get("query")},
                "outputs": {"class_name": first.get("name"), "class_id": first.get("id")},
            })
        else:
            raise BackendError(f"unsupported invoke type: {invoke_type}")

    def _storage_op(self, request: dict[str, Any], ctx: InvokeContext) -> dict[str, Any]:
        store = self.storage(ctx)
        opt, key = request.get("opt"), str(request.get("key") or "")
        if opt == "get":
            return {"data": store.get(key).hex()}
        if opt == "set":
            try:
                value = binascii.unhexlify(str(request.get("value") or ""))
            except (binascii.Error, ValueError) as exc:
                raise BackendError(f"decode data failed: {exc}") from None
            store.set(key, value)
            return {"data": "ok"}
        if opt == "del":
            return {"data": "ok", "deleted_num": store.delete(key)}
        if opt == "exist":
            found = store.exist(key)
            return {"data": found, "exist_num": int(found)}
        raise BackendError(f"unsupported storage operation: {opt}")

    async def _app(self, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        query = request.get("query")
        answer_text = f"mock answer of app {request.get('app_id')}" + (f" to: {query}" if query else "")
        canned = _canned(ctx, "app", None)
        if request.get("response_mode") == "streaming":
            if isinstance(canned, list):
                for event in canned:
                    yield event
                return
            text = canned.get("answer", answer_text) if isinstance(canned, dict) else answer_text
            for word in _words(text):
                yield {"event": "message", "answer": word, "conversation_id": request.get("conversation_id") or "mock-conversation"}
            yield {"event": "message_end", "conversation_id": request.get("conversation_id") or "mock-conversation", "metadata": {}}
            return
        if isinstance(canned, dict):
            yield canned
        elif request.get("query") is not None:
            yield {"event": "message", "answer": answer_text, "conversation_id": request.get("conversation_id") or "mock-conversation", "metadata": {}}
        else:
            yield {"workflow_run_id": "mock-run", "data": {"status": "succeeded", "outputs": {"text": answer_text}}, "answer": answer_text}

    def close(self) -> None:
        self.uploads.close()


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def _sample_for(ptype: Any) -> Any:
    return {"number": 0, "bool": False, "boolean": False, "array[string]": [], "array[number]": [], "array[object]": []}.get(str(ptype), "mock")

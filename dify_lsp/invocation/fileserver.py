"""Local files handed to a plugin the way Dify hands them: Dify file objects with a URL the SDK downloads.

Dify gives a tool a ``file``/``files`` parameter as ``{"dify_model_identity": "__dify__file__", "url": ...,
"mime_type", "filename", "extension", "size", "type"}`` whose URL is a signed, expiring link to Dify's file
service; the SDK's ``File.blob`` fetches it with ``httpx.get``.  :class:`FileServer` plays that service for one
run: a loopback-only HTTP server (127.0.0.1, an ephemeral port) that serves exactly the registered files under
unguessable paths (``/files/<32 random bytes, urlsafe>/<name>``); anything else is a 404.  It runs in a thread
of its own and is closed when the run ends.
"""

from __future__ import annotations

import mimetypes
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DIFY_FILE_IDENTITY = "__dify__file__"
_DOCUMENT_MIME = ("text/", "application/pdf", "application/msword", "application/vnd.", "application/json",
                  "application/xml", "application/epub")


def file_type(mime_type: str | None) -> str:
    """Dify's FileType for a mime type: image, audio, video, document or custom."""
    mime = mime_type or ""
    for prefix, kind in (("image/", "image"), ("audio/", "audio"), ("video/", "video")):
        if mime.startswith(prefix):
            return kind
    return "document" if mime.startswith(_DOCUMENT_MIME) else "custom"


def mime_of(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def extension_for(mime_type: str | None) -> str:
    """A file extension (with the dot) for a mime type; ``.bin`` when unknown."""
    if not mime_type:
        return ".bin"
    fixed = {"image/jpeg": ".jpg", "text/plain": ".txt", "audio/mpeg": ".mp3", "application/octet-stream": ".bin"}
    return fixed.get(mime_type) or mimetypes.guess_extension(mime_type) or ".bin"


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        entry = self.server.files.get(urllib.parse.urlsplit(self.path).path)
        if entry is None:
            self.send_error(404)
            return
        path, mime = entry
        try:
            data = path.read_bytes()
        except OSError:
            self.send_error(410, "the file is gone")
            return
        self.send_response(200)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep stderr clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, tuple[Path, str]]


class FileServer:
    """Serves registered local files on 127.0.0.1 for the length of a run (``with FileServer() as fs:``)."""

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.files: dict[str, tuple[Path, str]] = {}

    def start(self) -> "FileServer":
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.files = self.files
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, name="dify-lsp-files", daemon=True)
            self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: Path, mime_type: str | None = None) -> str:
        """Serve ``path``; returns its unguessable URL."""
        self.start()
        mime = mime_type or mime_of(path)
        route = f"/files/{secrets.token_urlsafe(32)}/{urllib.parse.quote(path.name)}"
        self.files[route] = (path, mime)
        return self.base_url + route

    def dify_file(self, path: Path) -> dict[str, Any]:
        """The file object Dify sends for ``path`` (what the SDK turns into ``dify_plugin.file.file.File``)."""
        mime = mime_of(path)
        return {
            "dify_model_identity": DIFY_FILE_IDENTITY,
            "url": self.add(path, mime),
            "mime_type": mime,
            "filename": path.name,
            "extension": path.suffix,
            "size": path.stat().st_size,
            "type": file_type(mime),
        }

    def local_path(self, url: str) -> Path | None:
        """The local file behind one of this server's URLs (a tool echoing a file back), else None."""
        if self._server is None or not url.startswith(self.base_url + "/"):
            return None
        entry = self.files.get(urllib.parse.urlsplit(url).path)
        return entry[0] if entry else None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

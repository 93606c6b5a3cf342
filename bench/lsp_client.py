"""A small asyncio LSP client that speaks to a server over stdio, as an editor does.

It frames JSON-RPC with Content-Length headers, matches replies to requests
by id, answers the server's own requests (workspace/configuration,
client/registerCapability, window/workDoneProgress/create) and keeps every
textDocument/publishDiagnostics with the time it arrived, so a benchmark
can wait for "diagnostics for this document at this version".

Times are taken with :func:`time.perf_counter` on the client side, which is
what a user feels: the write, the server's work, the read and the JSON
parse of the reply.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


class LspError(Exception):
    """The server answered a request with an error."""


@dataclass
class DiagnosticsEvent:
    uri: str
    version: int | None
    count: int
    at: float  # perf_counter when it arrived
    diagnostics: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class LspClient:
    """One language server process and the client side of its conversation."""

    def __init__(
        self,
        name: str,
        command: list[str],
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stderr_path: Path | None = None,
        configuration: Callable[[str | None], Any] | None = None,
    ):
        self.name = name
        self.command = command
        self.cwd = cwd
        self.env = env
        self.stderr_path = stderr_path
        self.configuration = configuration or (lambda section: None)
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._stderr_file: Any = None
        self.diagnostics: list[DiagnosticsEvent] = []
        self._diag_waiters: list[tuple[Callable[[DiagnosticsEvent], bool], asyncio.Future[DiagnosticsEvent]]] = []
        self.server_capabilities: dict[str, Any] = {}
        self.versions: dict[str, int] = {}
        self.log_messages: list[str] = []

    # -- process -------------------------------------------------------------------
    async def start(self) -> None:
        if self.stderr_path is not None:
            self._stderr_file = open(self.stderr_path, "wb")
        self.started_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr_file if self._stderr_file is not None else asyncio.subprocess.DEVNULL,
            cwd=str(self.cwd) if self.cwd else None,
            env=self.env,
            limit=64 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read_loop())

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.request("shutdown", None), timeout)
                self.notify("exit", None)
                await asyncio.wait_for(self.proc.wait(), timeout)
            except (Exception, asyncio.TimeoutError):
                pass
        if self.proc.returncode is None:
            self.proc.kill()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    # -- framing -----------------------------------------------------------------
    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = None
                for line in header.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length is None:
                    continue
                body = await stdout.readexactly(length)
                self._dispatch(json.loads(body))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(LspError(f"{self.name}: server closed its output"))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "id" in msg and "method" not in msg:
            fut = self._pending.pop(msg["id"], None)
            if fut is not None and not fut.done():
                if "error" in msg and msg["error"] is not None:
                    fut.set_exception(LspError(f"{self.name}: {msg['error'].get('message')}"))
                else:
                    fut.set_result(msg.get("result"))
            return
        method = msg.get("method")
        params = msg.get("params") or {}
        if "id" in msg:  # a request from the server
            self._answer(msg["id"], method, params)
            return
        if method == "textDocument/publishDiagnostics":
            event = DiagnosticsEvent(
                uri=params.get("uri", ""),
                version=params.get("version"),
                count=len(params.get("diagnostics") or []),
                at=time.perf_counter(),
                diagnostics=params.get("diagnostics") or [],
            )
            self.diagnostics.append(event)
            for pred, fut in list(self._diag_waiters):
                if not fut.done() and pred(event):
                    fut.set_result(event)
            self._diag_waiters = [(p, f) for p, f in self._diag_waiters if not f.done()]
        elif method in ("window/logMessage", "window/showMessage"):
            self.log_messages.append(str(params.get("message", ""))[:500])

    def _answer(self, req_id: Any, method: str | None, params: dict[str, Any]) -> None:
        result: Any = None
        if method == "workspace/configuration":
            result = [self.configuration(item.get("section")) for item in params.get("items", [])]
        self._write({"jsonrpc": "2.0", "id": req_id, "result": result})

    # -- requests ------------------------------------------------------------------
    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        req_id = self._next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        self._write({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params})
        return await fut

    async def timed(self, method: str, params: Any) -> tuple[float, Any]:
        """Seconds from writing the request to having its parsed reply, and the reply."""
        t0 = time.perf_counter()
        result = await self.request(method, params)
        return time.perf_counter() - t0, result

    # -- lifecycle ---------------------------------------------------------------------
    async def initialize(self, root: Path, initialization_options: Any = None) -> Any:
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "dify-lsp-bench", "version": "1"},
            "rootUri": root.as_uri(),
            "rootPath": str(root),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "initializationOptions": initialization_options,
            "capabilities": CLIENT_CAPABILITIES,
        }
        result = await self.request("initialize", params)
        self.server_capabilities = (result or {}).get("capabilities", {})
        self.notify("initialized", {})
        return result

    def did_open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        if text is None:
            text = path.read_text(encoding="utf-8")
        self.versions[uri] = 1
        language = "python" if path.suffix == ".py" else "yaml"
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}})
        return uri

    def did_change(self, uri: str, line: int, start_col: int, end_col: int, new_text: str, end_line: int | None = None) -> int:
        """An incremental change from (line, start_col) to (end_line or line, end_col), UTF-16 columns; returns the new version."""
        version = self.versions.get(uri, 1) + 1
        self.versions[uri] = version
        change = {
            "range": {"start": {"line": line, "character": start_col}, "end": {"line": line if end_line is None else end_line, "character": end_col}},
            "text": new_text,
        }
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        return version

    def wait_diagnostics(self, pred: Callable[[DiagnosticsEvent], bool], since: float = 0.0) -> asyncio.Future[DiagnosticsEvent]:
        """A future for the first diagnostics event (arriving after ``since``) that satisfies ``pred``."""
        fut: asyncio.Future[DiagnosticsEvent] = asyncio.get_running_loop().create_future()
        for event in self.diagnostics:
            if event.at >= since and pred(event):
                fut.set_result(event)
                return fut
        self._diag_waiters.append((pred, fut))
        return fut


# What an editor says it can do: push diagnostics (no pull), markdown hovers,
# snippets, UTF-16 positions, configuration pulls.
CLIENT_CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "workspace": {
        "configuration": True,
        "workspaceFolders": True,
        "didChangeConfiguration": {"dynamicRegistration": True},
        "didChangeWatchedFiles": {"dynamicRegistration": False},
    },
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "didSave": True},
        "completion": {
            "completionItem": {
                "snippetSupport": True,
                "documentationFormat": ["markdown", "plaintext"],
                "labelDetailsSupport": True,
            },
            "contextSupport": True,
        },
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "signatureHelp": {
            "signatureInformation": {
                "documentationFormat": ["markdown", "plaintext"],
                "parameterInformation": {"labelOffsetSupport": True},
            },
            "contextSupport": True,
        },
        "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
    },
    "window": {"workDoneProgress": True},
}


def position_of(text: str, needle: str, nth: int = 0, offset: int | None = None) -> dict[str, int]:
    """LSP position (UTF-16) just after the nth occurrence of ``needle`` (or at ``offset`` code points into it)."""
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    idx += len(needle) if offset is None else offset
    line = text.count("\n", 0, idx)
    line_start = text.rfind("\n", 0, idx) + 1
    return {"line": line, "character": utf16_len(text[line_start:idx])}


def peak_rss_kib(pid: int | None) -> int | None:
    """VmHWM (peak resident set) of a process in KiB, from /proc; None when unknown."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/<pid>/task/*/children)."""
    out: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                kids = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for k in kids:
                out.append(int(k))
                stack.append(int(k))
    return out

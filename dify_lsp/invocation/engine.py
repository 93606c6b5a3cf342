"""The daemon side of the Dify plugin stdio protocol.

:class:`PluginProcess` runs ``<python> -m <meta.runner.entrypoint>`` in the plugin
root with ``INSTALL_METHOD=local``, as the Dify plugin daemon does, reads the
manifest line, heartbeats, logs and session messages from its stdout, and
multiplexes requests by session id.  Reverse invocations (``invoke`` session
messages) are checked against the manifest's permissions and answered by a
backend with ``backwards_response`` events (``response``... then ``end``, or
``error``).  Blob chunks are reassembled; a line on stdout that is not protocol
JSON is reported as a warning (``print()`` breaks the real daemon).

:func:`resolve_python` picks the interpreter of a run; the runs themselves are
:mod:`dify_lsp.invocation.runner`'s.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dify_lsp.interpreters import ENV_VAR, MIN_PLUGIN_PYTHON, probe, venv_python
from dify_lsp.invocation.backends import Backend, BackendError, InvokeContext
from dify_lsp.invocation.environments import (
    EnvironmentBuildError,
    cached_environment,
    dependency_source,
    ensure_environment,
)
from dify_lsp.invocation.fileserver import FileServer, extension_for, file_type
from dify_lsp.invocation.forms import LocalFile
from dify_lsp.invocation.parameters import InvocationError
from dify_lsp.invocation.permissions import permission_error
from dify_lsp.invocation.processes import Aborted, ProcessTree, spawn_options

DEFAULT_TIMEOUT = 60.0
LINE_LIMIT = 64 * 1024 * 1024  # a single protocol line (blob chunks are ~11 KB, LLM answers can be large)
TRANSCRIPT_STRING_LIMIT = 4000
PRINT_WARNING = (
    "the plugin wrote a line that is not protocol JSON to stdout: {line!r}. The Dify daemon reads stdout as "
    "the protocol stream: it logs such a line as an error and drops it (and a print() without a newline takes the "
    "protocol message after it down too); use logging or self.create_log_message()"
)

ProgressFn = Callable[[str, str], None]  # (kind, text); kinds: status, log, text, invoke, warning


class PluginStartError(Exception):
    """The plugin process exited or stalled before it declared its manifest."""


def _now_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _trim(value: Any, limit: int = TRANSCRIPT_STRING_LIMIT) -> Any:
    """Long strings (hex audio, base64 files) cut for the transcript."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"…({len(value)} chars)"
    if isinstance(value, dict):
        return {k: _trim(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_trim(v, limit) for v in value]
    return value


# -- sessions -------------------------------------------------------------------


@dataclass
class Session:
    """One request to the plugin and what came back on its session id."""

    session_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ended: bool = False  # the plugin sent `end` (not just: its process went away)
    on_invoke: Callable[[dict[str, Any]], None] | None = None
    on_message: Callable[[dict[str, Any]], None] | None = None
    # a finished blob: (message, decoded bytes) -> fills in how the data is kept (data_base64 or a saved path)
    on_blob: Callable[[dict[str, Any], bytes], None] | None = None
    results: list[Any] = field(default_factory=list)  # stream payloads that are not tool messages ({"result": true})

    def add_stream(self, data: dict[str, Any]) -> None:
        mtype = data.get("type")
        if mtype is None and "message" not in data:
            self.results.append(data)
            return
        message = data.get("message") if isinstance(data.get("message"), dict) else {}
        meta = data.get("meta")
        if mtype == "blob_chunk":
            self._add_chunk(message, meta)
            return
        out: dict[str, Any] = {"type": mtype, **message}
        if meta:
            out["meta"] = meta
        self._append(out)

    def _add_chunk(self, chunk: dict[str, Any], meta: Any) -> None:
        blob_id = str(chunk.get("id"))
        entry = self.blobs.setdefault(blob_id, {"parts": {}, "total": chunk.get("total_length"), "meta": meta})
        try:
            entry["parts"][int(chunk.get("sequence", 0))] = base64.b64decode(chunk.get("blob") or "")
        except (ValueError, TypeError):
            entry["parts"][int(chunk.get("sequence", 0))] = b""
        if not chunk.get("end"):
            return
        del self.blobs[blob_id]
        data = b"".join(entry["parts"][k] for k in sorted(entry["parts"]))
        out: dict[str, Any] = {"type": "blob", "id": blob_id, "size": len(data)}
        meta = entry["meta"] or {}
        if isinstance(meta, dict) and meta.get("mime_type"):
            out["mime_type"] = meta["mime_type"]
        if entry["total"] is not None and entry["total"] != len(data):
            out["warning"] = f"expected {entry['total']} bytes, got {len(data)}"
        if meta:
            out["meta"] = meta
        if self.on_blob is not None:
            self.on_blob(out, data)
        else:
            out["data_base64"] = base64.b64encode(data).decode()
        self._append(out)

    def _append(self, out: dict[str, Any]) -> None:
        self.messages.append(out)
        if self.on_message is not None:
            self.on_message(out)


class PluginProcess:
    """A running plugin, spoken to over stdin/stdout as the daemon does."""

    def __init__(
        self,
        plugin_root: Path,
        python: Path,
        module: str,
        on_log: Callable[[str], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        debug: Any = None,
    ) -> None:
        self.plugin_root = plugin_root
        self.python = python
        self.module = module
        self.debug = debug  # a DebugListener (debugging.py): the plugin runs under debugpy
        self.tree: ProcessTree | None = None
        self.on_log = on_log
        self.on_warning = on_warning
        self.proc: asyncio.subprocess.Process | None = None
        self.declaration: dict[str, Any] | None = None
        self.sessions: dict[str, Session] = {}
        self.heartbeats = 0
        self.warnings: list[str] = []
        self.warning_counts: dict[str, int] = {}
        self.stderr_tail: deque[str] = deque(maxlen=200)
        self._ready = asyncio.Event()
        self._exited = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._write_lock = asyncio.Lock()
        self.started_at = 0.0
        self.ready_ms: float | None = None

    # process lifetime --------------------------------------------------------
    async def start(self, timeout: float) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REMOTE_INSTALL_")}
        env["INSTALL_METHOD"] = "local"
        # files are served on loopback (fileserver.py): a proxy from the environment must not catch those URLs
        no_proxy = ",".join(filter(None, [env.get("NO_PROXY") or env.get("no_proxy"), "127.0.0.1", "localhost"]))
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
        self.started_at = time.perf_counter()
        argv = [str(self.python), "-m", self.module]
        if self.debug is not None:
            argv, extra_env = self.debug.command(self.python, self.module)
            env.update(extra_env)
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(self.plugin_root), env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT, **spawn_options(),  # its own process group: the whole tree can be killed
        )
        self.tree = ProcessTree(self.proc.pid)
        self._tasks.append(asyncio.create_task(self._read_stdout()))
        self._tasks.append(asyncio.create_task(self._read_stderr()))
        ready = asyncio.create_task(self._ready.wait())
        exited = asyncio.create_task(self._exited.wait())
        try:
            await asyncio.wait({ready, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            exited.cancel()
        if not self._ready.is_set():
            if self._exited.is_set():
                await self._drain_stderr()
                code = self.proc.returncode if self.proc.returncode is not None else await self.proc.wait()
                raise PluginStartError(f"the plugin exited with code {code} before it was ready")
            raise PluginStartError(f"the plugin did not declare its manifest within {timeout:g} s")
        self.ready_ms = _now_ms(self.started_at)
        assert self.declaration is not None
        return self.declaration

    async def _drain_stderr(self) -> None:
        # give the stderr reader a moment to collect the traceback of a crashed plugin
        for task in self._tasks[1:2]:
            try:
                await asyncio.wait_for(asyncio.shield(task), 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    @property
    def has_exited(self) -> bool:
        """The plugin's stdout has ended (it exited, or closed it)."""
        return self._exited.is_set()

    @property
    def stderr_text(self) -> str:
        return "".join(self.stderr_tail)

    async def kill(self, grace: float = 5.0) -> int | None:
        """Kill the plugin's whole process tree, reap it (no zombie) and close its pipes.

        Descendants are collected before the kill (orphans are re-parented and lost to a later look), so a
        grandchild in a session of its own dies too.  The exit is awaited on the return code, not with
        ``Process.wait()``: asyncio's ``wait()`` also waits for the pipes to close, which a grandchild holding
        the plugin's stdout would delay forever.  The transport is closed here, on the loop, so no pipe is left
        for the garbage collector to close after the loop is gone ("Event loop is closed").
        """
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None and self.tree is not None:
            self.tree.kill()
        # closing the transport before the exit is seen would reap the child behind the child watcher's back
        end = time.perf_counter() + grace
        while proc.returncode is None and time.perf_counter() < end:
            await asyncio.sleep(0.002)
        code = proc.returncode
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return code

    # protocol ------------------------------------------------------------------
    async def send(self, payload: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        line = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        async with self._write_lock:
            self.proc.stdin.write(line)
            await self.proc.stdin.drain()

    async def request(self, data: dict[str, Any], session: Session | None = None, **context: Any) -> Session:
        session = session or Session(uuid.uuid4().hex)
        self.sessions[session.session_id] = session
        await self.send({
            "session_id": session.session_id, "event": "request", "data": data,
            "conversation_id": context.get("conversation_id"), "message_id": context.get("message_id"),
            "app_id": context.get("app_id"), "endpoint_id": context.get("endpoint_id"),
            "context": context.get("context") or {},
        })
        return session

    async def respond(self, session_id: str, request_id: str, event: str, data: dict[str, Any] | None, message: str = "") -> None:
        await self.send({
            "session_id": session_id, "event": "backwards_response",
            "data": {"backwards_request_id": request_id, "event": event, "message": message, "data": data},
        })

    def _warn(self, text: str) -> None:
        """A warning, reported once; repeats (a print() in a loop) are counted, see :meth:`warning_summary`."""
        self.warning_counts[text] = self.warning_counts.get(text, 0) + 1
        if text not in self.warnings:
            self.warnings.append(text)
            if self.on_warning is not None:
                self.on_warning(text)

    def warning_summary(self) -> list[str]:
        """Each distinct warning once, with how many times it happened when more than once."""
        return [w if self.warning_counts.get(w, 1) == 1 else f"{w} ({self.warning_counts[w]} times)" for w in self.warnings]

    async def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stream = self.proc.stdout
        try:
            while True:
                try:
                    raw = await stream.readline()
                except ValueError:  # a line longer than LINE_LIMIT
                    self._warn(f"the plugin wrote a line longer than {LINE_LIMIT} bytes; it was dropped")
                    await stream.read(LINE_LIMIT)
                    continue
                if not raw:
                    break
                line = raw.decode("utf-8", errors="replace").strip()
                if line:
                    self._handle_line(line)
        finally:
            self._exited.set()
            for session in self.sessions.values():
                if not session.done.is_set():
                    session.done.set()

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while True:
            raw = await self.proc.stderr.readline()
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace")
            if self.debug is not None and self.debug.stderr_line(line):
                continue
            self.stderr_tail.append(line)

    def _handle_line(self, line: str) -> None:
        obj: Any = None
        try:
            obj = json.loads(line)
        except ValueError:
            # print() without a newline glues its text to the next protocol line
            start = line.find('{"event"')
            if start > 0:
                self._warn(PRINT_WARNING.format(line=line[:start][:200]))
                try:
                    obj = json.loads(line[start:])
                except ValueError:
                    obj = None
            else:
                self._warn(PRINT_WARNING.format(line=line[:200]))
                return
        if not isinstance(obj, dict):
            self._warn(PRINT_WARNING.format(line=line[:200]))
            return
        event = obj.get("event")
        if event is None and not self._ready.is_set():
            self.declaration = obj
            self._ready.set()
            return
        if event == "heartbeat":
            self.heartbeats += 1
            return
        if event == "log":
            data = obj.get("data") or {}
            if self.on_log is not None:
                self.on_log(f"{data.get('level', 'INFO')} {data.get('message', '')}")
            return
        session = self.sessions.get(obj.get("session_id") or "")
        if event == "error":
            data = obj.get("data") or {}
            text = data.get("error") or data.get("message") or json.dumps(data)
            if session is not None:
                session.error = {"type": data.get("error_type") or "PluginError", "message": text, "traceback": None}
                session.done.set()
            else:
                self._warn(f"the plugin reported an error outside a session: {text}")
            return
        if event != "session":
            self._warn(f"unknown event from the plugin: {event!r}")
            return
        if session is None:
            self._warn(f"a message for an unknown session {obj.get('session_id')!r}")
            return
        data = obj.get("data") or {}
        kind = data.get("type")
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        if kind == "stream":
            session.add_stream(payload)
        elif kind == "invoke":
            if session.on_invoke is not None:
                session.on_invoke(payload)
        elif kind == "error":
            args = payload.get("args") if isinstance(payload.get("args"), dict) else {}
            session.error = {
                "type": payload.get("error_type") or "Exception",
                "message": payload.get("message") or "",
                "traceback": args.get("traceback"),
            }
        elif kind == "end":
            session.ended = True
            session.done.set()
        else:
            self._warn(f"unknown session message type {kind!r}")


# -- reverse invocations ----------------------------------------------------------


def summarize_responses(invoke_type: str, responses: list[dict[str, Any]]) -> Any:
    """What the transcript shows of a reverse call's answers."""
    if invoke_type in ("llm", "llm_structured_output") and responses:
        content = "".join(
            r.get("delta", {}).get("message", {}).get("content") or ""
            for r in responses if isinstance(r.get("delta", {}).get("message", {}).get("content"), (str, type(None)))
        )
        last = responses[-1].get("delta", {})
        out = {"model": responses[-1].get("model"), "content": content, "chunks": len(responses),
               "usage": next((r["delta"]["usage"] for r in reversed(responses) if r.get("delta", {}).get("usage")), None),
               "finish_reason": last.get("finish_reason")}
        tool_calls = [c for r in responses for c in r.get("delta", {}).get("message", {}).get("tool_calls") or []]
        if tool_calls:
            out["tool_calls"] = tool_calls
        if invoke_type == "llm_structured_output":
            out["structured_output"] = next((r.get("structured_output") for r in reversed(responses) if r.get("structured_output") is not None), None)
        return out
    if invoke_type in ("text_embedding", "multimodal_embedding") and len(responses) == 1:
        r = responses[0]
        vectors = r.get("embeddings") or []
        return {"model": r.get("model"), "count": len(vectors), "dims": sorted({len(v) for v in vectors}),
                "first": (vectors[0][:4] if vectors else None), "usage": r.get("usage")}
    if invoke_type == "tts":
        return {"chunks": len(responses), "bytes": sum(len(r.get("result") or "") // 2 for r in responses),
                "mime_type": responses[0].get("mime_type") if responses else None}
    if len(responses) == 1:
        return _trim(responses[0])
    return _trim(responses)


class ReverseInvoker:
    """Answers one session's reverse invocations with a backend, recording a transcript."""

    def __init__(self, process: PluginProcess, session: Session, backend: Backend, ctx: InvokeContext,
                 manifest: Mapping[str, Any], progress: ProgressFn | None = None) -> None:
        self.process = process
        self.session = session
        self.backend = backend
        self.ctx = ctx
        self.manifest = manifest
        self.progress = progress
        self.transcript: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[Any]] = set()

    def __call__(self, payload: dict[str, Any]) -> None:
        task = asyncio.create_task(self.answer(payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def answer(self, payload: dict[str, Any]) -> None:
        start = time.perf_counter()
        invoke_type = str(payload.get("type"))
        request_id = str(payload.get("backwards_request_id"))
        request = payload.get("request") if isinstance(payload.get("request"), dict) else {}
        entry: dict[str, Any] = {"type": invoke_type, "backend": self.backend.name, "request": _trim(request),
                                 "response": None, "error": None, "duration_ms": None}
        self.transcript.append(entry)
        if self.progress:
            self.progress("invoke", f"{invoke_type} …")
        responses: list[dict[str, Any]] = []
        sid = self.session.session_id
        try:
            denied = permission_error(self.manifest, invoke_type)
            if denied:
                raise BackendError(denied)
            async for item in self.backend.invoke(invoke_type, request, self.ctx):
                responses.append(item)
                await self.process.respond(sid, request_id, "response", item)
            await self.process.respond(sid, request_id, "end", None)
        except BackendError as exc:
            entry["error"] = str(exc)
            await self._send_error(sid, request_id, str(exc))
        except Exception as exc:  # a bug in a backend must not hang the plugin
            entry["error"] = f"{type(exc).__name__}: {exc}"
            await self._send_error(sid, request_id, entry["error"])
        entry["response"] = summarize_responses(invoke_type, responses) if responses else None
        entry["duration_ms"] = _now_ms(start)
        if self.progress:
            self.progress("invoke", f"{invoke_type} {'failed: ' + entry['error'] if entry['error'] else 'answered'} in {entry['duration_ms']:.1f} ms")

    async def _send_error(self, sid: str, request_id: str, message: str) -> None:
        try:
            await self.process.respond(sid, request_id, "error", None, message)
        except (ConnectionError, RuntimeError):
            pass

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# -- one run ----------------------------------------------------------------------


def coalesce_text(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent plain text messages (a streamed answer) joined into one."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.get("type") == "text" and "meta" not in m and out and out[-1].get("type") == "text" and "meta" not in out[-1]:
            out[-1] = {**out[-1], "text": (out[-1].get("text") or "") + (m.get("text") or "")}
        else:
            out.append(dict(m))
    return out


PYTHON_PRECEDENCE = (
    "--python (never replaced: a path that does not run is a usage error), then the `python` setting "
    "(dify.python), then $DIFY_LSP_PYTHON, then the plugin's own .venv/ (or venv/), then the run environment "
    "dify-lsp builds with uv from uv.lock / pyproject.toml / requirements.txt (cached by their hash)"
)


def _explicit_python(path: str, origin: str) -> Path:
    """An interpreter the user named: used as is, or a usage error saying why it cannot be."""
    cand = Path(path).expanduser()
    if not cand.exists():
        raise InvocationError(f"{origin} {path}: no such file")
    version = probe(str(cand))
    if version is None:
        raise InvocationError(f"{origin} {path}: it does not run as a Python interpreter")
    if version[:2] < MIN_PLUGIN_PYTHON:
        raise InvocationError(
            f"{origin} {path} is Python {'.'.join(map(str, version))}; the plugin SDK needs "
            f"{MIN_PLUGIN_PYTHON[0]}.{MIN_PLUGIN_PYTHON[1]} or later"
        )
    return cand


def resolve_python(
    plugin_root: Path,
    configured: str | None = None,
    *,
    explicit: str | None = None,
    step: Callable[[str], None] | None = None,
    rebuild: bool = False,
    abort: Any = None,
) -> tuple[Path, str]:
    """The interpreter a run uses and where it came from, in this order (the one documented order):

    ``explicit`` (the ``--python`` flag) > ``configured`` (the ``python`` setting) > ``$DIFY_LSP_PYTHON`` >
    the plugin's own ``.venv`` > the environment built by :mod:`dify_lsp.invocation.environments`
    (``step(text)`` reports each build step; ``rebuild`` builds that environment again).  An explicit choice that does
    not run is an :class:`InvocationError`, never silently replaced.  Blocking: call it in a thread.
    """
    if explicit:
        return _explicit_python(explicit, "--python"), "--python"
    if configured:
        return _explicit_python(configured, "the python setting"), "python setting"
    if os.environ.get(ENV_VAR):
        return _explicit_python(os.environ[ENV_VAR], f"${ENV_VAR}"), ENV_VAR
    own = venv_python(plugin_root)
    if own is not None:
        return own, "the plugin's .venv"
    source = dependency_source(plugin_root)
    cached = None if rebuild else cached_environment(plugin_root)
    if cached is not None:
        return cached, f"run environment from {source.kind}"
    try:
        built = ensure_environment(plugin_root, step, rebuild=rebuild, abort=abort)
    except EnvironmentBuildError as exc:
        raise InvocationError(f"the run environment could not be built: {exc}") from None
    except Aborted:
        raise InvocationError("the run environment build was interrupted; nothing half-built is kept") from None
    return built, f"run environment from {source.kind}, just built"


def serve_local_files(value: Any, files: FileServer) -> Any:
    """``value`` with every local file (at any depth) replaced by the Dify file object of its served copy."""
    if isinstance(value, LocalFile):
        return files.dify_file(value.path)
    if isinstance(value, dict):
        return {k: serve_local_files(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [serve_local_files(v, files) for v in value]
    return value


def blob_file_info(message: dict[str, Any], size: int) -> dict[str, Any]:
    """What a blob message is as a file: its name (from meta, else made from the mime type), mime type, size."""
    meta = message.get("meta") if isinstance(message.get("meta"), dict) else {}
    mime = meta.get("mime_type") or message.get("mime_type") or "application/octet-stream"
    name = meta.get("filename") or meta.get("file_name")
    if not isinstance(name, str) or not name.strip():
        name = f"blob-{str(message.get('id') or uuid.uuid4().hex)[:8]}{extension_for(mime)}"
    name = Path(name).name  # never a path out of the output folder
    return {"filename": name, "mime_type": mime, "extension": Path(name).suffix, "size": size, "type": file_type(mime)}


def unique_path(folder: Path, name: str, taken: set[Path]) -> Path:
    stem, suffix = Path(name).stem or "blob", Path(name).suffix
    path = folder / name
    n = 1
    while path in taken or path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    taken.add(path)
    return path


def link_local_file(message: dict[str, Any], files: FileServer) -> dict[str, Any]:
    """An image/link message whose URL is one of the run's served files also names the local file."""
    if message.get("type") in ("image", "image_link", "link") and isinstance(message.get("text"), str):
        local = files.local_path(message["text"])
        if local is not None:
            return {**message, "path": str(local)}
    return message


def describe_message(message: dict[str, Any]) -> str:
    """One line for a non-text tool message (the CLI's text output, the editor's log)."""
    if message.get("type") == "blob":
        f = message.get("file") or {}
        where = message.get("path") or "kept in the result (use --out DIR to save it)"
        return f"[blob] {f.get('filename')} {f.get('mime_type')} {message.get('size')} bytes: {where}"
    shown = {k: (f"<{len(v) * 3 // 4} bytes base64>" if k == "data_base64" else v) for k, v in message.items()}
    text = json.dumps(shown, ensure_ascii=False)
    return text if len(text) <= 1000 else text[:1000] + f"… ({len(text)} chars; the full message is in --format json)"



"""``dify-lsp run PLUGIN --serve PORT``: the plugin's endpoints (or trigger webhooks) on a loopback HTTP server.

Every request that reaches 127.0.0.1:PORT is forwarded to the running plugin as the daemon forwards it
(``invoke_endpoint`` with the raw HTTP request and the endpoint settings; for a trigger plugin
``dispatch_trigger_event`` and then ``invoke_trigger_event`` for each event it names), and the plugin's answer is
written back as it streams: status and headers first, then each body chunk (chunked transfer encoding when the
plugin sets no Content-Length).  So ``curl`` and webhook senders can hit a plugin under development.  One line per
request goes to stderr.  Ctrl-C stops the server and the plugin's process tree.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dify_lsp.i18n import msg
from dify_lsp.invocation.parameters import InvocationError

MAX_BODY = 64 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class EndpointServer:
    def __init__(self, host: Any, prepared: Any, kind: str, log: Any = None) -> None:
        self.host = host
        self.prepared = prepared  # the prepared request of the run (settings / subscription come from it)
        self.kind = kind
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self, port: int) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        t0 = time.perf_counter()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        request_line = lines[0]
        headers = [line.split(":", 1) for line in lines[1:] if ":" in line]
        length = next((int(v.strip()) for k, v in headers if k.strip().lower() == "content-length"), 0)
        if length > MAX_BODY:
            await self._simple(writer, 413, "request body too large")
            return
        body = await reader.readexactly(length) if length else b""
        raw = (head + body).hex()
        status = 502
        try:
            status = await self._forward(raw, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as exc:  # a broken answer must not kill the server
            await self._simple(writer, 502, f"dify-lsp: {type(exc).__name__}: {exc}")
        finally:
            self.log(f"{request_line} -> {status} ({(time.perf_counter() - t0) * 1000:.0f} ms)")
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()

    async def _forward(self, raw_hex: str, writer: asyncio.StreamWriter) -> int:
        data = dict(self.prepared.data)
        data["raw_http_request"] = raw_hex
        if self.kind == "trigger":
            outcome = await self.host.invoke(data)
            if not outcome.ok or not outcome.chunks:
                await self._simple(writer, 500, (outcome.error or {}).get("message") or "no answer")
                return 500
            dispatched = outcome.chunks[0]
            for follow in self.prepared.then(dispatched) if self.prepared.then else []:
                follow["raw_http_request"] = raw_hex
                more = await self.host.invoke(follow)
                result = more.chunks[-1] if more.chunks else more.error
                self.log(f"  event {follow['event']}: {json.dumps(result, default=str)[:500]}")
            response = bytes.fromhex(str(dispatched.get("response") or ""))
            writer.write(response)
            try:
                return int(response.split(b" ", 2)[1])
            except (IndexError, ValueError):
                return 200
        state: dict[str, Any] = {"status": None, "chunked": False}

        def chunk(c: dict[str, Any]) -> None:
            if "status" in c and state["status"] is None:
                state["status"] = int(c.get("status") or 200)
                hdrs = {k: v for k, v in (c.get("headers") or {}).items() if k.lower() not in HOP_BY_HOP}
                state["chunked"] = not any(k.lower() == "content-length" for k in hdrs)
                out = [f"HTTP/1.1 {state['status']} {_reason(state['status'])}"]
                out += [f"{k}: {v}" for k, v in hdrs.items()]
                if state["chunked"]:
                    out.append("Transfer-Encoding: chunked")
                out.append("Connection: close")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            if c.get("result"):
                piece = bytes.fromhex(str(c["result"]))
                if state["chunked"]:
                    writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    writer.write(piece)

        outcome = await self.host.invoke(data, chunk)
        if state["status"] is None:
            message = (outcome.error or {}).get("message") or "the plugin sent no response"
            await self._simple(writer, 500, message)
            return 500
        if state["chunked"]:
            writer.write(b"0\r\n\r\n")
        return int(state["status"])

    async def _simple(self, writer: asyncio.StreamWriter, status: int, text: str) -> None:
        body = text.encode("utf-8")
        writer.write(f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def serve(request: Any, port: int, ready: Any = None, stop: asyncio.Event | None = None) -> int:
    """Start the plugin and the server; serve until ``stop`` is set (or forever). ``ready(port)`` once listening."""
    from dify_lsp.invocation import forms
    from dify_lsp.invocation.access import PluginHost
    from dify_lsp.invocation.backends import create_backend
    from dify_lsp.invocation.debugging import debug_listener
    from dify_lsp.invocation.kinds import plugin_kinds, prepare, tool_lookup
    from dify_lsp.invocation.parameters import InvocationFile, load_saved_invocation, read_plugin

    root = Path(request.plugin_root).resolve()
    plugin = await asyncio.to_thread(read_plugin, root)
    kinds = [k for k in ("endpoint", "trigger") if k in plugin_kinds(plugin)]
    if not kinds:
        raise InvocationError(msg("--serve needs a plugin with endpoints or triggers"))
    kind = kinds[0]
    try:
        backend = create_backend(request.backend or "mock", request.settings or {}, root)
    except ValueError as exc:
        raise InvocationError(str(exc)) from None
    probe = replace(request, kind=kind, target="GET /" if kind == "endpoint" else "dispatch")
    saved = load_saved_invocation(root, f"{kind}-serve") if request.use_saved else InvocationFile()
    if request.invocation is not None:
        saved = saved.merged(request.invocation)
    conv = forms.Converters(default_model=backend.default_model, file_base=root,
                            tool_lookup=tool_lookup([root, *request.tool_plugins]))
    try:
        prepared = await asyncio.to_thread(prepare, probe, plugin, saved, conv)
    except BaseException:
        await backend.aclose()
        raise
    for warning in prepared.warnings:
        if "no endpoint declares" not in warning:
            print(f"[warning] {warning}", file=sys.stderr, flush=True)
    debug = debug_listener(request.debug)
    host = PluginHost(root, backend, python=request.python, configured_python=request.python_setting,
                      responses=saved.responses, tool_plugins=request.tool_plugins, debug=debug)
    server = EndpointServer(host, prepared, kind)
    try:
        if debug is not None:  # the plugin waits for a debugger before it serves anything
            await host.resolve()
            await debug.prepare(host.python, lambda what, text: print(f"[{what}] {text}", file=sys.stderr, flush=True))
            debug.on_listening = lambda: print(f"[debug] {msg('the plugin waits for a debugger on {host}:{port} (attach with debugpy)', host=debug.host, port=debug.port)}",
                                               file=sys.stderr, flush=True)
        await host.start(request.timeout or 120.0 if debug is None else 10 ** 9)
        bound = await server.start(port)
        if ready is not None:
            ready(bound)
        waiters = [asyncio.ensure_future(host.wait_exited())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
        return 1 if host.exited else 0
    finally:
        await server.close()
        await host.close()
        await backend.aclose()

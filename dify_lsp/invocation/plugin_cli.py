"""The ``dify`` command line's plugin protocol: ``version``, ``plugin package`` and ``plugin run``.

The SDK's integration harness (``dify_plugin.integration.run.PluginRunner``) runs ``$DIFY_CLI_PATH version``
(it needs >= 0.1.0), ``$DIFY_CLI_PATH plugin package DIR -o OUT`` when given a folder, then
``$DIFY_CLI_PATH plugin run PKG --response-format json`` and speaks JSON lines with it.  ``plugin run`` here
speaks exactly the lines of the Go CLI (``cmd/commandline/run``):

- out: ``{"invoke_id": "", "type": "info", "response": {"info": "loading plugin"}}``, then, once the plugin
  declared itself, ``{"invoke_id": "", "type": "plugin_ready", "response": {"info": "plugin loaded"}}``;
- in: one ``{"invoke_id", "type", "action", "request"}`` per line; each gets an ``info`` "received request"
  line, then one ``plugin_response`` line per chunk the plugin streams (as it comes), then
  ``plugin_invoke_end``; a failure is an ``error`` line (``{"error": ...}``) before the end line;
- many requests may be in flight at once; their lines interleave.

Where the Go CLI would hang or say nothing, this one answers: an unknown access type or action gets an
``error`` line; a plugin that exits ends every open request with an ``error`` line and the run exits 1; a closed
stdin lets the open requests finish, then stops the plugin and exits 0; SIGTERM/SIGINT stop the plugin's whole
process tree.  Reverse invocations are answered by dify-lsp's backends (offline ``mock`` by default) with the
manifest's permissions enforced, and ``session.tool.invoke`` runs the named tool of a local plugin
(``--tool-plugin DIR``) when one has it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from dify_lsp.invocation.backends import BACKENDS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
READY_TIMEOUT = 120.0
DRAIN_TIMEOUT = 300.0  # after stdin closed: how long open requests may still run


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """``dify-lsp plugin {package,run}``."""
    parser.description = "The `dify plugin` commands the SDK's PluginRunner uses: package and run."
    sub = parser.add_subparsers(dest="plugin_command")
    pkg = sub.add_parser("package", help="write a .difypkg as `dify plugin package` does")
    pkg.add_argument("plugin_path", metavar="DIR")
    pkg.add_argument("-o", "--output_path", dest="output_path", help="the package file (default: <DIR name>.difypkg)")
    pkg.add_argument("--max-size", dest="max_size", type=int, default=50, help="maximum uncompressed size in MB (default 50)")
    run = sub.add_parser("run", help="run a plugin and speak the `dify plugin run` JSON-lines protocol on stdin/stdout")
    run.add_argument("plugin_path", metavar="PKG_OR_DIR", help="a .difypkg or a plugin folder")
    run.add_argument("-r", "--response-format", dest="response_format", choices=["text", "json"], default="text")
    run.add_argument("-m", "--mode", choices=["stdio", "tcp"], default="stdio", help="stdio (default) or tcp")
    run.add_argument("--host", dest="tcp_host", default="127.0.0.1", help="tcp mode: address to listen on")
    run.add_argument("--port", dest="tcp_port", type=int, default=0, help="tcp mode: port (default: any free port)")
    run.add_argument("-l", "--enable-logs", dest="enable_logs", action="store_true", help="forward the plugin's log lines as info lines")
    run.add_argument("--backend", choices=BACKENDS, default=os.environ.get("DIFY_LSP_BACKEND") or "mock",
                     help="who answers reverse invocations (default: mock, or $DIFY_LSP_BACKEND)")
    run.add_argument("--python", help="interpreter with the plugin's requirements")
    run.add_argument("--tool-plugin", dest="tool_plugins", action="append", default=[], metavar="DIR",
                     help="a plugin folder whose tools answer session.tool.invoke (repeatable; also $DIFY_LSP_TOOL_PLUGINS)")
    run.add_argument("--responses", metavar="FILE", help="an invocation file whose `responses` are the mock backend's canned answers")
    run.add_argument("--timeout", type=float, default=None,
                     help="seconds one request may take before it gets an error line (default: no limit, as the Go CLI); "
                          f"after stdin closes, open requests get at most this long (default {DRAIN_TIMEOUT:g} s)")


def version_command(args: argparse.Namespace) -> int:
    from dify_lsp import __version__

    print(__version__)
    return EXIT_OK


def command(args: argparse.Namespace) -> int:
    if args.plugin_command == "package":
        return package_command(args)
    if args.plugin_command == "run":
        return run_command(args)
    print("usage: dify-lsp plugin {package,run} ...", file=sys.stderr)
    return EXIT_USAGE


def package_command(args: argparse.Namespace) -> int:
    from dify_lsp.invocation.package import PackageError, build_package

    root = Path(os.path.normpath(args.plugin_path))
    output = args.output_path
    if not output:
        base = root.resolve().name if str(root) not in (".", "/") else ""
        if str(root) in (".", "/") or not base:
            print("Error: invalid input path, you should specify the path outside of plugin directory", file=sys.stderr)
            return EXIT_USAGE
        output = base + ".difypkg"
    try:
        count, size = build_package(root, Path(output), args.max_size)
    except PackageError as exc:
        print(f"failed to package plugin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"plugin packaged successfully: {output} ({count} files, {size} bytes uncompressed)", file=sys.stderr)
    return EXIT_OK


# -- plugin run ------------------------------------------------------------------------


def go_map(value: Any) -> str:
    """A value printed as Go's fmt prints a map[string]any (the CLI's text format)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_map(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_map(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class LineWriter:
    """Writes protocol lines, one whole line per write, to a binary stream."""

    def __init__(self, stream: Any, response_format: str) -> None:
        self.stream = stream
        self.format = response_format
        self.closed = False

    def emit(self, invoke_id: str, kind: str, response: dict[str, Any]) -> None:
        if self.closed:
            return
        if self.format == "json":
            line = json.dumps({"invoke_id": invoke_id, "type": kind, "response": response},
                              ensure_ascii=False, separators=(",", ":"), default=str)
        else:
            line = f"[{kind}] {go_map(response)}"
        try:
            self.stream.write((line + "\n").encode("utf-8"))
            self.stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            self.closed = True


class PluginRunSession:
    """One ``plugin run``: a started plugin and the requests of one client."""

    def __init__(self, host: Any, writer: LineWriter, invoke_timeout: float | None = None) -> None:
        self.host = host
        self.writer = writer
        self.invoke_timeout = invoke_timeout
        self.tasks: set[asyncio.Task[Any]] = set()
        self.user_id = str(uuid.uuid4())

    def accept_line(self, raw: bytes) -> None:
        from dify_lsp.invocation.access import access_problem

        line = raw.strip()
        if not line:
            return
        self.writer.emit("", "info", {"info": "received request"})
        try:
            payload = json.loads(line)
        except ValueError as exc:
            self.writer.emit("", "error", {"error": f"invalid JSON: {exc}"})
            return
        if not isinstance(payload, dict):
            self.writer.emit("", "error", {"error": "a request must be a JSON object"})
            return
        invoke_id = str(payload.get("invoke_id") or "")
        request = payload.get("request")
        problem = access_problem(payload.get("type"), payload.get("action"))
        if problem is None and request is not None and not isinstance(request, dict):
            problem = "request must be a JSON object"
        if problem is not None:
            self.writer.emit(invoke_id, "error", {"error": problem})
            if invoke_id:
                self.writer.emit(invoke_id, "plugin_invoke_end", {"info": "plugin invoke end"})
            return
        data = {"user_id": self.user_id, "type": payload["type"], "action": payload["action"], **(request or {})}
        task = asyncio.ensure_future(self._invoke(invoke_id, data))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _invoke(self, invoke_id: str, data: dict[str, Any]) -> None:
        def chunk(response: dict[str, Any]) -> None:
            self.writer.emit(invoke_id, "plugin_response", response)

        try:
            outcome = await self.host.invoke(data, chunk, timeout=self.invoke_timeout)
        except asyncio.CancelledError:
            self.writer.emit(invoke_id, "error", {"error": "the run is stopping: the request did not finish in time"})
            self.writer.emit(invoke_id, "plugin_invoke_end", {"info": "plugin invoke end"})
            raise
        except Exception as exc:  # never leave a request without its end line
            self.writer.emit(invoke_id, "error", {"error": f"{type(exc).__name__}: {exc}"})
        else:
            if not outcome.ok:
                self.writer.emit(invoke_id, "error", {"error": outcome.daemon_error_text()})
        self.writer.emit(invoke_id, "plugin_invoke_end", {"info": "plugin invoke end"})

    async def drain(self, timeout: float | None = None) -> None:
        """Let open requests finish; those still open after ``timeout`` end with an error line."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)
        late = list(self.tasks)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


async def _stdin_reader() -> asyncio.StreamReader:
    """stdin as a stream reader, fed by a thread (works for pipes, files and terminals alike)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)

    fd = sys.stdin.fileno()

    def pump() -> None:
        # os.read, not sys.stdin.buffer: a daemon thread blocked inside a buffered reader aborts the
        # interpreter at exit (it cannot take the buffer's lock)
        while True:
            try:
                data = os.read(fd, 65536)
            except (OSError, ValueError):
                data = b""
            try:
                if data:
                    loop.call_soon_threadsafe(reader.feed_data, data)
                else:
                    loop.call_soon_threadsafe(reader.feed_eof)
                    return
            except RuntimeError:  # the loop is closed: the run is over
                return

    threading.Thread(target=pump, name="dify-lsp-stdin", daemon=True).start()
    return reader


async def _read_lines(reader: asyncio.StreamReader, session: PluginRunSession, plugin_gone: asyncio.Event) -> str:
    """Feed request lines to the session until stdin closes or the plugin exits; says which."""
    gone = asyncio.ensure_future(plugin_gone.wait())
    try:
        while True:
            line_task = asyncio.ensure_future(reader.readline())
            done, _ = await asyncio.wait({line_task, gone}, return_when=asyncio.FIRST_COMPLETED)
            if line_task not in done:
                line_task.cancel()
                return "plugin"
            try:
                raw = line_task.result()
            except (ValueError, asyncio.LimitOverrunError):
                session.writer.emit("", "error", {"error": "a request line is longer than 16 MB"})
                continue
            if not raw:
                return "stdin"
            session.accept_line(raw)
    finally:
        gone.cancel()


def _materialize(path: Path, scratch: Path) -> Path:
    """The plugin folder to run: the folder itself, or a package unpacked into ``scratch``."""
    from dify_lsp.invocation.package import PackageError, extract_package

    if path.is_dir():
        if not (path / "manifest.yaml").is_file():
            raise PackageError(f"{path}: no manifest.yaml (not a Dify plugin folder)")
        return path
    if not path.exists():
        raise PackageError(f"read plugin file error: {path}: no such file")
    return extract_package(path, scratch / "plugin")


async def run_plugin(args: argparse.Namespace, out: Any) -> int:
    from dify_lsp.invocation.access import PluginHost
    from dify_lsp.invocation.backends import create_backend
    from dify_lsp.invocation.engine import PluginStartError
    from dify_lsp.invocation.package import PackageError
    from dify_lsp.invocation.parameters import InvocationError, read_invocation_file

    writer = LineWriter(out, args.response_format)

    def system(kind: str, text: str) -> None:
        # the Go CLI's systemLog: JSON lines on stdout in json format, a log line in text format
        if args.response_format == "json":
            writer.emit("", kind, {kind if kind == "info" else "error": text})
        else:
            stamp = time.strftime("%Y/%m/%d %H:%M:%S")
            out.write(f"{stamp} [{'INFO' if kind == 'info' else 'ERROR'}]{text}\n".encode())
            out.flush()

    scratch = Path(tempfile.mkdtemp(prefix="plugin-run-"))
    host = None
    try:
        try:
            root = _materialize(Path(args.plugin_path), scratch)
            responses = read_invocation_file(Path(args.responses)).responses if args.responses else {}
        except (PackageError, InvocationError) as exc:
            system("error", str(exc))
            return EXIT_FAILED
        system("info", "loading plugin")
        tool_plugins = [Path(p) for p in args.tool_plugins]
        tool_plugins += [Path(p) for p in os.environ.get("DIFY_LSP_TOOL_PLUGINS", "").split(os.pathsep) if p]
        try:
            backend = create_backend(args.backend, {}, root)
        except ValueError as exc:
            system("error", str(exc))
            return EXIT_USAGE

        def on_log(line: str) -> None:
            if args.enable_logs:
                writer.emit("", "info", {"info": line})

        try:
            host = PluginHost(root, backend, python=args.python, responses=responses, tool_plugins=tool_plugins,
                              on_log=on_log, on_warning=lambda w: writer.emit("", "info", {"info": "warning: " + w}))
        except InvocationError as exc:
            system("error", str(exc))
            await backend.aclose()
            return EXIT_FAILED
        try:
            await host.start(READY_TIMEOUT)
        except (PluginStartError, InvocationError) as exc:
            detail = host.process.stderr_text.strip().splitlines()[-1:] if host.process else []
            system("error", f"plugin runtime failed: {exc}" + (f": {detail[0]}" if detail else ""))
            return EXIT_FAILED
        if args.mode == "tcp":
            return await _serve_tcp(args, host, system)
        session = PluginRunSession(host, writer, args.timeout)
        writer.emit("", "plugin_ready", {"info": "plugin loaded"})
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_exit(host, gone))
        try:
            why = await _read_lines(await _stdin_reader(), session, gone)
            if why == "stdin":
                await session.drain(args.timeout or DRAIN_TIMEOUT)
                return EXIT_OK
            await session.drain(5.0)
            code = await host.exit_code()
            system("error", f"the plugin process exited with code {code}")
            return EXIT_FAILED
        finally:
            watcher.cancel()
    finally:
        if host is not None:
            await host.close()
            await host.backend.aclose()
        shutil.rmtree(scratch, ignore_errors=True)


async def _watch_exit(host: Any, gone: asyncio.Event) -> None:
    await host.wait_exited()
    gone.set()


async def _serve_tcp(args: argparse.Namespace, host: Any, system: Any) -> int:
    """TCP mode: every connection is a client with its own request stream, as in the Go CLI."""

    async def client(reader: asyncio.StreamReader, conn: asyncio.StreamWriter) -> None:
        class SocketOut:
            def write(self, data: bytes) -> None:
                conn.write(data)

            def flush(self) -> None:
                return None

        session = PluginRunSession(host, LineWriter(SocketOut(), args.response_format), args.timeout)
        session.writer.emit("", "plugin_ready", {"info": "plugin loaded"})
        never = asyncio.Event()
        await _read_lines(reader, session, never)
        await session.drain()
        await conn.drain()
        conn.close()

    server = await asyncio.start_server(client, args.tcp_host, args.tcp_port)
    host_addr, port = server.sockets[0].getsockname()[:2]
    if args.response_format == "json":
        LineWriter(sys.stdout.buffer, "json").emit("", "info", {"info": f"plugin is running on {host_addr}:{port}",
                                                                 "host": host_addr, "port": port})
    else:
        system("info", f"plugin is running on {host_addr}:{port}")
    async with server:
        await host.wait_exited()
    return EXIT_FAILED


def run_command(args: argparse.Namespace) -> int:
    from dify_lsp.invocation.processes import run_main

    try:
        return run_main(lambda: run_plugin(args, sys.stdout.buffer))
    except asyncio.CancelledError:
        return EXIT_OK  # the Go CLI exits 0 on SIGTERM/SIGINT after cleaning up

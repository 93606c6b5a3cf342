"""Run invocation from the editor: commands, a code lens and a code action.

- ``dify.runInvocation`` runs one tool end to end with :mod:`dify_lsp.invocation`
  (the only place the server ever runs plugin code), streaming work-done
  progress and window/logMessage lines, and returns the run result JSON.
  Cancelling the request or the progress kills the plugin's process tree.
  Arguments: ``uri``, ``tool``, ``provider``, ``parameters``, ``credentials``, ``backend``, ``timeout``,
  ``credentialType`` (api-key | oauth), ``validate``, ``outDir``, ``rebuildEnvironment``.  A first build of
  the plugin's run environment is reported on the same progress.  When required credentials are missing the
  result's error type is ``MissingCredentials`` and ``missingCredentials`` lists them (name, label, type,
  secret): a client asks for each (masked input for a secret) and runs the command again with ``credentials``.
- ``dify.listTools`` lists a plugin's tools and their parameters.
- A code lens "▶ Run invocation" on each Tool class of a tool's Python file and
  on the ``identity`` line of a tool YAML; a code action offering the same.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types

from dify_lsp.features import CODE_ACTION, CODE_LENS, RequestContext, provides
from dify_lsp.features.client import uri_to_path
from dify_lsp.i18n import ENGLISH, N_, msg, tr
from dify_lsp.pygls_compat import current_request_future
from dify_lsp.textpos import Pos, Span

log = logging.getLogger("dify_lsp.run")

RUN_COMMAND = "dify.runInvocation"
LIST_COMMAND = "dify.listTools"
LENS_TITLE = N_("▶ Run invocation")
DEBUG_COMMAND = "dify.debugInvocation"  # handled by the client (VS Code, Neovim): free port, run with debug, attach
DEBUG_LENS_TITLE = N_("⚙ Debug")
DEBUG_LISTENING = "dify/debugListening"  # notification: a debug run's debugpy listens, {host, port, uri}
_IDENTITY_LINE = re.compile(r"^identity\s*:")
_NAME_LINE = re.compile(r"^\s+name\s*:\s*['\"]?([A-Za-z0-9_-]+)")


# -- what a document can run --------------------------------------------------------


def tool_classes(text: str) -> list[tuple[str, int]]:
    """(class name, 0-based line) of each class deriving from ``Tool`` (by name)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
                if name == "Tool":
                    out.append((node.name, node.lineno - 1))
                    break
    return out


def yaml_identity(lines: list[str]) -> tuple[int, str | None] | None:
    """(line of ``identity:``, identity.name) in a tool YAML's text."""
    for i, line in enumerate(lines):
        if _IDENTITY_LINE.match(line):
            for follow in lines[i + 1:]:
                if follow.strip() and not follow.startswith((" ", "\t")):
                    break
                m = _NAME_LINE.match(follow)
                if m:
                    return i, m.group(1)
            return i, None
    return None


def _tools_of_file(ctx: RequestContext) -> list[Any]:
    if ctx.plugin is None:
        return []
    from dify_lsp.invocation.parameters import InvocationError, discover_tools

    try:
        tools = discover_tools(ctx.plugin.root)
    except (InvocationError, OSError):
        return []
    path = ctx.path.resolve()
    return [t for t in tools if path in (t.yaml_path, t.python_path)]


def _run_args(ctx: RequestContext, tool: Any | None, name: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"uri": ctx.uri}
    if tool is not None:
        args["tool"] = tool.tool
        args["provider"] = tool.provider
    elif name:
        args["tool"] = name
    return args


def _targets(ctx: RequestContext) -> list[tuple[Span, dict[str, Any], str]]:
    """(span, command arguments, tool label) of each runnable thing in the document."""
    out: list[tuple[Span, dict[str, Any], str]] = []
    if ctx.kind == "python":
        tools = _tools_of_file(ctx)
        if len(tools) != 1:
            return out
        tool = tools[0]
        for cls, line in tool_classes(ctx.text):
            text = ctx.lines[line] if line < len(ctx.lines) else ""
            col = max(0, text.find(cls))
            out.append((Span(Pos(line, col), Pos(line, col + len(cls))), _run_args(ctx, tool), f"{tool.provider}/{tool.tool}"))
    elif ctx.kind == "tool":
        found = yaml_identity(ctx.lines)
        if found is None:
            return out
        line, name = found
        tools = _tools_of_file(ctx)
        tool = tools[0] if len(tools) == 1 else None
        label = f"{tool.provider}/{tool.tool}" if tool else (name or "tool")
        out.append((Span(Pos(line, 0), Pos(line, len("identity"))), _run_args(ctx, tool, name), label))
    return out


def lenses(ctx: RequestContext, targets: list[tuple[Span, dict[str, Any], str]]) -> list[types.CodeLens]:
    """"Run" and, beside it, "Debug" (a client command: it picks a free port, runs with ``debug`` and attaches)."""
    out = []
    for span, args, _ in targets:
        out.append(types.CodeLens(range=ctx.range(span), command=types.Command(
            title=ctx.tr(LENS_TITLE), command=RUN_COMMAND, arguments=[args])))
        out.append(types.CodeLens(range=ctx.range(span), command=types.Command(
            title=ctx.tr(DEBUG_LENS_TITLE), command=DEBUG_COMMAND, arguments=[args])))
    return out


@provides(CODE_LENS, kinds=("python", "tool"))
def run_lenses(ctx: RequestContext) -> list[types.CodeLens]:
    return lenses(ctx, _targets(ctx))


@provides(CODE_ACTION, kinds=("python", "tool"))
def run_actions(ctx: RequestContext, span: Span, diagnostics: list[Any]) -> list[types.Command]:
    """A bare Command (allowed in a code action result): clients built on lsprotocol
    decode any item that has a ``command`` key as a Command, so a CodeAction carrying
    one would not survive the trip."""
    targets = _targets(ctx)
    if ctx.kind == "python":
        # the class under the cursor (or any, when the cursor is elsewhere in a one-tool file)
        near = [t for t in targets if t[0].start.line <= span.start.line]
        targets = near[-1:] or targets[:1]
    return [
        types.Command(title=ctx.tr(msg("Run invocation of {label}", label=label)), command=RUN_COMMAND, arguments=[args])
        for _, args, label in targets
    ]


# -- commands ---------------------------------------------------------------------------


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    return {k: v for k, v in vars(value).items() if not k.startswith("_")} if hasattr(value, "__dict__") else {}


def _error_result(message: str, args: dict[str, Any], error_type: str = "InvocationError") -> dict[str, Any]:
    return {
        "status": "error", "kind": args.get("kind"), "action": None, "target": None, "tool": args.get("tool"),
        "provider": args.get("provider"), "backend": args.get("backend"), "messages": [], "text": "", "summary": None,
        "chunks": [], "transcript": [], "warnings": [], "logs": [],
        "error": {"type": error_type, "message": str(message), "traceback": None}, "duration_ms": 0,
    }


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"))


def _plugin_root(server: Any, uri: str | None) -> Path | None:
    path = uri_to_path(uri) if uri else None
    if path is None:
        return None
    return server.index.root_for(path)


def _supports_progress(server: Any) -> bool:
    return server.client.work_done_progress


def _pairs(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(p[0]), str(p[1])) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def _debug_address(value: Any) -> tuple[str, int] | None:
    """``debug``: a port, ``"HOST:PORT"`` or ``{"host", "port"}``."""
    if value in (None, False, ""):
        return None
    from dify_lsp.invocation.debugging import parse_address

    if isinstance(value, dict):
        return str(value.get("host") or "127.0.0.1"), int(value.get("port") or 0)
    return parse_address(str(value))


def build_request(server: Any, args: dict[str, Any], root: Path) -> Any:
    """The run request of ``dify.runInvocation``'s arguments (every kind)."""
    from dify_lsp.invocation.request import RunRequest

    uri = args.get("uri")
    settings = server.settings.wire()
    run_settings = settings.get("run") if isinstance(settings.get("run"), dict) else {}
    timeout = args.get("timeout")
    out_dir = args.get("outDir")
    kind = args.get("kind") or next((k for k in ("tool", "endpoint", "strategy", "model", "datasource", "trigger")
                                     if args.get(k)), None)
    target = {"tool": args.get("tool"), "endpoint": args.get("endpoint"), "strategy": args.get("strategy"),
              "model": args.get("model"), "datasource": args.get("datasource"),
              "trigger": args.get("trigger")}.get(str(kind)) if kind else None
    return RunRequest(
        plugin_root=root, kind=kind, target=target or None, provider=args.get("provider") or None,
        path=uri_to_path(uri) if uri else None, action=args.get("action") or None,
        parameters=_as_dict(args.get("parameters")), credentials=_as_dict(args.get("credentials")),
        credential_type=str(args.get("credentialType") or run_settings.get("credentialType") or "api-key"),
        validate_credentials=_flag(args.get("validate")) or _flag(run_settings.get("validateCredentials")),
        headers=_pairs(args.get("headers")), body=str(args.get("body") or "").encode("utf-8"),
        prompt=args.get("prompt"), request_line=args.get("request"),
        subscription=_as_dict(args.get("subscription")),
        agent_tools=[str(t) for t in args.get("agentTools") or []],
        tool_plugins=[root / Path(p).expanduser() for p in args.get("toolPlugins") or []],
        backend=args.get("backend") or None, settings=run_settings,
        timeout=float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None,
        python_setting=settings.get("python") or None, rebuild_environment=_flag(args.get("rebuildEnvironment")),
        out_dir=root / Path(out_dir).expanduser() if isinstance(out_dir, str) and out_dir else None,  # relative: the plugin
        debug=_debug_address(args.get("debug")),
    )


async def run_command(server: Any, args: dict[str, Any], cancel: asyncio.Event | None = None) -> dict[str, Any]:
    """``dify.runInvocation`` for every kind: the run's result JSON (secrets masked), or an error result."""
    from dify_lsp.invocation.parameters import InvocationError, MissingCredentialsError
    from dify_lsp.invocation.runner import run

    uri = args.get("uri")
    root = _plugin_root(server, uri)
    if root is None:
        return _error_result(msg("no Dify plugin (manifest.yaml) found for {uri}", uri=repr(uri)), args)
    language = getattr(server, "language", ENGLISH)
    try:
        request = build_request(server, args, root)
    except (InvocationError, ValueError) as exc:
        return _error_result(tr(exc.args[0] if exc.args else str(exc), language), args)
    label = request.target or Path(uri or "").name
    token = f"dify-run-{uuid.uuid4().hex}"
    progress_on = False
    if _supports_progress(server):
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), 5)
            progress_on = True
        except Exception:  # the client refused or does not answer: run without a progress bar
            progress_on = False
    cancel = cancel or asyncio.Event()
    loop = asyncio.get_running_loop()
    title = tr(msg("Run invocation: {target}", target=label), language)
    if progress_on:
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="starting"))
        future = server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: loop.call_soon_threadsafe(cancel.set) if f.cancelled() else None)

    def progress(kind: str, text: str) -> None:
        shown = tr(text, language)
        if kind == "debug" and request.debug is not None:
            # the client attaches now (it must not probe the port: debugpy serves one debugger)
            server.protocol.notify(DEBUG_LISTENING, {"host": request.debug[0], "port": request.debug[1], "uri": uri})
        if kind in ("environment", "status", "invoke", "warning", "debug") and progress_on:
            server.work_done_progress.report(token, types.WorkDoneProgressReport(message=shown[:200]))
        if kind == "text":
            return  # the answer comes back in the result; streamed text would flood the log
        level = types.MessageType.Warning if kind == "warning" else types.MessageType.Log
        server.window_log_message(types.LogMessageParams(type=level, message=f"[run {label}] {kind}: {shown}"))

    status = "error"
    task = asyncio.ensure_future(run(request, progress, cancel))
    try:
        result = await task
        payload = result.to_json()
        if payload.get("error"):
            payload["error"] = {**payload["error"], "message": tr(payload["error"].get("message"), language)}
        status = result.status
    except MissingCredentialsError as exc:
        # a client asks for each one (masked input when `secret`) and runs again with `credentials`
        payload = _error_result(tr(exc.args[0], language), args, "MissingCredentials")
        payload["missingCredentials"] = exc.missing
    except InvocationError as exc:
        payload = _error_result(tr(exc.args[0] if exc.args else str(exc), language), args)
    except asyncio.CancelledError:
        status = "cancelled"
        task.cancel()
        raise
    except Exception as exc:  # a bug in the runner must answer, not hang the command
        log.exception("run invocation failed")
        payload = _error_result(f"{type(exc).__name__}: {exc}", args, "InternalError")
    finally:
        if progress_on:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=status))
    return payload


async def list_command(server: Any, args: dict[str, Any]) -> list[dict[str, Any]]:
    from dify_lsp.invocation.parameters import InvocationError, discover_tools

    root = _plugin_root(server, args.get("uri"))
    if root is None:
        return []
    try:
        tools = await asyncio.to_thread(discover_tools, root)
    except InvocationError:
        return []
    return [t.describe() for t in tools]


def _cancel_on_cancel_request(ls: Any) -> asyncio.Event:
    """An event set when the client sends $/cancelRequest for the command being handled.

    pygls answers $/cancelRequest by cancelling only the response future of a
    workspace/executeCommand that is already running; the handler itself keeps
    going.  Call this first thing in the handler (before any await), while the
    protocol's current message id is still this request's.
    """
    cancel = asyncio.Event()
    response = current_request_future(ls)
    if response is not None and not response.done():
        loop = asyncio.get_running_loop()
        response.add_done_callback(lambda f: loop.call_soon_threadsafe(cancel.set) if f.cancelled() else None)
    return cancel


def register(server: Any) -> None:
    @server.command(RUN_COMMAND)
    async def on_run_invocation(ls: Any, *arguments: Any) -> dict[str, Any]:
        cancel = _cancel_on_cancel_request(ls)
        return await run_command(ls, _as_dict(arguments[0]) if arguments else {}, cancel)

    @server.command(LIST_COMMAND)
    async def on_list_tools(ls: Any, *arguments: Any) -> list[dict[str, Any]]:
        return await list_command(ls, _as_dict(arguments[0]) if arguments else {})


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (run_lenses, run_actions)

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
from dify_lsp.features import run_kinds  # runs of the other kinds (endpoint, strategy, model, ...)
from dify_lsp.features.client import uri_to_path
from dify_lsp.i18n import ENGLISH, N_, msg, tr
from dify_lsp.pygls_compat import current_request_future
from dify_lsp.textpos import Pos, Span

log = logging.getLogger("dify_lsp.run")

RUN_COMMAND = "dify.runInvocation"
LIST_COMMAND = "dify.listTools"
LENS_TITLE = N_("▶ Run invocation")
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


@provides(CODE_LENS, kinds=("python", "tool"))
def run_lenses(ctx: RequestContext) -> list[types.CodeLens]:
    return [
        types.CodeLens(range=ctx.range(span), command=types.Command(title=ctx.tr(LENS_TITLE), command=RUN_COMMAND, arguments=[args]))
        for span, args, _ in _targets(ctx)
    ]


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
        "status": "error", "tool": args.get("tool"), "provider": args.get("provider"), "backend": args.get("backend"),
        "messages": [], "text": "", "transcript": [], "warnings": [], "logs": [],
        "error": {"type": error_type, "message": message, "traceback": None}, "duration_ms": 0,
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


async def run_command(server: Any, args: dict[str, Any], cancel: asyncio.Event | None = None) -> dict[str, Any]:
    from dify_lsp.invocation.engine import RunSpec, run_invocation
    from dify_lsp.invocation.parameters import InvocationError, MissingCredentialsError

    if run_kinds.handles(server, args):  # an endpoint, strategy, model, datasource or trigger
        return await run_kinds.run_command(server, args, cancel)
    uri = args.get("uri")
    root = _plugin_root(server, uri)
    if root is None:
        return _error_result(f"no Dify plugin (manifest.yaml) found for {uri!r}", args)
    settings = server.settings.wire()
    run_settings = settings.get("run") if isinstance(settings.get("run"), dict) else {}
    timeout = args.get("timeout")
    out_dir = args.get("outDir")
    spec = RunSpec(
        plugin_root=root,
        tool=args.get("tool") or None,
        provider=args.get("provider") or None,
        path=uri_to_path(uri) if uri else None,
        parameters=_as_dict(args.get("parameters")),
        credentials=_as_dict(args.get("credentials")),
        backend=args.get("backend") or None,
        timeout=float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None,
        python_setting=settings.get("python") or None,
        settings=run_settings,
        credential_type=str(args.get("credentialType") or run_settings.get("credentialType") or "api-key"),
        validate_credentials=_flag(args.get("validate")) or _flag(run_settings.get("validateCredentials")),
        out_dir=root / Path(out_dir).expanduser() if isinstance(out_dir, str) and out_dir else None,  # relative: the plugin
        rebuild_environment=_flag(args.get("rebuildEnvironment")),
    )

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
    title = tr(msg("Run invocation: {target}", target=spec.tool or Path(uri or '').name), getattr(server, "language", ENGLISH))
    if progress_on:
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="starting"))
        future = server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: loop.call_soon_threadsafe(cancel.set) if f.cancelled() else None)

    def progress(kind: str, text: str) -> None:
        if kind in ("environment", "status", "invoke", "warning") and progress_on:
            server.work_done_progress.report(token, types.WorkDoneProgressReport(message=text[:200]))
        if kind == "text":
            return  # the answer comes back in the result; streamed text would flood the log
        level = types.MessageType.Warning if kind == "warning" else types.MessageType.Log
        server.window_log_message(types.LogMessageParams(type=level, message=f"[run {spec.tool or ''}] {kind}: {text}"))

    status = "error"
    try:
        result = await run_invocation(spec, progress, cancel)
        payload = result.to_json()
        status = result.status
    except MissingCredentialsError as exc:
        # a client asks for each one (masked input when `secret`) and runs again with `credentials`
        payload = _error_result(str(exc), args, "MissingCredentials")
        payload["missingCredentials"] = exc.missing
    except InvocationError as exc:
        payload = _error_result(str(exc), args)
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    except Exception as exc:  # a bug in the engine must answer, not hang the command
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

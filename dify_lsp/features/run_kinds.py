"""Run invocation from the editor for the kinds that are not tools: endpoints, agent strategies, models,
datasources and triggers.

- A code lens "▶ Run invocation" (and the same code action) on an endpoint YAML's ``path`` line, on the
  ``identity`` line of an agent strategy, datasource, trigger provider or trigger event YAML, on a model YAML's
  ``model`` line, and on the plugin class of the Python file such a YAML names.
- ``dify.runInvocation`` with ``kind`` (or on such a file) runs it with :mod:`dify_lsp.invocation.kinds`.
  Arguments besides the tool ones (``uri``, ``parameters``, ``credentials``, ``backend``, ``timeout``):
  ``kind`` (endpoint | strategy | model | datasource | trigger), ``endpoint`` ("METHOD /path"), ``headers``
  (a mapping or a list of [name, value]), ``body`` (text), ``strategy``, ``agentTools`` (["provider/tool"]),
  ``toolPlugins`` (folders; the ``run.toolPlugins`` setting adds more), ``model`` ("type/name"), ``prompt``,
  ``datasource``, ``trigger`` (dispatch | subscribe | validate), ``request`` ("METHOD /path" of a webhook),
  ``subscription`` (properties), ``action`` (another access action).  The result is the run's JSON (status,
  summary, chunks, transcript of reverse invocations, warnings, error); secrets are masked.
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
from dify_lsp.i18n import ENGLISH, N_, msg, tr
from dify_lsp.textpos import Pos, Span

log = logging.getLogger("dify_lsp.run")

RUN_COMMAND = "dify.runInvocation"
LENS_TITLE = N_("▶ Run invocation")
YAML_KINDS = ("endpoint", "agent_strategy", "model", "datasource", "trigger_provider", "trigger_event")
RUN_KIND_OF_FILE = {"endpoint": "endpoint", "endpoint_group": "endpoint", "agent_strategy": "strategy",
                    "agent_provider": "strategy", "model": "model", "model_provider": "model",
                    "datasource": "datasource", "datasource_provider": "datasource",
                    "trigger_provider": "trigger", "trigger_event": "trigger"}
PLUGIN_BASES = {"Endpoint": "endpoint", "AgentStrategy": "strategy", "WebsiteCrawlDatasource": "datasource",
                "OnlineDocumentDatasource": "datasource", "OnlineDriveDatasource": "datasource", "Trigger": "trigger",
                "Event": "trigger", "LargeLanguageModel": "model", "TextEmbeddingModel": "model"}
_LINE = re.compile(r"^(identity|path|model)\s*:\s*['\"]?([^'\"#]*)")


def _yaml_data(ctx: RequestContext) -> dict[str, Any]:
    from dify_lsp.invocation.parameters import _plain

    if ctx.plugin is None:
        return {}
    data = _plain(ctx.plugin.yaml_files.get(ctx.path.resolve()) or ctx.plugin.yaml_files.get(ctx.path))
    return data if isinstance(data, dict) else {}


def _name(data: dict[str, Any]) -> str | None:
    identity = data.get("identity") if isinstance(data.get("identity"), dict) else {}
    return identity.get("name") if isinstance(identity.get("name"), str) else None


def _yaml_target(ctx: RequestContext, data: dict[str, Any]) -> tuple[str, dict[str, Any], str] | None:
    """(the line's key, command arguments, label) for a YAML file of a runnable kind."""
    kind = ctx.kind
    if kind == "endpoint" and data.get("path"):
        line = f"{str(data.get('method') or 'GET').upper()} {data['path']}"
        return "path", {"uri": ctx.uri, "kind": "endpoint", "endpoint": re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"\1", line)}, line
    if kind == "agent_strategy" and _name(data):
        return "identity", {"uri": ctx.uri, "kind": "strategy", "strategy": _name(data)}, f"strategy {_name(data)}"
    if kind == "model" and data.get("model"):
        ref = f"{data.get('model_type')}/{data['model']}"
        return "model", {"uri": ctx.uri, "kind": "model", "model": ref}, ref
    if kind == "datasource" and _name(data):
        return "identity", {"uri": ctx.uri, "kind": "datasource", "datasource": _name(data)}, f"datasource {_name(data)}"
    if kind in ("trigger_provider", "trigger_event"):
        return "identity", {"uri": ctx.uri, "kind": "trigger", "trigger": "dispatch"}, "trigger dispatch"
    return None


def _python_target(ctx: RequestContext) -> tuple[Span, dict[str, Any], str] | None:
    if ctx.plugin is None:
        return None
    owners = [ref.owner for ref in ctx.plugin.refs_to(ctx.path.resolve())]
    owner_kinds = [ctx.plugin.kind_of(o) for o in owners]
    if not any(k in RUN_KIND_OF_FILE for k in owner_kinds):
        return None
    try:
        tree = ast.parse(ctx.text)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases]
        kind = next((PLUGIN_BASES[b] for b in bases if b in PLUGIN_BASES), None)
        if kind is None:
            continue
        from dify_lsp.invocation.parameters import _plain

        args: dict[str, Any] = {"uri": ctx.uri, "kind": kind}
        for owner, okind in zip(owners, owner_kinds):
            data = _plain(ctx.plugin.yaml_files.get(owner))
            if not isinstance(data, dict):
                continue
            if okind == "endpoint" and data.get("path"):
                args["endpoint"] = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"\1", f"{str(data.get('method') or 'GET').upper()} {data['path']}")
            elif okind == "agent_strategy":
                args["strategy"] = _name(data)
            elif okind == "datasource":
                args["datasource"] = _name(data)
            elif okind in ("trigger_provider", "trigger_event"):
                args["trigger"] = "dispatch"
        if kind == "model":
            continue  # a model class serves several models: the lens sits on each model YAML
        text = ctx.lines[node.lineno - 1] if node.lineno - 1 < len(ctx.lines) else ""
        col = max(0, text.find(node.name))
        span = Span(Pos(node.lineno - 1, col), Pos(node.lineno - 1, col + len(node.name)))
        return span, args, f"{kind} {node.name}"
    return None


def kind_targets(ctx: RequestContext) -> list[tuple[Span, dict[str, Any], str]]:
    if ctx.kind == "python":
        found = _python_target(ctx)
        return [found] if found else []
    if ctx.kind not in YAML_KINDS:
        return []
    target = _yaml_target(ctx, _yaml_data(ctx))
    if target is None:
        return []
    key, args, label = target
    for i, text in enumerate(ctx.lines):
        m = _LINE.match(text)
        if m and m.group(1) == key:
            return [(Span(Pos(i, 0), Pos(i, len(key))), args, label)]
    return []


@provides(CODE_LENS, kinds=("python", *YAML_KINDS))
def kind_lenses(ctx: RequestContext) -> list[types.CodeLens]:
    return [types.CodeLens(range=ctx.range(span), command=types.Command(title=ctx.tr(LENS_TITLE), command=RUN_COMMAND, arguments=[args]))
            for span, args, _ in kind_targets(ctx)]


@provides(CODE_ACTION, kinds=("python", *YAML_KINDS))
def kind_actions(ctx: RequestContext, span: Span, diagnostics: list[Any]) -> list[types.Command]:
    return [types.Command(title=ctx.tr(msg("Run invocation of {label}", label=label)), command=RUN_COMMAND, arguments=[args])
            for _, args, label in kind_targets(ctx)]


# -- the command ---------------------------------------------------------------------------------------


def handles(server: Any, args: dict[str, Any]) -> bool:
    """True when ``dify.runInvocation`` is for a non-tool kind (named, or the file is of such a kind)."""
    if args.get("kind"):
        return True
    if args.get("tool"):
        return False
    from dify_lsp.features.client import uri_to_path

    path = uri_to_path(args.get("uri")) if args.get("uri") else None
    plugin = server.index.plugin_for(path) if path is not None else None
    if plugin is None:
        return False
    kind = plugin.kind_of(path.resolve()) if path is not None else None
    if kind in RUN_KIND_OF_FILE:
        return True
    if kind == "python":
        owner_kinds = [plugin.kind_of(ref.owner) for ref in plugin.refs_to(path.resolve())]
        return any(k in RUN_KIND_OF_FILE for k in owner_kinds)
    from dify_lsp.invocation.kinds import plugin_kinds
    from dify_lsp.schema import references as refkinds

    has_tools = any(r.target_kind == refkinds.TOOL_PROVIDER for r in plugin.refs_from(plugin.manifest.path))
    return not has_tools and bool(plugin_kinds(plugin))


def _pairs(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(p[0]), str(p[1])) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def _error(message: str, args: dict[str, Any], error_type: str = "InvocationError") -> dict[str, Any]:
    return {"status": "error", "kind": args.get("kind"), "action": None, "target": None, "summary": None, "chunks": [],
            "transcript": [], "warnings": [], "logs": [], "error": {"type": error_type, "message": message, "traceback": None},
            "duration_ms": 0}


async def run_command(server: Any, args: dict[str, Any], cancel: asyncio.Event | None = None) -> dict[str, Any]:
    from dify_lsp.features.client import uri_to_path
    from dify_lsp.invocation.kinds import KindRun, plugin_kinds, run_kind
    from dify_lsp.invocation.parameters import InvocationError

    uri = args.get("uri")
    path = uri_to_path(uri) if uri else None
    root = server.index.root_for(path) if path is not None else None
    if root is None:
        return _error(f"no Dify plugin (manifest.yaml) found for {uri!r}", args)
    settings = server.settings.wire()
    run_settings = settings.get("run") if isinstance(settings.get("run"), dict) else {}
    kind = args.get("kind")
    if not kind:
        plugin = server.index.plugin_for(path)
        file_kind = plugin.kind_of(path.resolve()) if plugin else None
        offered = plugin_kinds(plugin) if plugin else []
        kind = RUN_KIND_OF_FILE.get(file_kind or "") or (offered[0] if len(offered) == 1 else None)
        if kind is None:
            return _error(f"say which kind to run (one of: {', '.join(offered) or 'none'})", args)
    timeout = args.get("timeout")
    run = KindRun(
        plugin_root=root, kind=str(kind),
        name={"endpoint": args.get("endpoint"), "strategy": args.get("strategy"), "model": args.get("model"),
              "datasource": args.get("datasource"), "trigger": args.get("trigger")}.get(str(kind)),
        provider=args.get("provider") or None,
        parameters=dict(args.get("parameters") or {}) if isinstance(args.get("parameters"), dict) else {},
        credentials=dict(args.get("credentials") or {}) if isinstance(args.get("credentials"), dict) else {},
        headers=_pairs(args.get("headers")),
        body=str(args.get("body") or "").encode("utf-8"),
        prompt=args.get("prompt"), action=args.get("action"), request_line=args.get("request"),
        subscription=dict(args.get("subscription") or {}) if isinstance(args.get("subscription"), dict) else {},
        agent_tools=[str(t) for t in args.get("agentTools") or []],
        tool_plugins=[Path(p) for p in [*(args.get("toolPlugins") or [])]],
        backend=args.get("backend") or None, settings=run_settings,
        timeout=float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None,
        configured_python=settings.get("python") or None,
    )
    token = f"dify-run-{uuid.uuid4().hex}"
    progress_on = False
    if server.client.work_done_progress:
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), 5)
            progress_on = True
        except Exception:  # the client refused or does not answer: run without a progress bar
            progress_on = False
    cancel = cancel or asyncio.Event()
    loop = asyncio.get_running_loop()
    if progress_on:
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=tr(msg("Run invocation: {target}", target=f"{kind} {run.name or ''}".rstrip()), getattr(server, "language", ENGLISH)),
            cancellable=True, message="starting"))
        future = server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: loop.call_soon_threadsafe(cancel.set) if f.cancelled() else None)

    def progress(what: str, text: str) -> None:
        if what in ("environment", "status", "invoke", "warning") and progress_on:
            server.work_done_progress.report(token, types.WorkDoneProgressReport(message=text[:200]))
        if what == "text":
            return
        level = types.MessageType.Warning if what == "warning" else types.MessageType.Log
        server.window_log_message(types.LogMessageParams(type=level, message=f"[run {kind}] {what}: {text}"))

    status = "error"
    try:
        result = await run_kind(run, progress, cancel)
        status = result.status
        return result.to_json()
    except InvocationError as exc:
        return _error(str(exc), args)
    except Exception as exc:  # a bug in the engine must answer, not hang the command
        log.exception("run invocation failed")
        return _error(f"{type(exc).__name__}: {exc}", args, "InternalError")
    finally:
        if progress_on:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=status))


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (kind_lenses, kind_actions)

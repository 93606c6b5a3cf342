"""Run invocation from the editor for the kinds that are not tools: endpoints, agent strategies, models,
datasources and triggers.

- A code lens "▶ Run invocation" (and the same code action) on an endpoint YAML's ``path`` line, on the
  ``identity`` line of an agent strategy, datasource, trigger provider or trigger event YAML, on a model YAML's
  ``model`` line, and on the plugin class of the Python file such a YAML names.
- ``dify.runInvocation`` (:mod:`dify_lsp.features.run_invocation`) runs them: the lens's arguments name the kind
  and the target.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from lsprotocol import types

from dify_lsp.features import CODE_ACTION, CODE_LENS, RequestContext, provides
from dify_lsp.i18n import N_, msg
from dify_lsp.sdk.catalog import YAML_KIND_BASES
from dify_lsp.sdk.classes import SDK_CLASSES
from dify_lsp.textpos import Pos, Span

RUN_COMMAND = "dify.runInvocation"
LENS_TITLE = N_("▶ Run invocation")
YAML_KINDS = ("endpoint", "agent_strategy", "model", "datasource", "trigger_provider", "trigger_event")
RUN_KIND_OF_FILE = {"endpoint": "endpoint", "endpoint_group": "endpoint", "agent_strategy": "strategy",
                    "agent_provider": "strategy", "model": "model", "model_provider": "model",
                    "datasource": "datasource", "datasource_provider": "datasource",
                    "trigger_provider": "trigger", "trigger_event": "trigger"}
_LINE = re.compile(r"^(identity|path|model)\s*:\s*['\"]?([^'\"#]*)")


def _yaml_data(ctx: RequestContext) -> dict[str, Any]:
    from dify_lsp.invocation.parameters import yaml_data

    if ctx.plugin is None:
        return {}
    data = yaml_data(ctx.plugin.yaml_files.get(ctx.path.resolve()) or ctx.plugin.yaml_files.get(ctx.path))
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


def _run_kind_of_class(bases: list[str], owner_kinds: list[str | None]) -> str | None:
    """The run kind of a class whose bases are ``bases``, when it is the class a runnable YAML naming this file
    needs (the SDK's loader looks for a subclass of that YAML kind's plugin base)."""
    plugin_bases = {kind for b in bases if (cls := SDK_CLASSES.get(b)) for kind in cls.kinds}
    for okind in owner_kinds:
        if okind in YAML_KINDS and plugin_bases.intersection(YAML_KIND_BASES.get(okind, ())):
            return RUN_KIND_OF_FILE[okind]
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
        kind = _run_kind_of_class(bases, owner_kinds)
        if kind is None:
            continue
        from dify_lsp.invocation.parameters import yaml_data

        args: dict[str, Any] = {"uri": ctx.uri, "kind": kind}
        for owner, okind in zip(owners, owner_kinds):
            data = yaml_data(ctx.plugin.yaml_files.get(owner))
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
    from dify_lsp.features.run_invocation import lenses

    return lenses(ctx, kind_targets(ctx))


@provides(CODE_ACTION, kinds=("python", *YAML_KINDS))
def kind_actions(ctx: RequestContext, span: Span, diagnostics: list[Any]) -> list[types.Command]:
    return [types.Command(title=ctx.tr(msg("Run invocation of {label}", label=label)), command=RUN_COMMAND, arguments=[args])
            for _, args, label in kind_targets(ctx)]


PROVIDERS = (kind_lenses, kind_actions)

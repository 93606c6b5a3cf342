"""A trigger plugin's events against its provider (DL407).

A trigger's `_dispatch_event` returns `EventDispatch(events=[...])`: the names of the events to
run.  Dify runs each by its `identity.name`; a name no event YAML of the provider declares
runs nothing.
"""

from __future__ import annotations

import ast
from typing import Iterator

from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import lookup
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.schema.references import PYTHON, TRIGGER_EVENT, TRIGGER_PROVIDER
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YScalar

FAMILY = "schema"

UNKNOWN_EVENT = define_rule("DL407", "unknown-dispatched-event", "A trigger's Python code dispatches an event name (`EventDispatch(events=[...])`) that none of the trigger provider's event YAMLs declares: no event runs for it.", Severity.ERROR, FAMILY)


def _listed_names(expr: ast.AST, assigned: dict[str, list[ast.AST]]) -> list[ast.Constant]:
    """String constants that are items of lists / tuples / sets in ``expr`` (following local names once)."""
    out: list[ast.Constant] = []
    todo = [expr]
    followed: set[str] = set()
    while todo:
        node = todo.pop()
        for sub in ast.walk(node):
            if isinstance(sub, (ast.List, ast.Tuple, ast.Set)):
                out += [e for e in sub.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            elif isinstance(sub, ast.Name) and sub.id not in followed and sub.id in assigned:
                followed.add(sub.id)
                todo += assigned[sub.id]
    return out


def dispatched_names(text: str) -> list[ast.Constant] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    out: list[ast.Constant] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "EventDispatch":
                for kw in node.keywords:
                    if kw.arg == "events":
                        out += _listed_names(kw.value, assigned)
    return out


@check(UNKNOWN_EVENT)
def dispatched_events_exist(ctx: CheckContext) -> Iterator[Finding]:
    for provider in ctx.plugin.yaml_of_kind(TRIGGER_PROVIDER):
        refs = ctx.plugin.refs_from(provider.path)
        events = [ctx.plugin.yaml_files.get(r.target) for r in refs if r.target_kind == TRIGGER_EVENT and r.target is not None]
        if not events or any(e is None or ctx.read.root(e) is None for e in events):
            continue  # a missing or broken event file is reported as such
        names: list[str] = []
        for event in events:
            node, _ = lookup(ctx.read.root(event), ("identity", "name"))  # type: ignore[arg-type]  # none is None (above)
            if not (isinstance(node, YScalar) and isinstance(node.value, str)):
                break
            names.append(node.value)
        else:
            for ref in refs:
                if ref.target_kind != PYTHON or ref.key != ("extra", "python", "source") or ref.target is None:
                    continue
                source = ctx.plugin.python_files.get(ref.target)
                if source is None or ctx.read.text(source) is None:
                    continue
                for const in dispatched_names(ctx.read.text(source)) or []:
                    if const.value in names:
                        continue
                    options = suggest(const.value, names)
                    line = const.lineno - 1
                    span = Span(Pos(line, const.col_offset), Pos((const.end_lineno or const.lineno) - 1, const.end_col_offset or const.col_offset))
                    yield UNKNOWN_EVENT.at(
                        ref.target,
                        span,
                        msg("no event named '{value}'{did_you_mean}: the provider's events are {names}; Dify runs no event for this name", value=const.value, did_you_mean=did_you_mean(options), names=Listing(names)),
                        related=[Related(provider.path, ctx.read.span(ref), msg("the trigger provider"))],
                        suggestions=options,
                    )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNKNOWN_EVENT,)
CHECKS = (dispatched_events_exist,)

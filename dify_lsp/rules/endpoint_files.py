"""An endpoint plugin's endpoints against each other (DL406).

The SDK adds every endpoint to one werkzeug routing Map (PluginRegistration._resolve_endpoints);
a second rule with the same path and method is never matched: the first one answers.
"""

from __future__ import annotations

from typing import Iterator

from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.i18n import msg
from dify_lsp.index import lookup
from dify_lsp.rules import CheckContext, check, define_rule
from dify_lsp.schema.references import ENDPOINT, ENDPOINT_GROUP
from dify_lsp.textpos import Span
from dify_lsp.yamlpos import YMap, YScalar, YSeq

FAMILY = "schema"

DUPLICATE_ROUTE = define_rule("DL406", "duplicate-endpoint", "Two endpoints (endpoint YAMLs, or endpoints written inline in an endpoint group YAML) share a path and method: the SDK routes every request to the first, so the second never runs.", Severity.WARNING, FAMILY)


def _route(node: YMap) -> tuple[str, str, Span] | None:
    path, method = node.get("path"), node.get("method")
    if isinstance(path, YScalar) and isinstance(path.value, str) and isinstance(method, YScalar) and isinstance(method.value, str):
        return path.value.strip(), method.value.strip().upper(), path.span
    return None


@check(DUPLICATE_ROUTE)
def endpoint_routes_are_unique(ctx: CheckContext) -> Iterator[Finding]:
    seen: dict[tuple[str, str], tuple[object, Span]] = {}
    # In load order: each group's `endpoints` list, files and inline mappings alike.
    for group in ctx.plugin.yaml_of_kind(ENDPOINT_GROUP):
        items, _ = lookup(ctx.read.root(group), ("endpoints",))
        if not isinstance(items, YSeq):
            continue
        for item in items.items:
            if isinstance(item, YMap):
                owner, node = group.path, item
            elif isinstance(item, YScalar):
                ref = next((r for r in ctx.plugin.refs_from(group.path) if ctx.read.span(r) == item.span and r.target_kind == ENDPOINT), None)
                yf = ctx.plugin.yaml_files.get(ref.target) if ref is not None and ref.target is not None else None
                if yf is None or ctx.read.root(yf) is None:
                    continue
                owner, node = yf.path, ctx.read.root(yf)
            else:
                continue
            route = _route(node)
            if route is None:
                continue
            path, method, span = route
            first = seen.get((path, method))
            if first is None:
                seen[(path, method)] = (owner, span)
                continue
            yield DUPLICATE_ROUTE.at(
                owner,
                span,
                msg("{method} {path} is already routed to an earlier endpoint: the SDK sends every such request there, so this one never runs", method=method, path=path),
                related=[Related(first[0], first[1], msg("the endpoint that answers"))],
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (DUPLICATE_ROUTE,)
CHECKS = (endpoint_routes_are_unique,)

"""Outline of plugin YAML files: plugin, providers, tools, parameters, credentials."""

from __future__ import annotations

from lsprotocol import types

from dify_lsp.features import DOCUMENT_SYMBOL, RequestContext, provides
from dify_lsp.i18n import N_, pick_translated
from dify_lsp.index import lookup
from dify_lsp.schema.references import KIND_TITLES, MANIFEST, YAML_KINDS
from dify_lsp.textpos import Span
from dify_lsp.yamlpos import YMap, YNode, YPair, YScalar, YSeq

K = types.SymbolKind

# Which lists of named mappings become children, per file kind: (key, symbol kind, detail key).
NAMED_LISTS = {
    "parameters": (K.Field, "type"),
    "settings": (K.Field, "type"),
    "credentials_schema": (K.Key, "type"),
    "subscription_schema": (K.Key, "type"),
    "parameter_rules": (K.Field, "type"),
}
NAMED_MAPS = {"credentials_for_provider": (K.Key, "type")}
PATH_LISTS = ("tools", "strategies", "endpoints", "datasources", "events")


def _text(node: YNode | None) -> str | None:
    return node.raw if isinstance(node, YScalar) and node.raw else None


def _label(ctx: RequestContext, node: YNode | None) -> str | None:
    """The plugin's own translated label (``{en_US: ..., zh_Hans: ...}``) in the user's language."""
    if isinstance(node, YMap):
        return pick_translated({p.key_text: p.value.raw for p in node.pairs if p.key_text and isinstance(p.value, YScalar)}, ctx.language)
    return _text(node)


def _detail(*parts: str | None) -> str | None:
    return " · ".join(p for p in parts if p) or None


def _whole(pair: YPair) -> Span:
    return Span(pair.key.span.start, max(pair.value.span.end, pair.key.span.end))


def _sym(ctx: RequestContext, name: str, kind: K, rng: Span, sel: Span, detail: str | None = None, children=None) -> types.DocumentSymbol:
    if not (rng.start <= sel.start and sel.end <= rng.end):
        rng = Span(min(rng.start, sel.start), max(rng.end, sel.end))
    return types.DocumentSymbol(
        name=name or "?",
        kind=kind,
        range=ctx.range(rng),
        selection_range=ctx.range(sel),
        detail=detail,
        children=children or None,
    )


def _named_items(ctx: RequestContext, seq: YSeq, kind: K, detail_key: str) -> list[types.DocumentSymbol]:
    out = []
    for item in seq.items:
        if not isinstance(item, YMap):
            continue
        name = item.get("name")
        sel = name.span if isinstance(name, YScalar) else item.span
        detail = _detail(_text(item.get(detail_key)), _label(ctx, item.get("label")))
        out.append(_sym(ctx, _text(name) or ctx.tr(N_("(unnamed)")), kind, item.span, sel, detail))
    return out


def _children(ctx: RequestContext, root: YMap) -> list[types.DocumentSymbol]:
    out: list[types.DocumentSymbol] = []
    for pair in root.pairs:
        key = pair.key_text
        if key is None:
            continue
        value = pair.value
        kids: list[types.DocumentSymbol] = []
        kind = K.Property
        if key in NAMED_LISTS and isinstance(value, YSeq):
            sk, dk = NAMED_LISTS[key]
            kids = _named_items(ctx, value, sk, dk)
            kind = K.Array
        elif key in NAMED_MAPS and isinstance(value, YMap):
            sk, dk = NAMED_MAPS[key]
            kids = [
                _sym(ctx, p.key_text or "?", sk, _whole(p), p.key.span, _text(p.value.get(dk)) if isinstance(p.value, YMap) else None)
                for p in value.pairs
            ]
            kind = K.Object
        elif key in PATH_LISTS and isinstance(value, YSeq):
            kids = [_sym(ctx, i.raw, K.File, i.span, i.span) for i in value.items if isinstance(i, YScalar) and i.raw]
            kind = K.Array
        elif key == "plugins" and isinstance(value, YMap):
            for p in value.pairs:
                files = [_sym(ctx, i.raw, K.File, i.span, i.span) for i in p.value.items if isinstance(i, YScalar) and i.raw] if isinstance(p.value, YSeq) else []
                kids.append(_sym(ctx, p.key_text or "?", K.Package, _whole(p), p.key.span, children=files))
            kind = K.Namespace
        elif key == "identity":
            kind = K.Constant
        elif isinstance(value, YMap):
            kind = K.Object
        detail = _text(value) if isinstance(value, YScalar) else None
        out.append(_sym(ctx, key, kind, _whole(pair), pair.key.span, detail, kids))
    return out


@provides(DOCUMENT_SYMBOL, kinds=YAML_KINDS)
def yaml_symbols(ctx: RequestContext) -> list[types.DocumentSymbol]:
    doc = ctx.index.parse_yaml_text(ctx.path, ctx.text)
    root = doc.root
    if not isinstance(root, YMap) or not root.pairs:
        return []
    if ctx.kind == MANIFEST:
        name_node = root.get("name")
    else:
        name_node, _ = lookup(root, ("identity", "name"))
        if name_node is None:
            name_node = root.get("provider") or root.get("path") or root.get("model")
    title = ctx.tr(KIND_TITLES.get(ctx.kind or "", N_("file")))
    name = _text(name_node) or title
    label_node = root.get("label")
    if label_node is None:
        label_node, _ = lookup(root, ("identity", "label"))
    label = _label(ctx, label_node)
    title = _detail(title, label if label != name else None) or title
    sel = name_node.span if isinstance(name_node, YScalar) else root.pairs[0].key.span
    kind = {MANIFEST: K.Package}.get(ctx.kind or "", K.Class if ctx.kind in ("tool", "agent_strategy", "endpoint") else K.Module)
    return [_sym(ctx, name, kind, root.span, sel, title, _children(ctx, root))]


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (yaml_symbols,)

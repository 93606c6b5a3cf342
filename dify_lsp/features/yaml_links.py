"""Links and go-to-definition between plugin files.

- Every path named in a plugin YAML (providers, tools, Python sources,
  icons) is a document link and a definition.
- From a YAML's ``extra.python.source`` or its ``identity.name``, definition
  jumps to the implementing class in the Python file.
- From that class's name in Python, definition jumps back to the YAML.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lsprotocol import types

from dify_lsp.features import DEFINITION, DOCUMENT_LINK, RequestContext, provides
from dify_lsp.index import CONTENTS, Plugin, PathRef, YamlFile, lookup, norm
from dify_lsp.schema.model_provider import MODEL_CLASS_BASES
from dify_lsp.i18n import Message, msg
from dify_lsp.schema.references import KIND_TITLES, MODEL, MODEL_POSITION, PYTHON, YAML_KINDS
from dify_lsp.sdk.catalog import YAML_KIND_BASES
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YScalar, YSeq



def _class_nodes(text: str) -> list[ast.ClassDef]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [n for n in tree.body if isinstance(n, ast.ClassDef)]


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for b in node.bases:
        if isinstance(b, ast.Name):
            names.add(b.id)
        elif isinstance(b, ast.Attribute):
            names.add(b.attr)
    return names


def implementing_class(text: str, yaml_kind: str) -> ast.ClassDef | None:
    """The class the SDK would load for a YAML of ``yaml_kind`` (first subclass of its base)."""
    classes = _class_nodes(text)
    bases = set(YAML_KIND_BASES.get(yaml_kind, ()))
    for node in classes:
        if _base_names(node) & bases:
            return node
    return classes[0] if len(classes) == 1 else None


def class_name_span(text: str, node: ast.ClassDef) -> Span:
    line = text.split("\n")[node.lineno - 1]
    col = line.find(node.name, node.col_offset)
    col = col if col >= 0 else node.col_offset
    return Span(Pos(node.lineno - 1, col), Pos(node.lineno - 1, col + len(node.name)))


def _python_text(ctx: RequestContext, path: Path) -> str | None:
    return ctx.index.source.read(path).text


def _ref_at(plugin: Plugin, path: Path, pos: Pos) -> PathRef | None:
    for ref in plugin.refs_from(path):
        if CONTENTS.span(ref).contains(pos):
            return ref
    return None


def _python_source_ref(plugin: Plugin, yaml_path: Path) -> PathRef | None:
    for ref in plugin.refs_from(yaml_path):
        if ref.target_kind == PYTHON and ref.key[-1] == "source" and ref.target is not None and ref.exists:
            return ref
    return None


def _tooltip_support(ctx: RequestContext) -> bool:
    return ctx.client.link_tooltips


@provides(DOCUMENT_LINK, kinds=YAML_KINDS)
def yaml_document_links(ctx: RequestContext) -> list[types.DocumentLink]:
    if ctx.plugin is None:
        return []
    out = []
    tooltips = _tooltip_support(ctx)
    for ref in ctx.plugin.refs_from(ctx.path):
        if ref.target is None or ref.escapes or not ref.exists:
            continue
        title = KIND_TITLES.get(ref.target_kind)
        path = ctx.plugin.relative(ref.target)
        tip = (ctx.tr(msg("Open {what} {path}", what=Message(title), path=path)) if title else ctx.tr(msg("Open {path}", path=path))) if tooltips else None
        out.append(types.DocumentLink(range=ctx.range(ctx.read.span(ref)), target=ref.target.as_uri(), tooltip=tip))
    out += _model_links(ctx, tooltips)
    return out


def _model_names(plugin: Plugin, files: list[Path]) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in files:
        yf = plugin.yaml_files.get(path)
        node, _ = lookup(CONTENTS.root(yf) if yf is not None and yf.kind == MODEL else None, ("model",))
        if isinstance(node, YScalar) and isinstance(node.value, str):
            names.setdefault(node.value, path)
    return names


def _model_links(ctx: RequestContext, tooltips: bool) -> list[types.DocumentLink]:
    """A model glob matching one file links to it; each name in a _position.yaml links to its model YAML."""
    plugin, here = ctx.plugin, norm(ctx.path)
    out = []
    for glob in plugin.model_globs:
        if glob.owner == here and len(glob.matches) == 1:
            tip = ctx.tr(msg("Open {path}", path=plugin.relative(glob.matches[0]))) if tooltips else None
            out.append(types.DocumentLink(range=ctx.range(glob.span), target=glob.matches[0].as_uri(), tooltip=tip))
    yf = plugin.yaml_files.get(here)
    doc = ctx.read.doc(yf) if yf is not None and yf.kind == MODEL_POSITION else None
    if doc is not None and isinstance(doc.root, YSeq):
        siblings = [m for g in plugin.model_globs if here in g.matches for m in g.matches]
        names = _model_names(plugin, siblings)
        for item in doc.root.items:
            target = names.get(item.value) if isinstance(item, YScalar) and isinstance(item.value, str) else None
            if target is not None:
                tip = ctx.tr(msg("Open model {name}", name=item.value)) if tooltips else None
                out.append(types.DocumentLink(range=ctx.range(item.span), target=target.as_uri(), tooltip=tip))
    return out


def _class_location(ctx: RequestContext, py_path: Path, yaml_kind: str, bases: tuple[str, ...] | None = None) -> types.Location | None:
    text = _python_text(ctx, py_path)
    if text is None:
        return None
    if bases is not None:  # a model class: the subclass of the model type's base
        node = next((c for c in _class_nodes(text) if _base_names(c) & set(bases)), None)
    else:
        node = implementing_class(text, yaml_kind)
    if node is None:
        return None
    return types.Location(uri=py_path.as_uri(), range=ctx.range(class_name_span(text, node), py_path))


def _model_class_locations(ctx: RequestContext, plugin: Plugin, model_yaml: Path, model_type: str) -> list[types.Location]:
    """A model YAML -> the class serving its model type in the provider's model sources."""
    base = MODEL_CLASS_BASES.get(model_type)
    if base is None:
        return []
    providers = {g.owner for g in plugin.model_globs if model_yaml in g.matches}
    out = []
    for provider in providers:
        for ref in plugin.refs_from(provider):
            if ref.key == ("extra", "python", "model_sources") and ref.target is not None and ref.exists:
                loc = _class_location(ctx, ref.target, MODEL, (base,))
                if loc is not None:
                    out.append(loc)
    return out


@provides(DEFINITION, kinds=YAML_KINDS)
def yaml_definition(ctx: RequestContext, pos: Pos) -> list[types.Location]:
    plugin = ctx.plugin
    if plugin is None:
        return []
    ref = _ref_at(plugin, ctx.path, pos)
    if ref is not None:
        if ref.target is None or ref.escapes or not ref.exists:
            return []
        if ref.target_kind == PYTHON and ctx.kind is not None:
            bases = tuple(MODEL_CLASS_BASES.values()) if ref.key == ("extra", "python", "model_sources") else None
            loc = _class_location(ctx, ref.target, ctx.kind, bases)
            if loc is not None:
                return [loc]
        return [types.Location(uri=ref.target.as_uri(), range=ctx.range(Span(Pos(0, 0), Pos(0, 0)), ref.target))]
    # identity.name -> the implementing class.
    yf = plugin.yaml_files.get(norm(ctx.path))
    if yf is None or ctx.read.root(yf) is None or ctx.kind is None:
        return []
    if ctx.kind == MODEL:  # `model:` or `model_type:` -> the model class of that type
        for key in ("model", "model_type"):
            node = ctx.read.root(yf).get(key)
            if isinstance(node, YScalar) and node.span.contains(pos):
                mtype = ctx.read.root(yf).get("model_type")
                return _model_class_locations(ctx, plugin, yf.path, mtype.value if isinstance(mtype, YScalar) else "")
        return []
    name_node, _ = lookup(ctx.read.root(yf), ("identity", "name"))
    if isinstance(name_node, YScalar) and name_node.span.contains(pos):
        src = _python_source_ref(plugin, ctx.path)
        if src is not None and src.target is not None:
            loc = _class_location(ctx, src.target, ctx.kind)
            return [loc] if loc else []
    return []


def _yaml_anchor(yf: YamlFile) -> Span:
    root = CONTENTS.root(yf)
    if root is not None:
        ident = root.pair("identity")
        if ident is not None:
            name, _ = lookup(root, ("identity", "name"))
            return name.span if isinstance(name, YScalar) else ident.key.span
        if root.pairs:
            return root.pairs[0].key.span
    return Span(Pos(0, 0), Pos(0, 0))


@provides(DEFINITION, kinds=(PYTHON,))
def python_class_to_yaml(ctx: RequestContext, pos: Pos) -> list[types.Location]:
    """From the class name of a Tool (or provider, strategy, endpoint) back to the YAML that names its file."""
    plugin = ctx.plugin
    if plugin is None:
        return []
    refs = [r for r in plugin.refs_to(ctx.path) if r.target_kind == PYTHON and r.key[-1] in ("source", "provider_source", "model_sources")]
    if not refs:
        return []
    classes = _class_nodes(ctx.text)
    hit = None
    for node in classes:
        span = class_name_span(ctx.text, node)
        if span.contains(pos):
            hit = node
            break
    if hit is None:
        return []
    out = []
    for ref in refs:
        yf = plugin.yaml_files.get(ref.owner)
        if yf is None:
            continue
        if ref.key[-1] == "model_sources":  # a model class -> the provider that lists its file
            if not _base_names(hit) & set(MODEL_CLASS_BASES.values()):
                continue
            anchor = next((ctx.read.span(r) for r in plugin.refs_from(yf.path) if r.target == norm(ctx.path) and r.key == ref.key), _yaml_anchor(yf))
            out.append(types.Location(uri=yf.path.as_uri(), range=ctx.range(anchor, yf.path)))
            continue
        chosen = implementing_class(ctx.text, yf.kind)
        if chosen is None or chosen.name != hit.name:
            continue
        out.append(types.Location(uri=yf.path.as_uri(), range=ctx.range(_yaml_anchor(yf), yf.path)))
    return out


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (yaml_document_links, yaml_definition, python_class_to_yaml)

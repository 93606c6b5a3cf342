"""Completion in plugin YAML files: keys, enum values, scopes and file paths.

Works on half-typed YAML: the key path comes from indentation
(:mod:`dify_lsp.schema.cursor`), never from a successful parse.
"""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types

from dify_lsp.features import COMPLETION, RequestContext, provides
from dify_lsp.index import SKIP_DIRS
from dify_lsp.schema import plugin_files as pf
from dify_lsp.schema.cursor import Cursor, cursor_at
from dify_lsp.i18n import ENGLISH, N_, Listing, msg, tr
from dify_lsp.schema.model import BOOLEAN, Field, ListOf, MapOf, Scalar, SchemaType, object_options, type_title_message
from dify_lsp.schema.references import ICON, ICON_FOLDER, MANIFEST, PYTHON, YAML_KINDS
from dify_lsp.textpos import Pos, Span

MAX_PATHS = 500


def type_title_in(t: SchemaType, language: str = ENGLISH) -> str:
    """The type's title (:func:`type_title_message`) in ``language``."""
    return tr(type_title_message(t), language)


def field_detail(fld: Field, language: str = ENGLISH) -> str:
    """The completion detail of a key: required or optional, and its type."""
    need = tr(N_("required") if fld.required else N_("optional"), language)
    return f"{need} · {type_title_in(fld.type, language)}"


def field_markdown(fld: Field, language: str = ENGLISH) -> str:
    def _(text: str) -> str:
        return tr(text, language)

    need = _(N_("required") if fld.required else N_("optional"))
    parts = [f"**`{fld.name}`** ({need}, {type_title_in(fld.type, language)})", "", _(fld.doc)]
    if fld.enum:
        parts += ["", _(N_("Allowed values:"))] + [f"- `{v}`: {_(d)}" for v, d in fld.enum.items()]
    if fld.pattern_doc:
        parts += ["", _(msg("Format: {format}", format=_(fld.pattern_doc)))]
    if fld.minimum is not None and fld.maximum is not None:
        parts += ["", _(msg("Range: {low} to {high}", low=f"{fld.minimum:g}", high=f"{fld.maximum:g}"))]
    if fld.max_length:
        parts += ["", _(msg("At most {count} characters.", count=fld.max_length))]
    if fld.since:
        parts += ["", _(msg("Since SDK {version}.", version=fld.since))]
    if fld.renamed_values:
        renamed = Listing(f"`{o}` -> `{n}` (SDK {fld.removed_in.get(o, pf.SDK_VERSION)})" for o, n in fld.renamed_values.items())
        parts += ["", _(msg("Renamed: {values}", values=renamed))]
    if fld.ignored:
        parts += ["", _(N_("Accepted, but the SDK's loader does not read it."))]
    return "\n".join(p for p in parts if p is not None)


def _skeleton(fld: Field, indent: int, counter: list[int]) -> str:
    """A snippet for a key and its required children."""

    def tab(default: str = "") -> str:
        counter[0] += 1
        return f"${{{counter[0]}:{default}}}" if default else f"${counter[0]}"

    pad = " " * indent
    t = fld.type
    if isinstance(t, Scalar):
        if fld.enum and not fld.suggest_only:
            choices = ",".join(v.replace(",", "\\,").replace("|", "\\|") for v in fld.offered_values)
            counter[0] += 1
            return f"{fld.name}: ${{{counter[0]}|{choices}|}}"
        if t.kind == BOOLEAN:
            counter[0] += 1
            return f"{fld.name}: ${{{counter[0]}|true,false|}}"
        return f"{fld.name}: {tab()}"
    objs = object_options(t.item if isinstance(t, ListOf) else t)
    if isinstance(t, ListOf) and not objs:
        return f"{fld.name}:\n{pad}  - {tab()}"
    if isinstance(t, MapOf):
        return f"{fld.name}:\n{pad}  {tab('name')}:\n{pad}    {tab()}"
    if not objs:
        return f"{fld.name}:\n{pad}  {tab()}"
    obj = objs[0]
    required = [f for f in obj.fields if f.required]
    if not required:
        return f"{fld.name}:\n{pad}  {tab()}"
    if isinstance(t, ListOf):
        lines = []
        for i, child in enumerate(required):
            body = _skeleton(child, indent + 4, counter)
            lines.append(f"{pad}  {'- ' if i == 0 else '  '}{body}")
        return f"{fld.name}:\n" + "\n".join(lines)
    return f"{fld.name}:\n" + "\n".join(f"{pad}  {_skeleton(c, indent + 2, counter)}" for c in required)


def _edit_range(ctx: RequestContext, pos: Pos, cur: Cursor) -> types.Range:
    return ctx.range(Span(Pos(pos.line, cur.prefix_col), pos))


def key_items(ctx: RequestContext, pos: Pos, cur: Cursor, t: SchemaType | None) -> list[types.CompletionItem]:
    items: list[types.CompletionItem] = []
    rng = _edit_range(ctx, pos, cur)
    seen: set[str] = set()
    for obj in object_options(t):
        for order, fld in enumerate(sorted(obj.fields, key=lambda f: (not f.required, f.ignored))):
            if fld.name in cur.siblings or fld.name in seen:
                continue
            seen.add(fld.name)
            if ctx.snippets:
                text = _skeleton(fld, cur.indent, [0])
                fmt = types.InsertTextFormat.Snippet
            else:
                text = f"{fld.name}: " if isinstance(fld.type, Scalar) else f"{fld.name}:"
                fmt = types.InsertTextFormat.PlainText
            items.append(
                types.CompletionItem(
                    label=fld.name,
                    kind=types.CompletionItemKind.Property,
                    detail=field_detail(fld, ctx.language),
                    documentation=ctx.markup(field_markdown(fld, ctx.language)),
                    sort_text=f"{0 if fld.required else 1}{order:03d}{fld.name}",
                    filter_text=fld.name,
                    text_edit=types.TextEdit(range=rng, new_text=text),
                    insert_text_format=fmt,
                    tags=None,
                )
            )
    return items


def value_items(ctx: RequestContext, pos: Pos, cur: Cursor, fld: Field | None, siblings: dict[str, str]) -> list[types.CompletionItem]:
    if fld is None:
        return []
    rng = _edit_range(ctx, pos, cur)
    if fld.name == "scope":
        return scope_items(ctx, pos, cur, siblings.get("type", ""))
    if fld.enum:
        return [
            types.CompletionItem(
                label=v,
                kind=types.CompletionItemKind.EnumMember,
                detail=fld.name,
                documentation=ctx.markup(ctx.tr(d)),
                sort_text=f"{i:03d}",
                text_edit=types.TextEdit(range=rng, new_text=v),
            )
            for i, (v, d) in enumerate(fld.offered_values.items())
        ]
    if isinstance(fld.type, Scalar) and fld.type.kind == BOOLEAN:
        return [types.CompletionItem(label=v, kind=types.CompletionItemKind.Value, text_edit=types.TextEdit(range=rng, new_text=v)) for v in ("true", "false")]
    if fld.path_kind:
        return path_items(ctx, pos, cur, fld.path_kind)
    return []


def scope_items(ctx: RequestContext, pos: Pos, cur: Cursor, ptype: str) -> list[types.CompletionItem]:
    scopes = pf.SCOPES.get(ptype.strip().strip("\"'"))
    if not scopes:
        return []
    done = cur.prefix.rsplit("&", 1)[0] + "&" if "&" in cur.prefix else ""
    start = cur.prefix_col + len(done)
    rng = ctx.range(Span(Pos(pos.line, start), pos))
    taken = {p.strip() for p in done.split("&")}
    return [
        types.CompletionItem(
            label=s,
            kind=types.CompletionItemKind.EnumMember,
            detail=ctx.tr(msg("{type} scope", type=ptype)),
            documentation=ctx.markup(ctx.tr(msg("`{scope}`: {meaning}. Join several with `&`, e.g. `tool-call&llm`.", scope=s, meaning=ctx.tr(doc)))),
            sort_text=f"{i:03d}",
            text_edit=types.TextEdit(range=rng, new_text=s),
        )
        for i, (s, doc) in enumerate(scopes.items())
        if s not in taken
    ]


def _plugin_root(ctx: RequestContext) -> Path | None:
    if ctx.plugin is not None:
        return ctx.plugin.root
    return ctx.index.root_for(ctx.path)


def candidate_paths(root: Path, kind: str) -> list[str]:
    if kind == ICON:
        folder = root / ICON_FOLDER
        try:
            return sorted(e.name for e in os.scandir(folder) if e.is_file())[:MAX_PATHS]
        except OSError:
            return []
    suffixes = (".py",) if kind == PYTHON else (".yaml", ".yml")
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".") and d != ICON_FOLDER)
        rel_dir = Path(dirpath).relative_to(root)
        if len(rel_dir.parts) > 4:
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            if name.endswith(suffixes) and not (kind != MANIFEST and rel_dir == Path(".") and name == "manifest.yaml"):
                out.append((rel_dir / name).as_posix())
                if len(out) >= MAX_PATHS:
                    return out
    return out


def path_items(ctx: RequestContext, pos: Pos, cur: Cursor, kind: str) -> list[types.CompletionItem]:
    root = _plugin_root(ctx)
    if root is None:
        return []
    rng = _edit_range(ctx, pos, cur)
    here = ctx.plugin.relative(ctx.path) if ctx.plugin else ""
    return [
        types.CompletionItem(
            label=p,
            kind=types.CompletionItemKind.File,
            detail=f"{ICON_FOLDER}/{p}" if kind == ICON else None,
            text_edit=types.TextEdit(range=rng, new_text=p),
        )
        for p in candidate_paths(root, kind)
        if p != here
    ]


@provides(COMPLETION, kinds=YAML_KINDS)
def yaml_completion(ctx: RequestContext, pos: Pos) -> list[types.CompletionItem]:
    lines = ctx.lines
    if pos.line >= len(lines):
        return []
    line_text = lines[pos.line][: pos.col]
    if "#" in line_text and line_text.lstrip().startswith("#"):
        return []
    cur = cursor_at(lines, pos.line, pos.col, ctx.index.caches)
    t, fld = pf.resolve(ctx.kind, cur.path)
    if cur.in_key:
        if isinstance(t, Scalar) or (t is not None and not object_options(t) and cur.list_item):
            # A scalar list item (`- utilities` under tags, `- tools/a.yaml` under tools).
            return value_items(ctx, pos, cur, fld, cur.siblings)
        return key_items(ctx, pos, cur, t)
    assert cur.key is not None
    vt, vfld = pf.resolve(ctx.kind, [*cur.path, cur.key])
    return value_items(ctx, pos, cur, vfld, cur.siblings)


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (yaml_completion,)

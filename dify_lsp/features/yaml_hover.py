"""Hover in plugin YAML files: what a key means, and what an enum value or scope means."""

from __future__ import annotations

from lsprotocol import types

from dify_lsp.features import HOVER, RequestContext, provides
from dify_lsp.features.yaml_completion import field_markdown
from dify_lsp.i18n import ENGLISH, Listing, msg, tr
from dify_lsp.schema import plugin_files as pf
from dify_lsp.schema.cursor import cursor_at, word_at
from dify_lsp.schema.model import Field
from dify_lsp.schema.references import KIND_TITLES, YAML_KINDS
from dify_lsp.textpos import Pos, Span


def value_markdown(fld: Field, value: str, siblings: dict[str, str], language: str = ENGLISH) -> str | None:
    def _(text: str) -> str:
        return tr(text, language)

    if fld.name == "scope":
        ptype = siblings.get("type", "").strip("\"'")
        scopes = pf.SCOPES.get(ptype)
        if not scopes:
            return None
        parts = []
        for part in value.split("&"):
            part = part.strip()
            if part in scopes:
                parts.append(f"- `{part}`: {_(scopes[part])}")
            else:
                parts.append(f"- `{part}`: " + _(msg("not a {type} scope", type=ptype)))
        return (
            _(msg("**scope** of a `{type}`", type=ptype)) + "\n\n" + "\n".join(parts) + "\n\n"
            + _(msg("Valid: {scopes}; join several with `&`.", scopes=Listing(scopes)))
        )
    if fld.enum and value in fld.enum:
        others = Listing(f"`{v}`" for v in fld.enum)
        return f"**`{value}`** ({fld.name}): {_(fld.enum[value])}\n\n" + _(msg("Allowed values: {values}", values=others))
    if value in fld.renamed_values:
        new = fld.renamed_values[value]
        version = fld.removed_in.get(value, pf.SDK_VERSION)
        return _(msg("**`{old}`** was renamed to `{new}` in SDK {version}.", old=value, new=new, version=version))
    return None


@provides(HOVER, kinds=YAML_KINDS)
def yaml_hover(ctx: RequestContext, pos: Pos) -> types.Hover | None:
    lines = ctx.lines
    if pos.line >= len(lines):
        return None
    line = lines[pos.line]
    word = word_at(line, pos.col)
    if word is None:
        return None
    start, end = word
    colon = line.find(":", start)
    is_key = colon == end and line[:start].strip() in ("", "-")
    rng = ctx.range(Span(Pos(pos.line, start), Pos(pos.line, end)))
    if is_key:
        cur = cursor_at(lines, pos.line, start, ctx.index.caches)
        _, fld = pf.resolve(ctx.kind, [*cur.path, line[start:end]])
        if fld is None:
            return None
        title = ctx.tr(KIND_TITLES.get(ctx.kind or "", ""))
        text = field_markdown(fld, ctx.language) + (f"\n\n_{title}_" if title else "")
        return types.Hover(contents=ctx.markup(text), range=rng)
    # A value: `key: value` or a list item `- value`.
    cur = cursor_at(lines, pos.line, start, ctx.index.caches)
    if cur.in_key:
        _, fld = pf.resolve(ctx.kind, cur.path)  # a scalar list item
    else:
        _, fld = pf.resolve(ctx.kind, [*cur.path, cur.key or ""])
    if fld is None:
        return None
    raw_value = line[start:end]
    if fld.name == "scope":
        raw_value = line[cur.prefix_col:].split("#")[0].strip().strip("\"'")
        rng = ctx.range(Span(Pos(pos.line, cur.prefix_col), Pos(pos.line, cur.prefix_col + len(raw_value))))
    text = value_markdown(fld, raw_value, cur.siblings, ctx.language)
    if text is None:
        return None
    return types.Hover(contents=ctx.markup(text), range=rng)


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (yaml_hover,)

"""References and highlights of a name the plugin says in YAML and in Python.

From a tool parameter's declaration, any read of it in the tool's code or its
key in a saved invocation file: every other place, across files (references)
or in this document (highlights: the declaration as a write, reads as reads).
"""

from __future__ import annotations

from lsprotocol import types

from dify_lsp.features import DOCUMENT_HIGHLIGHT, REFERENCES, RequestContext, provides
from dify_lsp.plugin_names import DECLARATION, READ, name_at
from dify_lsp.textpos import Pos

_HIGHLIGHT_KINDS = {DECLARATION: types.DocumentHighlightKind.Write, READ: types.DocumentHighlightKind.Read}


@provides(REFERENCES)
def references(ctx: RequestContext, pos: Pos, include_declaration: bool) -> list[types.Location]:
    if ctx.plugin is None:
        return []
    found = name_at(ctx.plugin, ctx.index, ctx.path, pos)
    if found is None:
        return []
    return [
        types.Location(uri=ctx.uri_for(site.path), range=ctx.range(site.span, site.path))
        for site in found.sites
        if include_declaration or site.role != DECLARATION
    ]


@provides(DOCUMENT_HIGHLIGHT)
def highlights(ctx: RequestContext, pos: Pos) -> list[types.DocumentHighlight]:
    if ctx.plugin is None:
        return []
    found = name_at(ctx.plugin, ctx.index, ctx.path, pos)
    if found is None:
        return []
    return [
        types.DocumentHighlight(range=ctx.range(site.span), kind=_HIGHLIGHT_KINDS.get(site.role, types.DocumentHighlightKind.Text))
        for site in found.sites
        if site.path == ctx.path
    ]


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (references, highlights)

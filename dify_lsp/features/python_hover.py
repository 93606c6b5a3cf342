"""Hover on ``self.session`` chains: signature, return type, docs, manifest permission, example, since-version."""

from __future__ import annotations

from lsprotocol import types

from dify_lsp import pyscan
from dify_lsp.features import HOVER, RequestContext, provides
from dify_lsp.i18n import ENGLISH
from dify_lsp.caches import Caches
from dify_lsp.schema.references import PYTHON
from dify_lsp.sdk import catalog
from dify_lsp.textpos import Pos


def session_hover_markdown(lines: list[str], pos: Pos, caches: Caches | None, language: str = ENGLISH):
    """(markdown, span of the hovered name) when the cursor is on a catalogued session chain."""
    found = pyscan.names_at(lines, pos, caches)
    if found is None:
        return None
    path, span, _root = found
    res, n = catalog.resolve(path)
    if res is None or n != len(path):
        return None
    return catalog.member_markdown(path, res.owner, res.member, language), span


@provides(HOVER, kinds=(PYTHON,))
def session_hover(ctx: RequestContext, pos: Pos) -> types.Hover | None:
    found = session_hover_markdown(ctx.lines, pos, ctx.index.caches, ctx.language)
    if found is None:
        return None
    markdown, span = found
    return types.Hover(contents=ctx.markup(markdown), range=ctx.range(span))


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (session_hover,)

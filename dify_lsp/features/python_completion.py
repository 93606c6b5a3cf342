"""Completion after ``self.session.`` (and ``.model.``, ``.model.rerank.``, aliases, ``self.runtime.session.``).

Answers from the SDK catalog alone: the chain is read from the text before
the cursor (:func:`dify_lsp.pyscan.chain_at`), so it works in files that do
not parse and never waits on jedi.
"""

from __future__ import annotations

from lsprotocol import types

from dify_lsp import pyscan
from dify_lsp.features import COMPLETION, RequestContext, provides
from dify_lsp.schema.references import PYTHON
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Method
from dify_lsp.textpos import Pos


def session_members_at(ctx: RequestContext, pos: Pos) -> tuple[pyscan.CursorChain, catalog.Type] | None:
    chain = pyscan.chain_at(ctx.lines, pos, ctx.index.caches)
    if chain is None:
        return None
    res, n = catalog.resolve(chain.names)
    if res is None or n != len(chain.names) or res.type is None:
        return None
    return chain, res.type


def _kind(member) -> types.CompletionItemKind:
    if isinstance(member, Method):
        return types.CompletionItemKind.Method
    if member.type in catalog.TYPES:
        return types.CompletionItemKind.Module
    return types.CompletionItemKind.Property


def _detail(member) -> str:
    if isinstance(member, Method):
        return member.signature()
    return member.type


@provides(COMPLETION, kinds=(PYTHON,))
def session_completion(ctx: RequestContext, pos: Pos) -> list[types.CompletionItem] | None:
    found = session_members_at(ctx, pos)
    if found is None:
        return None
    chain, owner = found
    edit_range = ctx.range(chain.partial_span)
    items = []
    for i, member in enumerate(owner.members()):
        items.append(
            types.CompletionItem(
                label=member.name,
                kind=_kind(member),
                detail=_detail(member),
                documentation=ctx.markup(catalog.member_markdown((*chain.names, member.name), owner, member, ctx.language)),
                sort_text=f"0{i:02d}",
                filter_text=member.name,
                text_edit=types.TextEdit(range=edit_range, new_text=member.name),
            )
        )
    return items


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (session_completion,)

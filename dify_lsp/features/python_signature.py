"""Signature help inside a catalogued session call (``self.session.model.llm.invoke(``), with the active parameter."""

from __future__ import annotations

from lsprotocol import types

from dify_lsp import pyscan
from dify_lsp.features import SIGNATURE_HELP, RequestContext, provides
from dify_lsp.i18n import msg
from dify_lsp.schema.references import PYTHON
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Method
from dify_lsp.textpos import Pos


def active_parameter(method: Method, call: pyscan.CursorCall) -> int | None:
    names = [p.name for p in method.params]
    if call.keyword is not None:
        return names.index(call.keyword) if call.keyword in names else None
    if not call.used_keywords:
        return call.arg_index if call.arg_index < len(method.positional) else None
    # after keyword arguments only keywords may follow: point at the first parameter not given yet
    positional_given = call.arg_index - len(call.used_keywords)
    for i, p in enumerate(method.params):
        if i >= positional_given and p.name not in call.used_keywords:
            return i
    return None


@provides(SIGNATURE_HELP, kinds=(PYTHON,))
def session_signature(ctx: RequestContext, pos: Pos) -> types.SignatureHelp | None:
    call = pyscan.call_at(ctx.lines, pos, ctx.index.caches)
    if call is None:
        return None
    res, n = catalog.resolve(call.names)
    if res is None or n != len(call.names) or not isinstance(res.member, Method):
        return None
    method = res.member
    dotted = ".".join(("session", *call.names))
    doc = f"{ctx.tr(method.doc)}\n\n" + ctx.tr(msg("**Returns** `{type}`", type=method.returns))
    if method.wire:
        doc += "\n\n" + ctx.tr(msg("**Manifest permission**: {permission}", permission=catalog.permission_text(method.wire, ctx.language)))

    def param_doc(p) -> str:
        return ctx.tr(p.doc) + (ctx.tr(msg(" (since SDK {version})", version=p.since)) if p.since else "")

    params = [
        types.ParameterInformation(label=p.render(), documentation=ctx.markup(param_doc(p)) if p.doc or p.since else None)
        for p in method.params
    ]
    active = active_parameter(method, call)
    sig = types.SignatureInformation(
        label=method.signature(),
        documentation=ctx.markup(f"`{dotted}`\n\n{doc}"),
        parameters=params,
        active_parameter=active,
    )
    return types.SignatureHelp(signatures=[sig], active_signature=0, active_parameter=active)


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (session_signature,)

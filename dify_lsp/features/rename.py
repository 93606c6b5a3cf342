"""Rename a name the plugin says in YAML and in Python at once.

A tool parameter, agent strategy parameter, provider credential or endpoint
setting is renamed from any place it is written: its YAML declaration, a read
in the code, or a saved invocation file.  One WorkspaceEdit changes every
place (see :mod:`dify_lsp.plugin_names`); a new name that Dify cannot use or
that collides is refused with a message.
"""

from __future__ import annotations

from lsprotocol import types

from dify_lsp.features import PREPARE_RENAME, RENAME, RequestContext, provides
from dify_lsp.i18n import Listing, msg
from dify_lsp.plugin_names import NameAt, RenameRefused, name_at, rename_edits
from dify_lsp.textpos import Pos


def _found(ctx: RequestContext, pos: Pos) -> NameAt | None:
    if ctx.plugin is None:
        return None
    return name_at(ctx.plugin, ctx.index, ctx.path, pos)


@provides(PREPARE_RENAME)
def prepare_rename(ctx: RequestContext, pos: Pos) -> types.PrepareRenamePlaceholder | RenameRefused | None:
    found = _found(ctx, pos)
    if found is None:
        return None
    if not found.site.exact:
        return RenameRefused(ctx.tr(msg(
            "'{name}' is not written as a plain string here, so it cannot be renamed from this place", name=found.name,
        )))
    return types.PrepareRenamePlaceholder(range=ctx.range(found.site.span), placeholder=found.name)


@provides(RENAME)
def rename(ctx: RequestContext, pos: Pos, new_name: str) -> types.WorkspaceEdit | RenameRefused | None:
    found = _found(ctx, pos)
    if found is None:
        return None
    try:
        edits = rename_edits(found, new_name)
    except RenameRefused as refused:
        return RenameRefused(ctx.tr(refused.args[0]))
    if found.scope.incomplete and new_name != found.name:
        # Renamed everywhere it can be seen; say where it cannot (the edit still goes ahead).
        ctx.editor.show_message(
            ctx.tr(msg(
                "Renamed '{old}' to '{new}' where it is written; check by hand: {reasons}",
                old=found.name, new=new_name, reasons=Listing(found.scope.incomplete),
            )),
            types.MessageType.Warning,
        )
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        changes.setdefault(ctx.uri_for(edit.path), []).append(
            types.TextEdit(range=ctx.range(edit.span, edit.path), new_text=edit.new_text)
        )
    if not ctx.client.document_changes:
        return types.WorkspaceEdit(changes=changes)
    # With versions, a client whose document changed since the server last saw it refuses the
    # edit instead of applying it at shifted positions.
    return types.WorkspaceEdit(document_changes=[
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=ctx.editor.document_version(uri)),
            edits=list(text_edits),
        )
        for uri, text_edits in changes.items()
    ])


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (prepare_rename, rename)

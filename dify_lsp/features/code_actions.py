"""Quick fixes: every certain Fix a rule attached to a finding becomes a code action, and the fixes that
write plugin YAML or create files (declare a parameter, list a tool, create a missing tool or class)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types

from dify_lsp.features import CODE_ACTION, RequestContext, provides
from dify_lsp.findings import Finding, Fix, TextEdit
from dify_lsp.i18n import LANGUAGES, tr
from dify_lsp.plugin_fixes import FixSite, plugin_fixes
from dify_lsp.textpos import Span

log = logging.getLogger(__name__)


def _overlaps(a: Span, b: Span) -> bool:
    return not (a.end < b.start or b.end < a.start)


def fix_to_workspace_edit(ctx: RequestContext, fix: Fix) -> types.WorkspaceEdit:
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in fix.edits:
        changes.setdefault(edit.path.as_uri(), []).append(
            types.TextEdit(range=ctx.range(edit.span, edit.path), new_text=edit.new_text)
        )
    return types.WorkspaceEdit(changes=changes)


def _matching(diagnostics: list[types.Diagnostic], finding: Finding) -> list[types.Diagnostic]:
    # The client echoes the message as it was shown: in the user's language, whichever it is.
    messages = {tr(finding.message, language) for language in LANGUAGES}
    return [d for d in diagnostics if d.code == finding.code and d.message in messages]


@provides(CODE_ACTION)
def quick_fixes(ctx: RequestContext, span: Span, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for finding in ctx.editor.findings_for(ctx.path):
        if not finding.fixes or not _overlaps(finding.span, span):
            continue
        for fix in finding.fixes:
            actions.append(
                types.CodeAction(
                    title=ctx.tr(fix.title),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=_matching(diagnostics, finding) or None,
                    is_preferred=fix.preferred,
                    edit=fix_to_workspace_edit(ctx, fix),
                )
            )
    return actions


# -- quick fixes that write YAML or create files ------------------------------------------------------------------
#
# Built by dify_lsp.plugin_fixes from the finding and the plugin around it; here they become code actions.


def workspace_edit(ctx: RequestContext, edits: list[TextEdit], files: dict[Path, str] | None = None) -> types.WorkspaceEdit | None:
    """A WorkspaceEdit of text edits and new files (None when new files are needed but the client cannot create them)."""
    if not files:
        changes: dict[str, list[types.TextEdit]] = {}
        for e in edits:
            changes.setdefault(ctx.uri_for(e.path), []).append(types.TextEdit(range=ctx.range(e.span, e.path), new_text=e.new_text))
        return types.WorkspaceEdit(changes=changes)
    if not ctx.client.resource_create:
        return None
    doc_changes: list[Any] = []
    start = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    for path, text in files.items():
        uri = ctx.uri_for(path)
        doc_changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)))
        doc_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=start, new_text=text)],
        ))
    by_path: dict[Path, list[TextEdit]] = {}
    for e in edits:
        by_path.setdefault(e.path, []).append(e)
    for path, group in by_path.items():
        doc_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=ctx.uri_for(path), version=None),
            edits=[types.TextEdit(range=ctx.range(e.span, e.path), new_text=e.new_text) for e in group],
        ))
    return types.WorkspaceEdit(document_changes=doc_changes)


def _action(title: str, edit: types.WorkspaceEdit | None, finding: Finding, diagnostics: list[types.Diagnostic], preferred: bool = False) -> list[types.CodeAction]:
    if edit is None:
        return []
    return [types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=_matching(diagnostics, finding) or None,
                             is_preferred=preferred or None, edit=edit)]


@provides(CODE_ACTION)
def yaml_writing_fixes(ctx: RequestContext, span: Span, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    if ctx.plugin is None:
        return []
    site = FixSite(ctx.path, ctx.text, ctx.plugin, ctx.index)
    actions: list[types.CodeAction] = []
    for finding in ctx.editor.findings_for(ctx.path):
        if not _overlaps(finding.span, span):
            continue
        try:
            planned = plugin_fixes(site, finding)
        except Exception:  # one broken fix never hides the others
            log.exception("quick fix for %s failed", finding.code)
            continue
        for fix in planned:
            actions.extend(_action(ctx.tr(fix.title), workspace_edit(ctx, list(fix.edits), fix.files), finding, diagnostics, fix.preferred))
    return actions


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (quick_fixes, yaml_writing_fixes)

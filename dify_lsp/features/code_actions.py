"""Quick fixes: every certain Fix a rule attached to a finding becomes a code action."""

from __future__ import annotations

from lsprotocol import types

from dify_lsp.features import CODE_ACTION, RequestContext, provides
from dify_lsp.findings import Finding, Fix
from dify_lsp.textpos import Span


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
    return [d for d in diagnostics if d.code == finding.code and d.message == finding.message]


@provides(CODE_ACTION)
def quick_fixes(ctx: RequestContext, span: Span, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for finding in ctx.server.diagnostics.findings_for(ctx.path):
        if not finding.fixes or not _overlaps(finding.span, span):
            continue
        for fix in finding.fixes:
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=_matching(diagnostics, finding) or None,
                    is_preferred=fix.preferred,
                    edit=fix_to_workspace_edit(ctx, fix),
                )
            )
    return actions

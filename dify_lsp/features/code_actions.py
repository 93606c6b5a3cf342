"""Quick fixes: every certain Fix a rule attached to a finding becomes a code action, and the fixes that
write plugin YAML or create files (declare a parameter, list a tool, create a missing tool or class)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from lsprotocol import types

from dify_lsp import pyscan, scaffold
from dify_lsp.sdk import catalog
from dify_lsp.features import CODE_ACTION, RequestContext, provides
from dify_lsp.findings import Finding, Fix, TextEdit
from dify_lsp.i18n import LANGUAGES, msg, tr
from dify_lsp.schema.references import ENDPOINT, ENDPOINT_GROUP, MODEL_PROVIDER, PYTHON, TOOL, TOOL_PROVIDER
from dify_lsp.textpos import Span
from dify_lsp.yamledit import add_entry, append_item, remove_item
from dify_lsp.yamlpos import YMap, YScalar, YSeq

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
# These need the plugin around the finding (which YAML declares the tool, which provider lists it), so they
# are built here from the finding and the index rather than carried by the rule.

_NUMBER_CALLS = re.compile(r"\b(?:int|float)\(\s*$")
_BOOL_CALLS = re.compile(r"\bbool\(\s*$")


def _guess_type(ctx: RequestContext, scanned: pyscan.Scan, read: pyscan.ParamRead) -> tuple[str, str | None]:
    """(parameter type, scope) from how the code uses the value it reads."""
    for call in scanned.calls:
        method = call.method
        if method is None:
            continue
        arg = call.bind().get("model_config")
        config = method.param("model_config")
        if arg is None or config is None or read.key not in (arg.param_key, arg.config_key):
            continue
        # the model-selector scope that picks a model of the type this invoke takes (catalog data; llm
        # also takes a dict, so its config class is only in the annotation)
        class_name = config.config_class or next((c for c in config.annotation.split(" | ") if c in catalog.CONFIG_CLASSES), None)
        if class_name is not None:
            return "model-selector", catalog.CONFIG_CLASSES[class_name].model_type
    line = ctx.lines[read.span.start.line] if read.span.start.line < len(ctx.lines) else ""
    before = line[: read.span.start.col]
    # tool_parameters["x"] / .get("x") sits right after int( / float( / bool(
    head = re.sub(r"(?:\w+\s*\.\s*get\s*\(|\w+\s*\[)\s*$", "", before)
    if _NUMBER_CALLS.search(head):
        return "number", None
    if _BOOL_CALLS.search(head):
        return "boolean", None
    return "string", None


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


def _declare_parameter(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    scanned = pyscan.scan(ctx.text)
    read = next((r for inv in scanned.invokes for r in inv.reads if r.span == finding.span), None)
    if read is None or not read.key:
        return []
    ptype, scope = _guess_type(ctx, scanned, read)
    form = "form" if ptype == "model-selector" else "llm"
    item = scaffold.parameter_item(read.key, ptype, required=read.how == "subscript", form=form, scope=scope)
    out: list[types.CodeAction] = []
    yamls = _sources_naming(ctx, ctx.path, TOOL)
    for yaml_path in yamls:
        yf = ctx.plugin.yaml_files.get(yaml_path) if ctx.plugin else None
        if yf is None or yf.root is None or yf.text is None:
            continue
        edits = append_item(yaml_path, yf.text, yf.root, "parameters", item)
        if edits:
            out += _action(ctx.tr(msg("Declare '{name}' in {file} ({type})", name=read.key, file=ctx.plugin.relative(yaml_path), type=ptype)), workspace_edit(ctx, edits), finding, diagnostics, len(yamls) == 1)  # type: ignore[union-attr]
    return out


def _parameter_item(ctx: RequestContext, span: Span) -> tuple[YSeq, YMap] | None:
    root = ctx.plugin.yaml_files[ctx.path].root if ctx.plugin and ctx.path in ctx.plugin.yaml_files else None
    seq = root.get("parameters") if root is not None else None
    if not isinstance(seq, YSeq):
        return None
    for item in seq.items:
        if isinstance(item, YMap) and item.get("name") is not None and item.get("name").span == span:  # type: ignore[union-attr]
            return seq, item
    return None


def _unread_parameter(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    found = _parameter_item(ctx, finding.span)
    if found is None:
        return []
    seq, item = found
    name = item.get("name").value  # type: ignore[union-attr]
    out: list[types.CodeAction] = []
    required = item.pair("required")
    if required is not None and isinstance(required.value, YScalar) and required.value.raw:
        out += _action(ctx.tr(msg("Mark '{name}' optional", name=name)), workspace_edit(ctx, [TextEdit(ctx.path, required.value.span, "false")]), finding, diagnostics)
    removal = remove_item(ctx.path, ctx.text, seq, item)
    if removal is not None:
        out += _action(ctx.tr(msg("Remove the parameter '{name}'", name=name)), workspace_edit(ctx, [removal]), finding, diagnostics)
    return out


def _list_tool(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    assert ctx.plugin is not None
    rel = ctx.plugin.relative(ctx.path)
    out: list[types.CodeAction] = []
    providers = scaffold.tool_providers(ctx.plugin)
    for provider in providers:
        try:
            edits = scaffold.list_tool(ctx.plugin, provider, rel)
        except scaffold.ScaffoldError:
            continue
        out += _action(ctx.tr(msg("List {file} in {provider}", file=rel, provider=ctx.plugin.relative(provider))), workspace_edit(ctx, edits), finding, diagnostics, len(providers) == 1)
    return out


def _ref_at(ctx: RequestContext, span: Span):
    assert ctx.plugin is not None
    return next((r for r in ctx.plugin.refs_from(ctx.path) if r.span == span and r.target is not None and not r.escapes), None)


def _create_missing(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    ref = _ref_at(ctx, finding.span)
    if ref is None or ctx.plugin is None:
        return []
    owner = ctx.plugin.yaml_files.get(ref.owner)
    try:
        if ref.target_kind == TOOL:
            plan = scaffold.missing_tool_files(ctx.plugin, ctx.index.source, ref.target)
        elif ref.target_kind == PYTHON and owner is not None and owner.kind == TOOL and ref.key == ("extra", "python", "source") and ref.target.suffix == ".py":
            plan = scaffold.missing_python(ctx.plugin, ref.owner, ref.target)
        else:
            return []
    except scaffold.ScaffoldError:
        return []
    names = " and ".join(ctx.plugin.relative(p) for p in plan.files)
    return _action(ctx.tr(msg("Create {files}", files=names)), workspace_edit(ctx, plan.edits, plan.files), finding, diagnostics, True)


def _create_class(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    ref = _ref_at(ctx, finding.span)
    owner = ctx.plugin.yaml_files.get(ctx.path) if ctx.plugin else None
    if ref is None or owner is None or owner.kind != TOOL or ref.target_kind != PYTHON:
        return []
    text = ctx.index.source.read(ref.target).text
    if text is None:
        return []
    edits = scaffold.add_tool_class(ctx.plugin, ctx.path, ref.target, text)  # type: ignore[arg-type]
    return _action(ctx.tr(msg("Create the Tool subclass in {file}", file=ctx.plugin.relative(ref.target))), workspace_edit(ctx, edits), finding, diagnostics, True)  # type: ignore[union-attr]


def _owners_listing(ctx: RequestContext, child: Path, owner_kind: str, key: tuple[str, ...]) -> list[Path]:
    assert ctx.plugin is not None
    out = []
    for ref in ctx.plugin.refs:
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if ref.target == child and ref.key == key and owner is not None and owner.kind == owner_kind and owner.path not in out:
            out.append(owner.path)
    return out


def _sources_naming(ctx: RequestContext, py: Path, owner_kind: str) -> list[Path]:
    assert ctx.plugin is not None
    out = []
    for ref in ctx.plugin.refs:
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if ref.target == py and ref.key == ("extra", "python", "source") and owner is not None and owner.kind == owner_kind:
            out.append(owner.path)
    return out


def _declare_credential(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    """A credential or endpoint setting the code reads but the provider / endpoint group does not declare."""
    assert ctx.plugin is not None
    scanned = pyscan.scan(ctx.text)
    found = next((kr for kr in scanned.key_reads if kr.read.span == finding.span), None)
    if found is None or not found.read.key:
        return []
    name, required = found.read.key, found.read.how == "subscript"
    if found.source == "self.runtime.credentials":
        targets = [p for tool in _sources_naming(ctx, ctx.path, TOOL) for p in _owners_listing(ctx, tool, TOOL_PROVIDER, ("tools",))]
    elif found.source == "param:credentials" and _model_providers_of(ctx, ctx.path):
        return _declare_model_credential(ctx, finding, diagnostics, name, required)
    elif found.source == "param:credentials":
        targets = _sources_naming(ctx, ctx.path, TOOL_PROVIDER)
    elif found.source == "param:settings":
        targets = [p for ep in _sources_naming(ctx, ctx.path, ENDPOINT) for p in _owners_listing(ctx, ep, ENDPOINT_GROUP, ("endpoints",))]
    else:
        return []
    out: list[types.CodeAction] = []
    for target in dict.fromkeys(targets):
        yf = ctx.plugin.yaml_files.get(target)
        if yf is None or yf.root is None or yf.text is None:
            continue
        body = scaffold.form_field(name, required)
        if yf.kind == ENDPOINT_GROUP:
            what, edits = msg("setting"), append_item(target, yf.text, yf.root, "settings", f"name: {name}\n{body}")
        elif yf.root.get("credentials_for_provider") is None and isinstance(yf.root.get("credentials_schema"), YSeq):
            what, edits = msg("credential"), append_item(target, yf.text, yf.root, "credentials_schema", f"name: {name}\n{body}")
        else:
            what, edits = msg("credential"), add_entry(target, yf.text, yf.root, "credentials_for_provider", name, body)
        if edits:
            out += _action(ctx.tr(msg("Declare {what} '{name}' in {file}", what=what, name=name, file=ctx.plugin.relative(target))), workspace_edit(ctx, edits), finding, diagnostics, len(targets) == 1)
    return out


def _model_providers_of(ctx: RequestContext, py: Path) -> list[Path]:
    """Model provider YAMLs whose provider_source / model_sources name ``py``."""
    assert ctx.plugin is not None
    out = []
    for ref in ctx.plugin.refs:
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if ref.target == py and ref.key[:2] == ("extra", "python") and owner is not None and owner.kind == MODEL_PROVIDER:
            out.append(owner.path)
    return list(dict.fromkeys(out))


def _declare_model_credential(ctx: RequestContext, finding: Finding, diagnostics: list[types.Diagnostic], name: str, required: bool) -> list[types.CodeAction]:
    """A credential variable in the model provider's form: the provider form, the per-model form, or each
    (Dify fills predefined models from the first and customizable models from the second)."""
    assert ctx.plugin is not None
    out: list[types.CodeAction] = []
    for target in _model_providers_of(ctx, ctx.path):
        yf = ctx.plugin.yaml_files.get(target)
        if yf is None or yf.root is None or yf.text is None:
            continue
        item = f"variable: {name}\n{scaffold.form_field(name, required)}"
        schemas = [k for k in ("provider_credential_schema", "model_credential_schema") if isinstance(yf.root.get(k), YMap)]
        for schema in schemas:
            edits = append_item(target, yf.text, yf.root.get(schema), "credential_form_schemas", item)  # type: ignore[arg-type]
            if edits:
                out += _action(ctx.tr(msg("Declare credential '{name}' in {file} ({schema})", name=name, file=ctx.plugin.relative(target), schema=schema)),
                               workspace_edit(ctx, edits), finding, diagnostics, len(schemas) == 1)
    return out


_YAML_FIXES = {
    "DL218": _declare_credential,
    "DL207": _declare_parameter,
    "DL214": _declare_parameter,  # the same undeclared read through tool_parameters[...]
    "DL208": _unread_parameter,
    "DL003": _list_tool,
    "DL002": _create_missing,
    "DL211": _create_class,
}


@provides(CODE_ACTION)
def yaml_writing_fixes(ctx: RequestContext, span: Span, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    if ctx.plugin is None:
        return []
    actions: list[types.CodeAction] = []
    for finding in ctx.editor.findings_for(ctx.path):
        fixer = _YAML_FIXES.get(finding.code)
        if fixer is None or not _overlaps(finding.span, span):
            continue
        try:
            actions.extend(fixer(ctx, finding, diagnostics))
        except Exception:  # one broken fix never hides the others
            log.exception("quick fix for %s failed", finding.code)
    return actions


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (quick_fixes, yaml_writing_fixes)

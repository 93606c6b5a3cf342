"""Selector scopes in plugin YAML (family "permissions", DL301-DL309).

Checks the `scope` of every parameter, credential and setting found by the
schema walker (tool parameters, provider credentials, OAuth fields,
agent-strategy parameters, endpoint settings) against the scope table in
:mod:`dify_lsp.schema.plugin_files`.
"""

from __future__ import annotations

from typing import Iterator

from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.rules import CheckContext, check, define_rule, suggest
from dify_lsp.rules.yaml_schema import ParamSite, schema_result
from dify_lsp.schema import plugin_files as pf
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YScalar

FAMILY = "permissions"

UNKNOWN_SCOPE = define_rule("DL301", "unknown-scope", "A `scope` value in a tool, tool provider, agent strategy, datasource, datasource provider, trigger, event or endpoint group YAML that is not valid for the parameter's type (model-selector, app-selector, any).", Severity.ERROR, FAMILY)
NO_SCOPE = define_rule("DL302", "model-selector-without-scope", "A model-selector in a tool, tool provider, agent strategy, datasource, datasource provider, trigger, event or endpoint group YAML without `scope`: the user can pick any model type, which the code probably does not expect.", Severity.WARNING, FAMILY)
FORM_LLM = define_rule("DL303", "model-selector-form-llm", "A model-selector in a tool, agent strategy, datasource or event YAML with `form: llm`: the LLM cannot fill a model, and Dify fails with \"Model cannot be empty\".", Severity.WARNING, FAMILY)
SCOPE_IGNORED = define_rule("DL304", "scope-without-meaning", "A `scope` in a tool, tool provider, agent strategy, datasource, datasource provider, trigger, event or endpoint group YAML on a type that has no scopes (only model-selector, app-selector and any have them).", Severity.WARNING, FAMILY)


def scope_parts(raw: str) -> list[tuple[str, int]]:
    """The `&`-separated parts of a scope with their offsets in ``raw``."""
    parts = []
    offset = 0
    for piece in raw.split("&"):
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        parts.append((stripped, offset + lead))
        offset += len(piece) + 1
    return parts


def suggest_scope(part: str, valid: dict[str, str]) -> list[str]:
    synonym = pf.SCOPE_SYNONYMS.get(part.lower())
    if synonym in valid:
        return [synonym]
    return suggest(part, list(valid))


def _part_span(node: YScalar, offset: int, length: int) -> Span:
    # Only plain one-line scalars map text offsets to columns exactly.
    if not node.style and node.span.start.line == node.span.end.line and node.raw == node.value:
        start = node.span.start.col + offset
        return Span(Pos(node.span.start.line, start), Pos(node.span.start.line, start + length))
    return node.span


def check_site(path, site: ParamSite) -> Iterator[Finding]:
    ptype = site.text("type")
    if ptype is None:
        return
    type_node = site.value("type")
    scope_node = site.value("scope")
    name = site.text("name") or (str(site.path[-1]) if site.path else "parameter")
    valid = pf.SCOPES.get(ptype)
    if isinstance(scope_node, YScalar) and isinstance(scope_node.value, str) and scope_node.value.strip():
        raw = scope_node.value
        if valid is None:
            yield SCOPE_IGNORED.at(
                path,
                scope_node.span,
                msg("`scope` has no meaning for a `{ptype}` {what} ('{name}'): only model-selector, app-selector and any take a scope", ptype=ptype, what=_what(site), name=name),
                related=[Related(path, type_node.span, msg("the type"))] if type_node is not None else [],
            )
            return
        for part, offset in scope_parts(raw):
            if part in valid:
                continue
            options = suggest_scope(part, valid) if part else []
            span = _part_span(scope_node, offset, len(part)) if part else scope_node.span
            fixes = []
            if options:
                fixes.append(Fix(msg("Change '{part}' to '{options}'", part=part, options=options[0]), (TextEdit(path, span, options[0]),), len(options) == 1))
            hint = msg(" (did you mean '{options}'?)", options=options[0]) if options else ""
            shown = f"'{part}'" if part else msg("an empty part")
            yield UNKNOWN_SCOPE.at(
                path,
                span,
                msg("{shown} is not a {ptype} scope{hint}; valid scopes: {names} (join several with &, e.g. tool-call&llm)", shown=shown, ptype=ptype, hint=hint, names=Listing(valid)),
                fixes=fixes,
            )
    elif ptype == pf.MODEL_SELECTOR and type_node is not None:
        yield NO_SCOPE.at(
            path,
            type_node.span,
            msg("model-selector '{name}' has no `scope`: the user can pick any model type; add e.g. `scope: llm` (valid: {names})", name=name, names=Listing(pf.SCOPES[pf.MODEL_SELECTOR])),
        )
    if ptype == pf.MODEL_SELECTOR:
        form = site.value("form")
        if isinstance(form, YScalar) and form.value == "llm":
            yield FORM_LLM.at(
                path,
                form.span,
                msg('model-selector \'{name}\' has `form: llm`, but the LLM cannot choose a model and Dify fails with "Model cannot be empty"; use `form: form`', name=name),
                fixes=[Fix(msg("Change to form: form"), (TextEdit(path, form.span, "form"),))],
            )


def _what(site: ParamSite) -> str:
    return msg("parameter") if site.schema.role == "parameter" else msg("field")


@check(UNKNOWN_SCOPE, NO_SCOPE, FORM_LLM, SCOPE_IGNORED)
def selector_scopes(ctx: CheckContext) -> Iterator[Finding]:
    for yf in ctx.plugin.yaml_files.values():
        doc = ctx.read.doc(yf)
        if doc is None or doc.root is None:
            continue
        for site in schema_result(ctx.read, yf, ctx.index.caches).params:
            yield from check_site(yf.path, site)


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNKNOWN_SCOPE, NO_SCOPE, FORM_LLM, SCOPE_IGNORED)
CHECKS = (selector_scopes,)

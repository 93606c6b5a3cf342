"""Tool parameters read in code, checked against the tool YAML (family "python", DL207, DL208, DL214).

Dify sends a tool the parameters its YAML declares (from a workflow node's or a form's inputs; an agent's model
fills the same declared parameters).  The reads of each ``_invoke``'s parameters dict come from the plugin's
Python analysis (:mod:`dify_lsp.analysis.plugin`).
"""

from __future__ import annotations

from typing import Iterator

from dify_lsp.analysis.plugin import (
    YamlParam,
    python_of,
    runtime_parameters,
    yaml_params,
)
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest

FAMILY = "python"

UNDECLARED_PARAMETER = define_rule("DL207", "undeclared-tool-parameter", "A tool's Python code reads with `.get` a tool parameter that the tool's YAML does not declare: workflows and forms send only declared parameters, so there the read gives the default (an agent's model may add other keys, which cannot be relied on). Behind a membership test (`if \"x\" in tool_parameters`) or as the fallback of a declared key (`.get(\"a\") or .get(\"b\")`) it is at most a hint.", Severity.WARNING, FAMILY)
UNREAD_PARAMETER = define_rule("DL208", "unread-required-parameter", "A required parameter declared in the tool YAML that the tool's code never reads.", Severity.HINT, FAMILY)
UNDECLARED_PARAMETER_KEY = define_rule("DL214", "undeclared-tool-parameter-key", "A tool's Python code reads `tool_parameters[\"x\"]` where the tool's YAML declares no parameter `x`: workflows and forms send only declared parameters, so every run from them raises KeyError (an agent's model may add other keys, which cannot be relied on).", Severity.ERROR, FAMILY)


# -- tool parameters ----------------------------------------------------------------------------------------------


@check(UNDECLARED_PARAMETER, UNDECLARED_PARAMETER_KEY, UNREAD_PARAMETER)
def tool_parameters_match_yaml(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_of(ctx).units:
        yamls = python_of(ctx).tool_yamls_for(unit.path)
        if not yamls or not unit.scan.invokes:
            continue
        declared: dict[str, YamlParam] = {}
        known = True
        for yf in yamls:
            got = yaml_params(ctx.read, yf, ctx.index.caches)
            if got is None or runtime_parameters(ctx.read, yf):
                known = False
                break
            for p in got:
                declared.setdefault(p.name, p)
        if not known:
            continue
        invokes = unit.scan.invokes
        if any("_get_runtime_parameters" in (c.methods if c else []) for c in (unit.scan.class_named(i.class_name) for i in invokes)):
            continue
        names = list(declared)
        related: list[Related] = []
        for inv in invokes:
            for read in inv.reads:
                if read.key in declared or read.how == "in":
                    continue
                if read.how == "get" and any(k in declared for k in read.fallback_after):
                    continue  # only asked for when a declared key gave nothing: an alternative spelling
                if not related:  # made for the first finding (most files have none; yaml_params read the YAMLs)
                    for yf in yamls:
                        root = ctx.read.root(yf)
                        params_key = root.pair("parameters") if root else None
                        related.append(Related(yf.path, params_key.key.span if params_key else ZERO_SPAN, msg("the tool's parameters")))
                options = suggest(read.key, names)
                fixes = [Fix(msg("Change to '{o}'", o=o), (TextEdit(unit.path, read.inner, o),), preferred=len(options) == 1) for o in options] if read.inner else []
                listed = Listing(f"'{n}'" for n in names)
                severity = None
                if read.how == "get":
                    rule = UNDECLARED_PARAMETER
                    outcome = (msg("Workflows and forms send only declared parameters, so there this is always the default, {default}; an agent's model may add other keys, but that cannot be relied on.", default=read.default) if read.default is not None
                               else msg("Workflows and forms send only declared parameters, so there this is always None; an agent's model may add other keys, but that cannot be relied on."))
                elif read.guarded:
                    rule, severity = UNDECLARED_PARAMETER, Severity.HINT
                    outcome = msg("It is read only behind a membership test, so it cannot raise KeyError; workflows and forms send only declared parameters, so that branch runs only if an agent's model adds the key, which cannot be relied on.")
                else:
                    rule = UNDECLARED_PARAMETER_KEY
                    outcome = msg("Workflows and forms send only declared parameters, so every run from them raises KeyError: '{key}'; an agent's model may add other keys, but that cannot be relied on.", key=read.key)
                if len(yamls) == 1:
                    path = ctx.plugin.relative(yamls[0].path)
                    message = (msg("tool parameter '{key}' is not declared in {path}{did_you_mean}; declared parameters: {listed}. {outcome}", key=read.key, path=path, did_you_mean=did_you_mean(options), listed=listed, outcome=outcome)
                               if names else msg("tool parameter '{key}' is not declared in {path}, which declares no parameter. {outcome}", key=read.key, path=path, outcome=outcome))
                else:
                    paths = Listing(ctx.plugin.relative(y.path) for y in yamls)
                    message = (msg("tool parameter '{key}' is declared in none of {paths}, the tools this file serves{did_you_mean}; declared parameters: {listed}. {outcome}", key=read.key, paths=paths, did_you_mean=did_you_mean(options), listed=listed, outcome=outcome)
                               if names else msg("tool parameter '{key}' is declared in none of {paths}, the tools this file serves, which declare no parameter. {outcome}", key=read.key, paths=paths, outcome=outcome))
                yield rule.at(unit.path, read.span, message, severity=severity, related=related, fixes=fixes)
        if any(inv.escapes for inv in invokes):
            continue
        read_keys = {r.key for inv in invokes for r in inv.reads}
        inv = invokes[0]
        for p in declared.values():
            if p.required and p.name not in read_keys:
                yield UNREAD_PARAMETER.at(
                    p.yaml.path, p.name_span,
                    (msg("required parameter '{name}' is never read by {path} ({class_name}._invoke reads: {value})", name=p.name, path=ctx.plugin.relative(unit.path), class_name=inv.class_name, value=Listing(sorted(read_keys)))
                     if read_keys else msg("required parameter '{name}' is never read by {path} ({class_name}._invoke reads no parameter)", name=p.name, path=ctx.plugin.relative(unit.path), class_name=inv.class_name)),
                    related=[Related(unit.path, inv.param_span, msg("{class_name}._invoke's parameters", class_name=inv.class_name))],
                )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNDECLARED_PARAMETER, UNREAD_PARAMETER, UNDECLARED_PARAMETER_KEY)
CHECKS = (tool_parameters_match_yaml,)

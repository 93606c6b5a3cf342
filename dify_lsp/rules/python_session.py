"""The reverse-invocation API in plugin code (family "python", DL201-DL206).

Session chains (``self.session.model.llm.invoke(...)``, also through aliases, a ``Session`` parameter or an SDK
invocation object built from the session) are checked against :mod:`dify_lsp.sdk.catalog`: members that do not
exist, objects called instead of their method, arguments the method does not take or lacks, and a dict passed
where a *ModelConfig object is needed.  The chains come from the plugin's Python analysis
(:mod:`dify_lsp.analysis.plugin`).
"""

from __future__ import annotations

from typing import Iterator

from dify_lsp import pyscan
from dify_lsp.analysis.plugin import YamlParam, python_of, yaml_params
from dify_lsp.findings import Finding, Fix, Severity, TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Attr
from dify_lsp.textpos import Pos, Span

FAMILY = "python"

UNKNOWN_MEMBER = define_rule("DL201", "unknown-session-member", "In the plugin's Python code, an attribute of Dify's session (`self.session` in an SDK plugin class, `self.runtime.session` in triggers, a `Session` parameter, or an SDK invocation object built from it) that the SDK does not have, e.g. `self.session.model.embedding`: AttributeError at run time.", Severity.ERROR, FAMILY)
NOT_CALLABLE = define_rule("DL202", "session-object-not-callable", "Python code calls an invocation object instead of its method, e.g. `self.session.model.summary(...)` instead of `.summary.invoke(...)`.", Severity.ERROR, FAMILY)
UNKNOWN_KEYWORD = define_rule("DL203", "unknown-keyword-argument", "In Python code, a keyword argument that the called session method does not take.", Severity.ERROR, FAMILY)
MISSING_ARGUMENT = define_rule("DL204", "missing-required-argument", "A call of a session method in Python code that leaves out a required argument.", Severity.ERROR, FAMILY)
TOO_MANY_POSITIONAL = define_rule("DL205", "too-many-positional-arguments", "A call of a session method in Python code with more positional arguments than it takes (or one given twice).", Severity.ERROR, FAMILY)
DICT_MODEL_CONFIG = define_rule("DL206", "model-config-dict", "Python code passes a dict (or a model-selector value) as `model_config` where the SDK needs a *ModelConfig object (only llm and llm_structured_output accept a dict).", Severity.ERROR, FAMILY)


# -- session misuse ----------------------------------------------------------------------------------------


def _member_names(t: catalog.Type) -> list[str]:
    return [m.name for m in t.members(include_internal=True)]


@check(UNKNOWN_MEMBER, NOT_CALLABLE)
def session_members_exist(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_of(ctx).units:
        for ref in unit.refs:
            resolved, bad = catalog.resolve(ref.names)
            if resolved is not None or bad >= len(ref.names):
                continue
            name = ref.names[bad]
            span = ref.name_spans[bad]
            if span is None or name.startswith("_"):
                continue
            owner_res, _ = catalog.resolve(ref.names[:bad])
            owner = catalog.session_type() if bad == 0 else (owner_res.type if owner_res else None)
            if owner is None:
                continue  # after a method or a plain value: not the catalog's business
            options = suggest(name, [m.name for m in owner.members()])
            where = ".".join(("session", *ref.names[:bad]))
            fixes = [Fix(msg("Change to '{o}'", o=o), (TextEdit(unit.path, span, o),), preferred=len(options) == 1) for o in options]
            yield UNKNOWN_MEMBER.at(
                unit.path, span,
                msg("'{where}' ({type}) has no attribute '{name}'{did_you_mean}; it has: {members}", where=where, type=owner.name, name=name, did_you_mean=did_you_mean(options),
                    members=Listing(n for n in _member_names(owner) if n != "session" and not _is_internal(owner, n))),
                fixes=fixes,
            )
        for call in unit.calls:
            res = call.resolved
            if res is None or not isinstance(res.member, Attr) or res.type is None:
                continue
            span = call.ref.name_spans[-1]
            if span is None:
                continue
            method = res.type.callable_via
            dotted = ".".join(("session", *call.ref.names))
            if method is not None:
                hint = ", ".join(f"{p.name}=..." for p in method.params if p.required)
                fixes = [Fix(msg("Call '{names}.invoke(...)'", names=call.ref.names[-1]), (TextEdit(unit.path, Span(span.end, span.end), ".invoke"),))]
                message = msg("'{dotted}' is not callable ({name}); use '{dotted}.invoke({hint})'", dotted=dotted, name=res.type.name, hint=hint)
            else:
                fixes = []
                names = Listing(m.name for m in res.type.methods)
                message = msg("'{dotted}' is not callable ({name}); call one of its methods: {names}", dotted=dotted, name=res.type.name, names=names)
            yield NOT_CALLABLE.at(unit.path, span, message, fixes=fixes)


def _is_internal(t: catalog.Type, name: str) -> bool:
    m = t.member(name)
    return isinstance(m, Attr) and m.internal


@check(UNKNOWN_KEYWORD, MISSING_ARGUMENT, TOO_MANY_POSITIONAL)
def session_call_arguments(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_of(ctx).units:
        for call in unit.calls:
            method = call.method
            span = call.ref.name_spans[-1] if call.ref.name_spans else None
            if method is None or span is None:
                continue
            dotted = ".".join(("session", *call.ref.names))
            has_star = any(a.starred for a in call.args)
            has_kwargs = any(a.double_starred for a in call.args)
            positional = [a for a in call.args if a.keyword is None and not a.starred and not a.double_starred]
            given: set[str] = set()
            if not has_star:
                for i, a in enumerate(positional):
                    if i >= len(method.positional):
                        yield TOO_MANY_POSITIONAL.at(
                            unit.path, a.span,
                            (msg("{dotted}() takes {count} positional argument ({names}) but {given} were given", dotted=dotted, count=len(method.positional), names=Listing(p.name for p in method.positional), given=len(positional))
                             if len(method.positional) == 1 else
                             msg("{dotted}() takes {count} positional arguments ({names}) but {given} were given", dotted=dotted, count=len(method.positional), names=Listing(p.name for p in method.positional), given=len(positional))),
                        )
                        break
                    given.add(method.positional[i].name)
            names = [p.name for p in method.params]
            for a in call.args:
                if a.keyword is None:
                    continue
                if a.keyword not in names:
                    options = suggest(a.keyword, [n for n in names if n not in given])
                    fixes = [Fix(msg("Change to '{o}'", o=o), (TextEdit(unit.path, a.keyword_span, o),), preferred=len(options) == 1) for o in options] if a.keyword_span else []
                    yield UNKNOWN_KEYWORD.at(
                        unit.path, a.keyword_span or a.span,
                        msg("{dotted}() got an unexpected keyword argument '{keyword}'{did_you_mean}; it takes: {names}", dotted=dotted, keyword=a.keyword, did_you_mean=did_you_mean(options), names=Listing(names)),
                        fixes=fixes,
                    )
                elif a.keyword in given:
                    yield TOO_MANY_POSITIONAL.at(unit.path, a.keyword_span or a.span, msg("{dotted}() got multiple values for argument '{keyword}'", dotted=dotted, keyword=a.keyword))
                else:
                    given.add(a.keyword)
            if has_star or has_kwargs:
                continue
            missing = [p.name for p in method.params if p.required and p.name not in given]
            if missing:
                message = (msg("{dotted}() is missing required arguments: {names} (signature: {signature})", dotted=dotted, names=Listing(missing), signature=method.signature())
                           if len(missing) > 1 else
                           msg("{dotted}() is missing required argument: {names} (signature: {signature})", dotted=dotted, names=Listing(missing), signature=method.signature()))
                if call.ref.names[-2:] == ("tool", "invoke") and "provider_type" in missing:
                    message = msg("{message}. For a built-in tool call {tools}.invoke_builtin_tool(provider, tool_name, parameters), or pass provider_type=ToolProviderType.BUILT_IN (from dify_plugin.entities.tool)", message=message, tools=".".join(("session", *call.ref.names[:-1])))
                yield MISSING_ARGUMENT.at(unit.path, span, message)


# -- model_config ----------------------------------------------------------------------------------------------


@check(DICT_MODEL_CONFIG)
def model_config_objects(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_of(ctx).units:
        params: dict[str, YamlParam] | None = None  # the tool YAMLs' parameters, read only when a call needs them
        for call in unit.calls:
            method = call.method
            if method is None:
                continue
            cfg_param = method.param("model_config")
            if cfg_param is None or cfg_param.config_class is None:
                continue
            arg = call.bind().get("model_config")
            if arg is None:
                continue
            node = arg.node
            what = None
            if isinstance(node, (pyscan.ast.Dict, pyscan.ast.DictComp)):
                what = "a dict"
            elif isinstance(node, pyscan.ast.Call) and isinstance(node.func, pyscan.ast.Name) and node.func.id == "dict":
                what = "a dict"
            elif arg.dict_var:
                what = msg("'{text}', a dict", text=arg.text)
            elif arg.param_key is not None:
                if params is None:
                    params = {}
                    for yf in python_of(ctx).tool_yamls_for(unit.path):
                        for p in yaml_params(ctx.read, yf, ctx.index.caches) or []:
                            params.setdefault(p.name, p)
                if arg.param_key in params and params[arg.param_key].type == "model-selector":
                    what = msg("the value of model-selector parameter '{param_key}' (a dict)", param_key=arg.param_key)
            if what is None:
                continue
            cls = catalog.CONFIG_CLASSES[cfg_param.config_class]
            dotted = ".".join(("session", *call.ref.names))
            edits = [TextEdit(unit.path, arg.span, f"{cls.name}(**{arg.text})")]
            if cls.name not in unit.scan.imports:
                at = Pos(unit.scan.import_insert_line, 0)
                edits.insert(0, TextEdit(unit.path, Span(at, at), f"from {cls.module} import {cls.name}\n"))
            yield DICT_MODEL_CONFIG.at(
                unit.path, arg.span,
                msg("{dotted}() needs model_config to be a {name}, not {what}: the SDK calls model_config.model_dump() and fails with AttributeError: 'dict' object has no attribute 'model_dump'. Wrap it: {name}(**...) (only llm and llm_structured_output accept a dict)", dotted=dotted, name=cls.name, what=what),
                fixes=[Fix(msg("Wrap in {name}(**...)", name=cls.name), tuple(edits))],
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNKNOWN_MEMBER, NOT_CALLABLE, UNKNOWN_KEYWORD, MISSING_ARGUMENT, TOO_MANY_POSITIONAL, DICT_MODEL_CONFIG)
CHECKS = (session_members_exist, session_call_arguments, model_config_objects)

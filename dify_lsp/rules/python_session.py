"""Plugin Python code (family "python", DL201-DL299).

Misuse of the reverse-invocation API (``self.session.*``, checked against
:mod:`dify_lsp.sdk.catalog`), ``tool_parameters`` reads against the tool
YAML, ``print()``, SDK version pins, and the class each
``extra.python.source`` must define.  The analysis of the code is
:func:`dify_lsp.pyscan.scan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from dify_lsp import pyscan
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import msg
from dify_lsp.index import ZERO_SPAN, Plugin, YamlFile, files_under, lookup
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.rules import python_syntax
from dify_lsp.rules.python_modules import ModuleGraph, PluginClass
from dify_lsp.schema.references import PYTHON, TOOL
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Attr
from dify_lsp.sdk.classes import SdkClass
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YMap, YScalar, YSeq

FAMILY = "python"

UNKNOWN_MEMBER = define_rule("DL201", "unknown-session-member", "An attribute of Dify's session (`self.session` in an SDK plugin class, `self.runtime.session` in triggers, a `Session` parameter, or an SDK invocation object built from it) that the SDK does not have, e.g. `self.session.model.embedding`: AttributeError at run time.", Severity.ERROR, FAMILY)
NOT_CALLABLE = define_rule("DL202", "session-object-not-callable", "Calling an invocation object instead of its method, e.g. `self.session.model.summary(...)` instead of `.summary.invoke(...)`.", Severity.ERROR, FAMILY)
UNKNOWN_KEYWORD = define_rule("DL203", "unknown-keyword-argument", "A keyword argument that the called session method does not take.", Severity.ERROR, FAMILY)
MISSING_ARGUMENT = define_rule("DL204", "missing-required-argument", "A call of a session method that leaves out a required argument.", Severity.ERROR, FAMILY)
TOO_MANY_POSITIONAL = define_rule("DL205", "too-many-positional-arguments", "A call of a session method with more positional arguments than it takes (or one given twice).", Severity.ERROR, FAMILY)
DICT_MODEL_CONFIG = define_rule("DL206", "model-config-dict", "A dict (or a model-selector value) passed as `model_config` where the SDK needs a *ModelConfig object (only llm and llm_structured_output accept a dict).", Severity.ERROR, FAMILY)
UNDECLARED_PARAMETER = define_rule("DL207", "undeclared-tool-parameter", "Code reads with `.get` a tool parameter that the tool's YAML does not declare: Dify never sends it, so the read always gives the default (None when none is given).", Severity.WARNING, FAMILY)
UNREAD_PARAMETER = define_rule("DL208", "unread-required-parameter", "A required parameter declared in the tool YAML that the tool's code never reads.", Severity.HINT, FAMILY)
PRINT_CALL = define_rule("DL209", "print-in-plugin", "`print()` to stdout in code the plugin runs (its entry point, the YAML-named sources and what they import): stdout carries the plugin protocol, so the daemon logs the line as an error and drops it.", Severity.WARNING, FAMILY)
NEWER_SDK = define_rule("DL210", "needs-newer-sdk", "A session member, method or argument that the oldest dify-plugin release the requirement allows (PEP 440, pre-releases included) does not have yet.", Severity.WARNING, FAMILY)
MISSING_CLASS = define_rule("DL211", "missing-plugin-class", "The module named by `extra.python.source` binds no subclass of the base the YAML needs (Tool, Endpoint, AgentStrategy, ...): the SDK fails to load the plugin with \"Missing subclass of ...\".", Severity.ERROR, FAMILY)
MULTIPLE_CLASSES = define_rule("DL212", "multiple-plugin-classes", "The module named by `extra.python.source` binds more than one subclass of the base (imported ones count): the SDK fails to load the plugin with \"Multiple subclasses of ...\".", Severity.ERROR, FAMILY)
PYTHON_SYNTAX = define_rule("DL213", "python-syntax-error", "A plugin Python file is not valid Python 3.12 (the plugin's runtime), so importing it fails and the plugin cannot load (a warning when the plugin never imports the file).", Severity.ERROR, FAMILY)
UNDECLARED_PARAMETER_KEY = define_rule("DL214", "undeclared-tool-parameter-key", "Code reads `tool_parameters[\"x\"]` where the tool's YAML declares no parameter `x`: Dify never sends it, so every run raises KeyError.", Severity.ERROR, FAMILY)

_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "dist", "build", ".dify"}
_MAX_EXTRA_FILES = 300


# -- which files ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class PyUnit:
    path: Path
    scan: pyscan.Scan
    refs: list[pyscan.SessionRef] = field(default_factory=list)  # the scan's chains that are Dify's session
    calls: list[pyscan.SessionCall] = field(default_factory=list)  # ... and their calls
    session_escapes: list[pyscan.SessionRef] = field(default_factory=list)  # ... handed to other code


def _extra_python_files(plugin: Plugin) -> list[Path]:
    """Python files of the plugin that no YAML names (helpers, shared modules); tests are left out."""
    return files_under(plugin.root, (".py",), max_depth=4, limit=_MAX_EXTRA_FILES, skip_dirs=_SKIP_DIRS, skip_prefixes=("test_",))


def sdk_source_file(ctx: CheckContext, path: Path) -> Path:
    """The file the SDK loads for an ``extra.python.source`` path: it strips the suffix and imports that
    module, so ``tools/search.yaml`` loads ``tools/search.py`` (or the package ``tools/search/``)."""
    if path.suffix == ".py":
        return path
    stem = path.with_suffix("")
    for cand in (stem.with_name(stem.name + ".py"), stem / "__init__.py"):
        if ctx.index.source.is_file(cand):
            return cand
    return path


def python_units(ctx: CheckContext) -> list[PyUnit]:
    """Every Python file of the plugin (referenced ones first), scanned; session chains kept only
    where the session is Dify's (see :func:`_is_dify_session`)."""

    def compute() -> list[PyUnit]:
        units: list[PyUnit] = []
        seen: set[Path] = set()
        for pf in ctx.plugin.python_files.values():
            path = sdk_source_file(ctx, pf.path)
            if path in seen:
                continue
            seen.add(path)
            text = pf.text if path == pf.path else ctx.index.source.read(path).text
            if path.suffix == ".py" and text is not None:
                units.append(PyUnit(path, pyscan.scan(text)))
        for path in _extra_python_files(ctx.plugin):
            if path in seen:
                continue
            ft = ctx.index.source.read(path)
            if ft.text is not None:
                units.append(PyUnit(path, pyscan.scan(ft.text)))
        graph = ModuleGraph(ctx.plugin.root, {u.path: u.scan for u in units})
        ctx.memo(("python_session", "graph"), lambda: graph)
        for unit in units:
            keep = {id(r.node) for r in unit.scan.refs if _is_dify_session(graph, unit, r)}
            unit.refs = [r for r in unit.scan.refs if id(r.node) in keep]
            unit.calls = [c for c in unit.scan.calls if id(c.ref.node) in keep]
            unit.session_escapes = [r for r in unit.scan.session_escapes if _is_dify_session(graph, unit, r)]
        return units

    return ctx.memo(("python_session", "units"), compute)


def module_graph(ctx: CheckContext) -> ModuleGraph:
    python_units(ctx)
    return ctx.memo(("python_session", "graph"), lambda: ModuleGraph(ctx.plugin.root, {}))


def entry_module(ctx: CheckContext) -> tuple[str, Span] | None:
    """``meta.runner.entrypoint`` of the manifest (the module the daemon runs with ``python -m``) and its span."""
    node, _ = lookup(ctx.plugin.manifest.root, ("meta", "runner", "entrypoint"))
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
        return node.value.strip(), node.span
    return None


def reachable_files(ctx: CheckContext) -> set[Path]:
    """The Python files the plugin runs: the entry point's module, every source the YAML names (the SDK
    imports them), and what those import within the plugin, transitively."""

    def compute() -> set[Path]:
        graph = module_graph(ctx)
        entry = entry_module(ctx)
        starts: list[Path] = []
        if entry is not None:
            for name in (entry[0], f"{entry[0]}.__main__"):
                hit = graph.by_module.get(name)
                if hit is not None:
                    starts.append(hit)
        starts.extend(sdk_source_file(ctx, p) for p in ctx.plugin.python_files)
        return graph.reachable(starts)

    return ctx.memo(("python_session", "reachable"), compute)


def _is_dify_session(graph: ModuleGraph, unit: PyUnit, ref: pyscan.SessionRef) -> bool:
    """Only Dify's session is judged: a parameter annotated with the SDK's Session, or ``self.session`` /
    ``self.runtime.session`` in a subclass of an SDK plugin class that keeps its session there (Tool,
    Endpoint, AgentStrategy and the datasources: ``self.session``; triggers and events: ``self.runtime.session``),
    unless a class of the plugin on the way assigns ``self.session`` itself (e.g. a requests session)."""
    if ref.root_kind == "param":
        return True
    if ref.class_name is None:
        return False
    access = tuple(ref.root_kind.split(".")[1:])
    for cls in unit.scan.classes:
        if cls.name != ref.class_name:
            continue
        anc = graph.ancestry(unit.path, cls)
        if any(pc.info.assigns_session for pc in anc.chain):
            return False
        if any(c.session == access for c in anc.sdk):
            return True
    return False


# -- session misuse ----------------------------------------------------------------------------------------


def _member_names(t: catalog.Type) -> list[str]:
    return [m.name for m in t.members(include_internal=True)]


@check(UNKNOWN_MEMBER, NOT_CALLABLE)
def session_members_exist(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
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
                    members=", ".join(n for n in _member_names(owner) if n != "session" and not _is_internal(owner, n))),
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
                names = ", ".join(m.name for m in res.type.methods)
                message = msg("'{dotted}' is not callable ({name}); call one of its methods: {names}", dotted=dotted, name=res.type.name, names=names)
            yield NOT_CALLABLE.at(unit.path, span, message, fixes=fixes)


def _is_internal(t: catalog.Type, name: str) -> bool:
    m = t.member(name)
    return isinstance(m, Attr) and m.internal


@check(UNKNOWN_KEYWORD, MISSING_ARGUMENT, TOO_MANY_POSITIONAL)
def session_call_arguments(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
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
                            (msg("{dotted}() takes {count} positional argument ({names}) but {given} were given", dotted=dotted, count=len(method.positional), names=', '.join(p.name for p in method.positional), given=len(positional))
                             if len(method.positional) == 1 else
                             msg("{dotted}() takes {count} positional arguments ({names}) but {given} were given", dotted=dotted, count=len(method.positional), names=', '.join(p.name for p in method.positional), given=len(positional))),
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
                        msg("{dotted}() got an unexpected keyword argument '{keyword}'{did_you_mean}; it takes: {names}", dotted=dotted, keyword=a.keyword, did_you_mean=did_you_mean(options), names=', '.join(names)),
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
                yield MISSING_ARGUMENT.at(
                    unit.path, span,
                    (msg("{dotted}() is missing required arguments: {names} (signature: {signature})", dotted=dotted, names=', '.join(missing), signature=method.signature())
                     if len(missing) > 1 else
                     msg("{dotted}() is missing required argument: {names} (signature: {signature})", dotted=dotted, names=', '.join(missing), signature=method.signature())),
                )


# -- model_config ----------------------------------------------------------------------------------------------


def _tool_yamls_for(ctx: CheckContext, path: Path) -> list[YamlFile]:
    """The tool YAMLs whose extra.python.source is ``path``."""

    def compute() -> dict[Path, list[YamlFile]]:
        by_target: dict[Path, list[YamlFile]] = {}
        for ref in ctx.plugin.refs:
            if ref.target is None or ref.target_kind != PYTHON or ref.key != ("extra", "python", "source"):
                continue
            yf = ctx.plugin.yaml_files.get(ref.owner)
            if yf is not None and yf.kind == TOOL:
                by_target.setdefault(ref.target, []).append(yf)
        return by_target

    return ctx.memo(("python_session", "tool_yamls"), compute).get(path, [])


@dataclass(slots=True)
class YamlParam:
    name: str
    type: str | None
    required: bool
    name_span: Span
    yaml: YamlFile
    scope: YScalar | None = None  # the `scope` value node, when it is a scalar


# yaml_params' reading of each tool YAML, per file: (the parse's root node, rows or None).  The index keeps
# one parse per unchanged text, so after an edit the other tools' parameters are not read again; one entry
# per file, replaced when its parse changes, so no old parse is kept alive.
_params_cache: dict[Path, tuple[YMap, list[tuple[str, str | None, bool, Span, YScalar | None]] | None]] = {}


def yaml_params(yf: YamlFile) -> list[YamlParam] | None:
    """The parameters a tool YAML declares; None when they cannot be known (not a list)."""
    root = yf.root  # also what tells an incremental run that the rule read this file
    if root is None:
        return None
    hit = _params_cache.get(yf.path)
    if hit is None or hit[0] is not root:
        rows = _param_rows(root)
        if len(_params_cache) >= 4096:
            _params_cache.clear()
        _params_cache[yf.path] = (root, rows)
    else:
        rows = hit[1]
    return None if rows is None else [YamlParam(name, ptype, req, span, yf, scope) for name, ptype, req, span, scope in rows]


def _param_rows(root: YMap) -> list[tuple[str, str | None, bool, Span, YScalar | None]] | None:
    node, _ = lookup(root, ("parameters",))
    if node is None or (isinstance(node, YScalar) and node.value is None):
        return []
    if not isinstance(node, YSeq):
        return None
    out: list[tuple[str, str | None, bool, Span, YScalar | None]] = []
    for item in node.items:
        if not isinstance(item, YMap):
            continue
        name = item.get("name")
        if not isinstance(name, YScalar) or not isinstance(name.value, str):
            continue
        ptype = item.get("type")
        req = item.get("required")
        scope = item.get("scope")
        out.append((name.value, ptype.value if isinstance(ptype, YScalar) and isinstance(ptype.value, str) else None,
                    isinstance(req, YScalar) and req.value is True, name.span,
                    scope if isinstance(scope, YScalar) else None))
    return out


def _runtime_parameters(yf: YamlFile) -> bool:
    node, _ = lookup(yf.root, ("has_runtime_parameters",))
    return isinstance(node, YScalar) and node.value is True


@check(DICT_MODEL_CONFIG)
def model_config_objects(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        params: dict[str, YamlParam] = {}
        for yf in _tool_yamls_for(ctx, unit.path):
            for p in yaml_params(yf) or []:
                params.setdefault(p.name, p)
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
            elif arg.param_key is not None and arg.param_key in params and params[arg.param_key].type == "model-selector":
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


# -- tool parameters ----------------------------------------------------------------------------------------------


@check(UNDECLARED_PARAMETER, UNDECLARED_PARAMETER_KEY, UNREAD_PARAMETER)
def tool_parameters_match_yaml(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        yamls = _tool_yamls_for(ctx, unit.path)
        if not yamls or not unit.scan.invokes:
            continue
        declared: dict[str, YamlParam] = {}
        known = True
        for yf in yamls:
            got = yaml_params(yf)
            if got is None or _runtime_parameters(yf):
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
        first_yaml = yamls[0]
        params_key = first_yaml.root.pair("parameters") if first_yaml.root else None
        related_span = params_key.key.span if params_key else ZERO_SPAN
        for inv in invokes:
            for read in inv.reads:
                if read.key in declared or read.how == "in":
                    continue
                options = suggest(read.key, names)
                fixes = [Fix(msg("Change to '{o}'", o=o), (TextEdit(unit.path, read.inner, o),), preferred=len(options) == 1) for o in options] if read.inner else []
                listed = ", ".join(f"'{n}'" for n in names) or "none"
                if read.how == "get":
                    rule = UNDECLARED_PARAMETER
                    outcome = (msg("Dify never sends it, so this is always the default, {default}.", default=read.default) if read.default is not None
                               else msg("Dify never sends it, so this is always None."))
                else:
                    rule = UNDECLARED_PARAMETER_KEY
                    outcome = msg("Dify never sends it, so this raises KeyError: '{key}' on every run.", key=read.key)
                yield rule.at(
                    unit.path, read.span,
                    msg("tool parameter '{key}' is not declared in {path}{did_you_mean}; declared parameters: {listed}. {outcome}", key=read.key, path=ctx.plugin.relative(first_yaml.path), did_you_mean=did_you_mean(options), listed=listed, outcome=outcome),
                    related=[Related(first_yaml.path, related_span, msg("the tool's parameters"))],
                    fixes=fixes,
                )
        if any(inv.escapes for inv in invokes):
            continue
        read_keys = {r.key for inv in invokes for r in inv.reads}
        inv = invokes[0]
        for p in declared.values():
            if p.required and p.name not in read_keys:
                yield UNREAD_PARAMETER.at(
                    p.yaml.path, p.name_span,
                    msg("required parameter '{name}' is never read by {path} ({class_name}._invoke reads: {value})", name=p.name, path=ctx.plugin.relative(unit.path), class_name=inv.class_name, value=', '.join(sorted(read_keys)) or 'nothing'),
                    related=[Related(unit.path, inv.param_span, msg("{class_name}._invoke's parameters", class_name=inv.class_name))],
                )


# -- print ------------------------------------------------------------------------------------------------------------


@check(PRINT_CALL)
def no_print(ctx: CheckContext) -> Iterator[Finding]:
    runs = reachable_files(ctx)
    for unit in python_units(ctx):
        if unit.path not in runs:
            continue  # scripts the plugin never imports print to their own stdout
        for span in unit.scan.prints:
            yield PRINT_CALL.at(
                unit.path, span,
                msg("print() writes to stdout, which carries the plugin's protocol: the daemon logs the line as an error "
                "(\"invalid character ... looking for beginning of value\") and drops it, so the text is lost. Log instead: "
                "logging.getLogger(__name__) with logger.addHandler(dify_plugin.config.logger_format.plugin_logger_handler)"),
            )


# -- syntax -------------------------------------------------------------------------------------------------------------


@check(PYTHON_SYNTAX)
def python_parses(ctx: CheckContext) -> Iterator[Finding]:
    broken = [u for u in python_units(ctx) if u.scan.syntax_error is not None]
    if not broken:
        return
    # The running Python may be older than the plugin's 3.12: let a 3.12 confirm (see python_syntax).
    confirmed = None if python_syntax.running_python_decides() else python_syntax.verdicts([u.scan.text for u in broken], ctx.plugin.root)
    runs = reachable_files(ctx)
    for unit in broken:
        err = unit.scan.syntax_error if confirmed is None else confirmed.get(unit.scan.text)
        if err is None or err == "unknown":
            continue
        line, message = err
        lines = unit.scan.text.split("\n")
        line = min(line, len(lines) - 1)
        text = lines[line]
        start = len(text) - len(text.lstrip())
        if unit.path in runs:
            yield PYTHON_SYNTAX.at(unit.path, Span(Pos(line, start), Pos(line, len(text.rstrip()))),
                                   msg("Python 3.12 syntax error: {message}; importing this file fails, so the plugin cannot load", message=message))
        else:
            yield PYTHON_SYNTAX.at(unit.path, Span(Pos(line, start), Pos(line, len(text.rstrip()))),
                                   msg("Python 3.12 syntax error: {message} (the plugin does not import this file, so it still loads)", message=message),
                                   severity=Severity.WARNING)


# -- the class behind extra.python.source ----------------------------------------------------------------------------


@dataclass(slots=True)
class LoadedClass:
    """What the SDK's class loader finds in the module an ``extra.python.source`` names."""

    ref: object  # the PathRef
    path: Path  # the Python file
    expected: tuple[str, ...]  # the SDK base(s) the loader looks for
    matching: list[PluginClass | SdkClass]
    uncertain: bool  # some class in the module could not be followed: there may be more
    others: list[tuple[PluginClass, set[str]]] = field(default_factory=list)  # own classes of other SDK bases


def _source_expectations(ctx: CheckContext):
    """(ref, file, expected bases) for each YAML-named source whose class the SDK loads with one parent type."""
    for ref in ctx.plugin.refs:
        if ref.target_kind != PYTHON or ref.target is None or not ref.exists:
            continue
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if owner is None:
            continue
        if ref.key == ("subscription_constructor", "extra", "python", "source"):
            expected: tuple[str, ...] = (catalog.SUBSCRIPTION_CONSTRUCTOR_BASE,)
        elif ref.key[-1] == "source" or ref.key[-1] == "provider_source":
            expected = catalog.YAML_KIND_BASES.get(owner.kind, ())
        else:
            continue
        if expected:
            yield ref, sdk_source_file(ctx, ref.target), expected


def loaded_classes(ctx: CheckContext) -> list[LoadedClass]:
    def compute() -> list[LoadedClass]:
        graph = module_graph(ctx)
        out: list[LoadedClass] = []
        for ref, path, expected in _source_expectations(ctx):
            scan = graph.scans.get(path)
            if scan is None or not scan.parsed or scan.syntax_error is not None:
                continue
            classes, star = graph.namespace_classes(path)
            matching: list[PluginClass | SdkClass] = []
            others: list[tuple[PluginClass, set[str]]] = []
            uncertain = star
            for c in classes:
                if isinstance(c, SdkClass):
                    if c.name not in expected and set(c.kinds) & set(expected):
                        matching.append(c)
                    continue
                anc = graph.ancestry(c.path, c.info)
                if anc.kinds & set(expected):
                    matching.append(c)
                elif anc.unknown:
                    uncertain = True
                elif anc.sdk and c.path == path:
                    others.append((c, {k.name for k in anc.sdk}))
            out.append(LoadedClass(ref, path, expected, matching, uncertain, others))
        return out

    return ctx.memo(("python_session", "loaded"), compute)


def _class_label(c: PluginClass | SdkClass, ctx: CheckContext, here: Path) -> str:
    if isinstance(c, SdkClass):
        return msg("{name} (imported from the SDK)", name=c.name)
    return c.info.name if c.path == here else msg("{name} (imported from {path})", name=c.info.name, path=ctx.plugin.relative(c.path))


@check(MISSING_CLASS, MULTIPLE_CLASSES)
def source_defines_the_class(ctx: CheckContext) -> Iterator[Finding]:
    for lc in loaded_classes(ctx):
        ref = lc.ref
        want = " or ".join(lc.expected)
        rel = ctx.plugin.relative(lc.path)
        if not lc.matching:
            if lc.uncertain:
                continue
            extra = f" ({', '.join(f'{c.info.name} subclasses {sorted(r)[0]}' for c, r in lc.others)})" if lc.others else ""
            yield MISSING_CLASS.at(
                ref.owner, ref.span,
                msg('{rel} defines no subclass of {want}{extra}; the SDK fails to load the plugin with "Missing subclass of {expected}"', rel=rel, want=want, extra=extra, expected=lc.expected[0]),
                related=[Related(c.path, c.info.name_span, msg("{name} subclasses {names}", name=c.info.name, names=', '.join(sorted(r)))) for c, r in lc.others],
            )
        elif len(lc.matching) > 1:
            names = ", ".join(_class_label(c, ctx, lc.path) for c in lc.matching)
            own = [c for c in lc.matching if isinstance(c, PluginClass) and c.path == lc.path]
            anchors = own[1:] if len(own) > 1 else own[:1]
            message = (msg('{rel} holds more than one subclass of {want} ({names}); the SDK finds every subclass bound in the module, imported ones included, and fails to load the plugin with "Multiple subclasses of {expected}"', rel=rel, want=want, names=names, expected=lc.expected[0]))
            if not anchors:
                yield MULTIPLE_CLASSES.at(ref.owner, ref.span, message)
            for c in anchors:
                yield MULTIPLE_CLASSES.at(lc.path, c.info.name_span, message, related=[Related(ref.owner, ref.span, msg("named here"))])


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNKNOWN_MEMBER, NOT_CALLABLE, UNKNOWN_KEYWORD, MISSING_ARGUMENT, TOO_MANY_POSITIONAL, DICT_MODEL_CONFIG, UNDECLARED_PARAMETER, UNREAD_PARAMETER, PRINT_CALL, NEWER_SDK, MISSING_CLASS, MULTIPLE_CLASSES, PYTHON_SYNTAX, UNDECLARED_PARAMETER_KEY)
CHECKS = (session_members_exist, session_call_arguments, model_config_objects, tool_parameters_match_yaml, no_print, python_parses, source_defines_the_class)

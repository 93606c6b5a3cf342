"""Plugin Python code (family "python", DL201-DL299).

Misuse of the reverse-invocation API (``self.session.*``, checked against
:mod:`dify_lsp.sdk.catalog`), ``tool_parameters`` reads against the tool
YAML, ``print()``, SDK version pins, and the class each
``extra.python.source`` must define.  The analysis of the code is
:func:`dify_lsp.pyscan.scan`.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dify_lsp import pyscan
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.index import ZERO_SPAN, Plugin, PythonFile, YamlFile, files_under, lookup
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.schema.references import PYTHON, TOOL
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Attr
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YMap, YScalar, YSeq

FAMILY = "python"

UNKNOWN_MEMBER = define_rule("DL201", "unknown-session-member", "An attribute of `self.session` (or of an object under it) that the SDK does not have, e.g. `self.session.model.embedding`.", Severity.ERROR, FAMILY)
NOT_CALLABLE = define_rule("DL202", "session-object-not-callable", "Calling an invocation object instead of its method, e.g. `self.session.model.summary(...)` instead of `.summary.invoke(...)`.", Severity.ERROR, FAMILY)
UNKNOWN_KEYWORD = define_rule("DL203", "unknown-keyword-argument", "A keyword argument that the called session method does not take.", Severity.ERROR, FAMILY)
MISSING_ARGUMENT = define_rule("DL204", "missing-required-argument", "A call of a session method that leaves out a required argument.", Severity.ERROR, FAMILY)
TOO_MANY_POSITIONAL = define_rule("DL205", "too-many-positional-arguments", "A call of a session method with more positional arguments than it takes (or one given twice).", Severity.ERROR, FAMILY)
DICT_MODEL_CONFIG = define_rule("DL206", "model-config-dict", "A dict (or a model-selector value) passed as `model_config` where the SDK needs a *ModelConfig object (only llm and llm_structured_output accept a dict).", Severity.ERROR, FAMILY)
UNDECLARED_PARAMETER = define_rule("DL207", "undeclared-tool-parameter", "Code reads a tool parameter that the tool's YAML does not declare (it is always missing at run time).", Severity.WARNING, FAMILY)
UNREAD_PARAMETER = define_rule("DL208", "unread-required-parameter", "A required parameter declared in the tool YAML that the tool's code never reads.", Severity.HINT, FAMILY)
PRINT_CALL = define_rule("DL209", "print-in-plugin", "`print()` in plugin code writes to stdout, which carries the plugin protocol: the daemon fails to parse it.", Severity.WARNING, FAMILY)
NEWER_SDK = define_rule("DL210", "needs-newer-sdk", "A session member, method or argument that needs a newer dify-plugin than requirements.txt / pyproject.toml allows.", Severity.WARNING, FAMILY)
MISSING_CLASS = define_rule("DL211", "missing-plugin-class", "The file named by `extra.python.source` defines no subclass of the base the YAML needs (Tool, Endpoint, AgentStrategy, ...).", Severity.ERROR, FAMILY)
MULTIPLE_CLASSES = define_rule("DL212", "multiple-plugin-classes", "The file named by `extra.python.source` defines more than one subclass of the base; the SDK refuses to load it.", Severity.ERROR, FAMILY)
PYTHON_SYNTAX = define_rule("DL213", "python-syntax-error", "A plugin Python file does not parse, so the plugin cannot load.", Severity.ERROR, FAMILY)

_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "dist", "build", ".dify"}
_MAX_EXTRA_FILES = 300


# -- which files ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class PyUnit:
    path: Path
    scan: pyscan.Scan


def _extra_python_files(plugin: Plugin) -> list[Path]:
    """Python files of the plugin that no YAML names (helpers, shared modules); tests are left out."""
    return files_under(plugin.root, (".py",), max_depth=4, limit=_MAX_EXTRA_FILES, skip_dirs=_SKIP_DIRS, skip_prefixes=("test_",))


def python_units(ctx: CheckContext) -> list[PyUnit]:
    """Every Python file of the plugin (referenced ones first), scanned."""

    def compute() -> list[PyUnit]:
        units: list[PyUnit] = []
        seen: set[Path] = set()
        for pf in ctx.plugin.python_files.values():
            if pf.text is not None:
                units.append(PyUnit(pf.path, pyscan.scan(pf.text)))
            seen.add(pf.path)
        for path in _extra_python_files(ctx.plugin):
            if path in seen:
                continue
            ft = ctx.index.source.read(path)
            if ft.text is not None:
                units.append(PyUnit(path, pyscan.scan(ft.text)))
        return units

    return ctx.memo(("python_session", "units"), compute)


# -- session misuse ----------------------------------------------------------------------------------------


def _member_names(t: catalog.Type) -> list[str]:
    return [m.name for m in t.members(include_internal=True)]


@check(UNKNOWN_MEMBER, NOT_CALLABLE)
def session_members_exist(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        for ref in unit.scan.refs:
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
            fixes = [Fix(f"Change to '{o}'", (TextEdit(unit.path, span, o),), preferred=len(options) == 1) for o in options]
            yield UNKNOWN_MEMBER.at(
                unit.path, span,
                f"'{where}' ({owner.name}) has no attribute '{name}'{did_you_mean(options)}; it has: "
                + ", ".join(n for n in _member_names(owner) if n != "session" and not _is_internal(owner, n)),
                fixes=fixes,
            )
        for call in unit.scan.calls:
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
                fixes = [Fix(f"Call '{call.ref.names[-1]}.invoke(...)'", (TextEdit(unit.path, Span(span.end, span.end), ".invoke"),))]
                msg = f"'{dotted}' is not callable ({res.type.name}); use '{dotted}.invoke({hint})'"
            else:
                fixes = []
                names = ", ".join(m.name for m in res.type.methods)
                msg = f"'{dotted}' is not callable ({res.type.name}); call one of its methods: {names}"
            yield NOT_CALLABLE.at(unit.path, span, msg, fixes=fixes)


def _is_internal(t: catalog.Type, name: str) -> bool:
    m = t.member(name)
    return isinstance(m, Attr) and m.internal


@check(UNKNOWN_KEYWORD, MISSING_ARGUMENT, TOO_MANY_POSITIONAL)
def session_call_arguments(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        for call in unit.scan.calls:
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
                            f"{dotted}() takes {len(method.positional)} positional argument{'s' if len(method.positional) != 1 else ''} "
                            f"({', '.join(p.name for p in method.positional)}) but {len(positional)} were given",
                        )
                        break
                    given.add(method.positional[i].name)
            names = [p.name for p in method.params]
            for a in call.args:
                if a.keyword is None:
                    continue
                if a.keyword not in names:
                    options = suggest(a.keyword, [n for n in names if n not in given])
                    fixes = [Fix(f"Change to '{o}'", (TextEdit(unit.path, a.keyword_span, o),), preferred=len(options) == 1) for o in options] if a.keyword_span else []
                    yield UNKNOWN_KEYWORD.at(
                        unit.path, a.keyword_span or a.span,
                        f"{dotted}() got an unexpected keyword argument '{a.keyword}'{did_you_mean(options)}; "
                        f"it takes: {', '.join(names)}",
                        fixes=fixes,
                    )
                elif a.keyword in given:
                    yield TOO_MANY_POSITIONAL.at(unit.path, a.keyword_span or a.span, f"{dotted}() got multiple values for argument '{a.keyword}'")
                else:
                    given.add(a.keyword)
            if has_star or has_kwargs:
                continue
            missing = [p.name for p in method.params if p.required and p.name not in given]
            if missing:
                yield MISSING_ARGUMENT.at(
                    unit.path, span,
                    f"{dotted}() is missing required argument{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                    f"(signature: {method.signature()})",
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


def yaml_params(yf: YamlFile) -> list[YamlParam] | None:
    """The parameters a tool YAML declares; None when they cannot be known (not a list)."""
    root = yf.root
    if root is None:
        return None
    node, _ = lookup(root, ("parameters",))
    if node is None or (isinstance(node, YScalar) and node.value is None):
        return []
    if not isinstance(node, YSeq):
        return None
    out: list[YamlParam] = []
    for item in node.items:
        if not isinstance(item, YMap):
            continue
        name = item.get("name")
        if not isinstance(name, YScalar) or not isinstance(name.value, str):
            continue
        ptype = item.get("type")
        req = item.get("required")
        scope = item.get("scope")
        out.append(YamlParam(name.value, ptype.value if isinstance(ptype, YScalar) and isinstance(ptype.value, str) else None,
                             isinstance(req, YScalar) and req.value is True, name.span, yf,
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
        for call in unit.scan.calls:
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
            elif arg.param_key is not None and arg.param_key in params and params[arg.param_key].type == "model-selector":
                what = f"the value of model-selector parameter '{arg.param_key}' (a dict)"
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
                f"{dotted}() needs model_config to be a {cls.name}, not {what}: the SDK calls model_config.model_dump() "
                f"and fails with AttributeError: 'dict' object has no attribute 'model_dump'. Wrap it: {cls.name}(**...) "
                f"(only llm and llm_structured_output accept a dict)",
                fixes=[Fix(f"Wrap in {cls.name}(**...)", tuple(edits))],
            )


# -- tool parameters ----------------------------------------------------------------------------------------------


@check(UNDECLARED_PARAMETER, UNREAD_PARAMETER)
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
                fixes = [Fix(f"Change to '{o}'", (TextEdit(unit.path, read.inner, o),), preferred=len(options) == 1) for o in options] if read.inner else []
                listed = ", ".join(f"'{n}'" for n in names) or "none"
                yield UNDECLARED_PARAMETER.at(
                    unit.path, read.span,
                    f"tool parameter '{read.key}' is not declared in {ctx.plugin.relative(first_yaml.path)}{did_you_mean(options)}; "
                    f"declared parameters: {listed}. "
                    + ("It is always None here." if read.how == "get" else "This raises KeyError."),
                    related=[Related(first_yaml.path, related_span, "the tool's parameters")],
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
                    f"required parameter '{p.name}' is never read by {ctx.plugin.relative(unit.path)} "
                    f"({inv.class_name}._invoke reads: {', '.join(sorted(read_keys)) or 'nothing'})",
                    related=[Related(unit.path, inv.param_span, f"{inv.class_name}._invoke's parameters")],
                )


# -- print ------------------------------------------------------------------------------------------------------------


@check(PRINT_CALL)
def no_print(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        for span in unit.scan.prints:
            yield PRINT_CALL.at(
                unit.path, span,
                "print() writes to stdout, which carries the plugin's protocol messages: the daemon fails with "
                "\"invalid character ... looking for beginning of value\". Use logging with "
                "dify_plugin.config.logger_format.plugin_logger_handler, or yield self.create_log_message(...)",
            )


# -- syntax -------------------------------------------------------------------------------------------------------------


@check(PYTHON_SYNTAX)
def python_parses(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_units(ctx):
        err = unit.scan.syntax_error
        if err is None:
            continue
        line, message = err
        lines = unit.scan.text.split("\n")
        text = lines[line] if line < len(lines) else ""
        start = len(text) - len(text.lstrip())
        yield PYTHON_SYNTAX.at(unit.path, Span(Pos(line, start), Pos(line, len(text.rstrip()))), f"Python syntax error: {message}")


# -- SDK version --------------------------------------------------------------------------------------------------------

_REQ_NAME = re.compile(r"^\s*(dify[-_.]plugin)\s*(\[[^\]]*\])?\s*(.*)$", re.IGNORECASE)
_SPEC = re.compile(r"(===|==|~=|>=|>|\^|~)\s*v?(\d+(?:\.\d+)*)")


@dataclass(frozen=True, slots=True)
class Pin:
    path: Path
    span: Span
    minimum: str  # the oldest version the pin allows
    text: str


def _lower_bound(spec: str) -> str | None:
    best: tuple[int, ...] | None = None
    text = None
    for op, version in _SPEC.findall(spec):
        v = catalog.version_tuple(version)
        if best is None or v > best:
            best, text = v, version
    return text


def sdk_pin(ctx: CheckContext) -> Pin | None:
    def compute() -> Pin | None:
        req = ctx.plugin.root / "requirements.txt"
        ft = ctx.index.source.read(req)
        if ft.text is not None:
            for i, line in enumerate(ft.text.split("\n")):
                body = line.split("#", 1)[0]
                m = _REQ_NAME.match(body)
                if m:
                    low = _lower_bound(m.group(3))
                    if low:
                        return Pin(req, Span(Pos(i, 0), Pos(i, len(body.rstrip()))), low, body.strip())
        pp = ctx.plugin.root / "pyproject.toml"
        ft = ctx.index.source.read(pp)
        if ft.text is not None:
            for i, line in enumerate(ft.text.split("\n")):
                m = re.search(r"""["']?(dify[-_.]plugin)["']?\s*(?:=\s*["']([^"']*)["']|(?:\[[^\]]*\])?\s*([^"',]*))""", line, re.IGNORECASE)
                if m:
                    low = _lower_bound(m.group(2) or m.group(3) or "")
                    if low:
                        return Pin(pp, Span(Pos(i, 0), Pos(i, len(line.rstrip()))), low, line.strip())
        return None

    return ctx.memo(("python_session", "pin"), compute)


@check(NEWER_SDK)
def sdk_version_is_new_enough(ctx: CheckContext) -> Iterator[Finding]:
    pin = sdk_pin(ctx)
    if pin is None:
        return
    floor = catalog.version_tuple(pin.minimum)
    rel = ctx.plugin.relative(pin.path)
    related = [Related(pin.path, pin.span, f"the SDK pin: {pin.text}")]
    for unit in python_units(ctx):
        flagged: set[Span] = set()
        for ref in unit.scan.refs:
            for i, span in enumerate(ref.name_spans):
                if span is None or span in flagged:
                    continue
                res, n = catalog.resolve(ref.names[: i + 1])
                if res is None or n != i + 1 or res.member is None:
                    break
                since = res.member.since
                if catalog.version_tuple(since) > floor:
                    flagged.add(span)
                    yield NEWER_SDK.at(
                        unit.path, span,
                        f"'{'.'.join(('session', *ref.names[: i + 1]))}' needs dify-plugin >= {since}, but {rel} allows {pin.minimum}",
                        related=related,
                    )
                    break  # one finding per chain: its first too-new name
        for call in unit.scan.calls:
            method = call.method
            if method is None:
                continue
            for name, arg in call.bind().items():
                p = method.param(name)
                if p is None or p.since is None or catalog.version_tuple(p.since) <= floor:
                    continue
                span = arg.keyword_span or arg.span
                yield NEWER_SDK.at(
                    unit.path, span,
                    f"argument '{name}' of {method.name}() needs dify-plugin >= {p.since}, but {rel} allows {pin.minimum}",
                    related=related,
                )


# -- the class behind extra.python.source ----------------------------------------------------------------------------

_BUILTIN_NAMES = set(dir(builtins))


def _bases_reached(scan: pyscan.Scan, cls: pyscan.ClassInfo, depth: int = 0) -> tuple[set[str], bool]:
    """(SDK classes the class derives from, whether some base could not be followed)."""
    found: set[str] = set()
    unknown = False
    if depth > 10:
        return found, True
    for base in cls.bases:
        if not base:
            unknown = True
            continue
        first, _, rest = base.partition(".")
        local = scan.class_named(base) if "." not in base else None
        if local is not None and local is not cls:
            sub, unk = _bases_reached(scan, local, depth + 1)
            found |= sub
            unknown |= unk
            continue
        qual = scan.imports.get(first)
        if qual is not None:
            full = f"{qual}.{rest}" if rest else qual
            if full.startswith("dify_plugin"):
                found.add(full.rsplit(".", 1)[-1])
            else:
                unknown = True
        elif first not in _BUILTIN_NAMES:
            unknown = True
    return found, unknown


@check(MISSING_CLASS, MULTIPLE_CLASSES)
def source_defines_the_class(ctx: CheckContext) -> Iterator[Finding]:
    texts: dict[Path, PythonFile] = ctx.plugin.python_files
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
        if not expected:
            continue
        pf = texts.get(ref.target)
        if pf is None or pf.text is None:
            continue
        scan = pyscan.scan(pf.text)
        if not scan.parsed or scan.syntax_error is not None:
            continue
        matching: list[pyscan.ClassInfo] = []
        others: list[tuple[pyscan.ClassInfo, set[str]]] = []
        uncertain = False
        for cls in scan.classes:
            reached, unknown = _bases_reached(scan, cls)
            if reached & set(expected):
                matching.append(cls)
            elif unknown:
                uncertain = True
            elif reached:
                others.append((cls, reached))
        want = " or ".join(expected)
        rel = ctx.plugin.relative(ref.target)
        if not matching:
            if uncertain:
                continue
            related = [Related(ref.target, c.name_span, f"{c.name} subclasses {', '.join(sorted(r))}") for c, r in others]
            extra = f" ({', '.join(f'{c.name} subclasses {sorted(r)[0]}' for c, r in others)})" if others else ""
            yield MISSING_CLASS.at(
                ref.owner, ref.span,
                f"{rel} defines no subclass of {want}{extra}; the SDK fails with \"Missing subclass of {expected[0]}\"",
                related=related,
            )
        elif len(matching) > 1:
            for cls in matching[1:]:
                yield MULTIPLE_CLASSES.at(
                    ref.target, cls.name_span,
                    f"{rel} defines more than one subclass of {want} ({', '.join(c.name for c in matching)}); "
                    f"the SDK fails with \"Multiple subclasses of {expected[0]}\"",
                    related=[Related(ref.owner, ref.span, "named here")],
                )

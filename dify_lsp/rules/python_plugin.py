"""Whether the plugin's Python can start at all (family "python", DL210-DL213, DL215-DL217).

- DL211 / DL212: the module an ``extra.python.source`` names binds no subclass, or more than one, of the
  SDK base the YAML needs: the SDK's loader fails.
- DL213: a plugin Python file is not valid Python 3.12.

- DL215: a plugin class the SDK loads leaves an abstract method of its SDK base
  unimplemented (a Tool without ``_invoke``, an Endpoint overriding ``invoke``
  instead of ``_invoke`` ...): Python refuses to create the object.
- DL216: ``meta.runner.entrypoint`` names a module that does not exist: the
  daemon runs ``python -m <entrypoint>``, which fails with "No module named ...".
- DL217: the dependency file the daemon installs from (``pyproject.toml`` when
  present, else ``requirements.txt``) does not list dify-plugin: the plugin
  cannot import the SDK.

- DL210: a session member or argument newer than the oldest dify-plugin release
  the requirement allows (by PEP 440 and the SDK's release history in
  :mod:`dify_lsp.sdk.releases`), with the requirement read as the daemon reads
  the files (:func:`sdk_requirement`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dify_lsp.analysis.modules import PluginClass
from dify_lsp.analysis.plugin import (
    entry_module,
    loaded_classes,
    python_of,
    reachable_files,
)
from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.i18n import Listing, Message, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import CheckContext, check, define_rule, python_syntax
from dify_lsp.schema.model_provider import MODEL_CLASS_BASES
from dify_lsp.sdk import catalog, releases
from dify_lsp.sdk.classes import SDK_CLASSES, SdkClass
from dify_lsp.textpos import Pos, Span

FAMILY = "python"

NEWER_SDK = define_rule("DL210", "needs-newer-sdk", "A session member, method or argument used in Python code that the oldest dify-plugin release the requirement allows (PEP 440, pre-releases included) does not have yet.", Severity.WARNING, FAMILY)
MISSING_CLASS = define_rule("DL211", "missing-plugin-class", "The module that a YAML's `extra.python.source` names (reported at that name) binds no subclass of the base the YAML needs (Tool, Endpoint, AgentStrategy, ...): the SDK fails to load the plugin with \"Missing subclass of ...\".", Severity.ERROR, FAMILY)
MULTIPLE_CLASSES = define_rule("DL212", "multiple-plugin-classes", "The module that a YAML's `extra.python.source` names binds more than one subclass of the base (imported ones count; reported on the classes in the Python file): the SDK fails to load the plugin with \"Multiple subclasses of ...\".", Severity.ERROR, FAMILY)
PYTHON_SYNTAX = define_rule("DL213", "python-syntax-error", "A plugin Python file is not valid Python 3.12 (the plugin's runtime), so importing it fails and the plugin cannot load (a warning when the plugin never imports the file).", Severity.ERROR, FAMILY)
ABSTRACT_METHOD = define_rule("DL215", "abstract-method-not-implemented", "A plugin class in a Python file the SDK loads leaves an abstract method of its SDK base unimplemented (e.g. a Tool without `_invoke`, an Endpoint overriding `invoke` instead of `_invoke`): Python refuses to create it (\"Can't instantiate abstract class\").", Severity.ERROR, FAMILY)
ENTRYPOINT_MISSING = define_rule("DL216", "entrypoint-module-missing", "`meta.runner.entrypoint` in manifest.yaml names a module the plugin does not have: the daemon runs `python -m <entrypoint>`, which fails with \"No module named ...\".", Severity.ERROR, FAMILY)
SDK_NOT_REQUIRED = define_rule("DL217", "sdk-not-in-dependencies", "The dependency file the daemon installs from (pyproject.toml when present, else requirements.txt) does not list dify-plugin: the plugin fails at start-up with \"No module named 'dify_plugin'\".", Severity.ERROR, FAMILY)

_SDK_NAME = re.compile(r"^dify[-_.]plugin$", re.IGNORECASE)
_REQ_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


# -- the dify-plugin requirement ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdkRequirement:
    path: Path  # the dependency file the daemon installs from
    found: bool | None  # dify-plugin listed; None: cannot tell (dynamic dependencies, includes, unreadable TOML)
    specifier: str | None  # PEP 440 specifier of the dify-plugin requirement ("" = any version)
    span: Span  # the requirement's line, or the file start
    text: str  # the requirement as written


def _poetry_to_pep440(spec: str) -> str:
    """Poetry's ``^0.4.2`` / ``~0.4`` / ``0.4.*`` as a PEP 440 specifier."""
    spec = spec.strip()
    m = re.fullmatch(r"([\^~])\s*(\d+(?:\.\d+)*)", spec)
    if not m:
        return spec if re.match(r"[<>=!~]", spec) or spec in ("", "*") else f"=={spec}"
    parts = [int(x) for x in m.group(2).split(".")]
    if m.group(1) == "^":
        idx = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
    else:
        idx = 0 if len(parts) == 1 else 1
    upper = parts[: idx + 1]
    upper[-1] += 1
    return f">={m.group(2)},<{'.'.join(map(str, upper))}"


def _line_of(text: str, pattern: re.Pattern[str]) -> tuple[Span, str]:
    for i, line in enumerate(text.split("\n")):
        if pattern.search(line):
            return Span(Pos(i, len(line) - len(line.lstrip())), Pos(i, len(line.rstrip()))), line.strip()
    return ZERO_SPAN, ""


_SDK_IN_LINE = re.compile(r"dify[-_.]plugin(?![-_.\w])", re.IGNORECASE)


def _from_pyproject(path: Path, text: str) -> SdkRequirement:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return SdkRequirement(path, None, None, ZERO_SPAN, "")
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    if "dependencies" in (project.get("dynamic") or []):
        return SdkRequirement(path, None, None, ZERO_SPAN, "")
    deps = project.get("dependencies")
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies") if isinstance(data.get("tool"), dict) else None
    span, line = _line_of(text, _SDK_IN_LINE)
    if isinstance(deps, list):
        for dep in deps:
            if not isinstance(dep, str):
                continue
            m = _REQ_LINE.match(dep.split(";", 1)[0])
            if m and _SDK_NAME.match(m.group(1)):
                spec = m.group(3).strip()
                return SdkRequirement(path, True, None if spec.startswith("@") else spec, span, dep)
    if isinstance(poetry, dict):
        for name, value in poetry.items():
            if _SDK_NAME.match(name):
                spec = value if isinstance(value, str) else value.get("version") if isinstance(value, dict) else None
                return SdkRequirement(path, True, _poetry_to_pep440(spec) if isinstance(spec, str) else None, span, line)
    if not isinstance(deps, list) and not isinstance(poetry, dict):
        return SdkRequirement(path, None, None, ZERO_SPAN, "")  # no dependency table uv could read: not ours to judge
    return SdkRequirement(path, False, None, ZERO_SPAN, "")


def _from_requirements(path: Path, text: str) -> SdkRequirement:
    unknown = False
    for i, raw in enumerate(text.split("\n")):
        body = raw.split(" #", 1)[0].strip()
        if not body or body.startswith("#"):
            continue
        span = Span(Pos(i, len(raw) - len(raw.lstrip())), Pos(i, len(raw.rstrip())))
        if body.startswith("-"):
            if body.startswith(("-r", "--requirement", "-c", "--constraint")):
                unknown = True  # another file may list it
            elif _SDK_IN_LINE.search(body):
                return SdkRequirement(path, True, None, span, body)
            continue
        m = _REQ_LINE.match(body.split(";", 1)[0])
        if m and _SDK_NAME.match(m.group(1)):
            spec = m.group(3).strip()
            return SdkRequirement(path, True, None if spec.startswith("@") else spec, span, body)
        if "://" in body and _SDK_IN_LINE.search(body):
            return SdkRequirement(path, True, None, span, body)
    return SdkRequirement(path, None if unknown else False, None, ZERO_SPAN, "")


def sdk_requirement(ctx: CheckContext) -> SdkRequirement | None:
    """The dify-plugin requirement in the file the daemon installs from; None when there is no such file."""

    def compute(ctx: CheckContext) -> SdkRequirement | None:
        for name, parse in (("pyproject.toml", _from_pyproject), ("requirements.txt", _from_requirements)):
            path = ctx.plugin.root / name
            ft = ctx.read.file(path)
            if ft.text is not None:
                return parse(path, ft.text)
            if ft.exists:
                return SdkRequirement(path, None, None, ZERO_SPAN, "")
        return None

    return ctx.memo(("python_plugin", "requirement"), compute)


def _imports_sdk(ctx: CheckContext) -> bool:
    runs = reachable_files(ctx)
    return any(
        u.path in runs and any(imp.level == 0 and imp.module.split(".")[0] == "dify_plugin" for imp in u.scan.import_list)
        for u in python_of(ctx).units
    )


@check(SDK_NOT_REQUIRED)
def sdk_is_a_dependency(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.read.root(ctx.plugin.manifest) is None or not _imports_sdk(ctx):
        return
    req = sdk_requirement(ctx)
    # Neither file: the daemon refuses to install ("neither pyproject.toml nor requirements.txt found"), but a
    # folder without one is usually a checkout run by hand in the author's own environment: not reported.
    if req is None:
        return
    if req.found is False:
        other = msg("requirements.txt is not read when pyproject.toml exists; ") if req.path.name == "pyproject.toml" and ctx.read.exists(ctx.plugin.root / "requirements.txt") else ""
        yield SDK_NOT_REQUIRED.at(
            req.path, ZERO_SPAN,
            msg('{name} does not list dify-plugin, which the plugin imports: the daemon installs only what it lists ({other}uv {value}), so the plugin fails at start-up with "No module named \'dify_plugin\'"', name=req.path.name, other=other, value='sync' if req.path.name == 'pyproject.toml' else 'pip install -r'),
        )


# -- the entry point ----------------------------------------------------------------------------------


@check(ENTRYPOINT_MISSING)
def entrypoint_exists(ctx: CheckContext) -> Iterator[Finding]:
    entry = entry_module(ctx.read, ctx.plugin)
    if entry is None:
        return
    name, span = entry
    if not all(part.isidentifier() for part in name.split(".")):
        return  # a malformed value: the schema rules judge it
    base = ctx.plugin.root.joinpath(*name.split("."))
    if ctx.read.exists(base.with_name(base.name + ".py")) or ctx.read.exists(base / "__main__.py"):
        return
    # (a folder only appears on disk, and a disk change re-checks every rule)
    if ctx.read.exists(base / "__init__.py") or ctx.index.source.is_dir(base):
        message = (msg('\'{name}\' is a package without __main__.py: the daemon runs `python -m {name}`, which fails with "No module named {name}.__main__; \'{name}\' is a package and cannot be directly executed"', name=name))
    else:
        message = (msg('the plugin has no module \'{name}\' ({replace}.py): the daemon runs `python -m {name}` in the plugin folder, which fails with "No module named {name}"', name=name, replace=name.replace('.', '/')))
    yield ENTRYPOINT_MISSING.at(ctx.plugin.manifest.path, span, message)


# -- abstract methods -----------------------------------------------------------------------------------


def _missing_abstract(ctx: CheckContext, cls: PluginClass) -> tuple[list[str], str, set[str]] | None:
    """(abstract methods left unimplemented, the SDK base declaring them, methods the class chain defines)."""
    anc = python_of(ctx).graph.ancestry(cls.path, cls.info)
    if anc.unknown or not anc.sdk or any(pc.info.has_unknown_body for pc in anc.chain):
        return None
    defined: set[str] = set(anc.provided)
    for pc in anc.chain:
        defined.update(pc.info.methods)
    for sdk in anc.sdk:
        missing = [m for m in sdk.abstract if m not in defined]
        if missing:
            return missing, sdk.name, defined
    return None


@check(ABSTRACT_METHOD)
def abstract_methods_implemented(ctx: CheckContext) -> Iterator[Finding]:
    seen: set[tuple[Path, int]] = set()
    candidates: list[tuple[PluginClass, object]] = []
    for lc in loaded_classes(ctx):
        if len(lc.matching) == 1 and isinstance(lc.matching[0], PluginClass):
            candidates.append((lc.matching[0], lc.ref))
    # model sources: every model class defined there is registered by its model type
    graph = python_of(ctx).graph
    model_types = set(MODEL_CLASS_BASES.values())
    for ref in ctx.plugin.refs:
        if ref.key == ("extra", "python", "model_sources") and ref.target is not None and ref.target in graph.scans:
            for c in graph.scans[ref.target].classes:
                if c.top_level and not c.fallback and graph.ancestry(ref.target, c).kinds & model_types:
                    candidates.append((PluginClass(ref.target, c), ref))
    for cls, ref in candidates:
        key = (cls.path, cls.info.name_span.start.line)
        if key in seen:
            continue
        seen.add(key)
        found = _missing_abstract(ctx, cls)
        if found is None:
            continue
        missing, base, defined = found
        names = ", ".join(f"'{m}'" for m in missing)
        plural = "s" if len(missing) > 1 else ""
        hint = ""
        if "_invoke" in missing and "invoke" in defined:
            hint = msg(" It defines invoke, but the SDK's {base}.invoke calls _invoke: rename it to _invoke.", base=base)
        sdk = SDK_CLASSES[base]
        yield ABSTRACT_METHOD.at(
            cls.path, cls.info.name_span,
            msg('{name} does not implement {names}, abstract in {base}: Python refuses to create it ("Can\'t instantiate abstract class {name} without an implementation for abstract method{plural} {names}"), so {when_instantiated}.{hint}', name=cls.info.name, names=names, base=base, plural=plural, when_instantiated=Message(sdk.when_instantiated), hint=hint),
            related=[Related(ref.owner, ctx.read.span(ref), msg("loaded from here"))],
        )


# -- SDK version (DL210) --------------------------------------------------------------------------------


@check(NEWER_SDK)
def sdk_version_is_new_enough(ctx: CheckContext) -> Iterator[Finding]:
    req = sdk_requirement(ctx)
    if req is None or not req.found or req.specifier is None:
        return
    floor = releases.oldest_allowed(req.specifier or "")
    if floor is None:
        return
    rel = ctx.plugin.relative(req.path)
    related = [Related(req.path, req.span, msg("the SDK requirement: {text}", text=req.text))]

    def too_new(first: str | None) -> bool:
        return first is not None and releases.older(floor, first)

    for unit in python_of(ctx).units:
        flagged: set[Span] = set()
        for ref in unit.refs:
            for i, span in enumerate(ref.name_spans):
                if span is None or span in flagged:
                    continue
                res, n = catalog.resolve(ref.names[: i + 1])
                if res is None or n != i + 1 or res.member is None:
                    break
                first = releases.first_release(ref.names[: i + 1])
                if too_new(first):
                    flagged.add(span)
                    yield NEWER_SDK.at(
                        unit.path, span,
                        msg("'{names}' first appeared in dify-plugin {first}, but {rel} allows {floor}, which does not have it (AttributeError there)", names='.'.join(('session', *ref.names[: i + 1])), first=first, rel=rel, floor=floor),
                        related=related,
                    )
                    break  # one finding per chain: its first too-new name
        for call in unit.calls:
            method = call.method
            if method is None:
                continue
            for name, arg in call.bind().items():
                first = releases.first_release(call.ref.names, name)
                if not too_new(first) or too_new(releases.first_release(call.ref.names)):
                    continue
                yield NEWER_SDK.at(
                    unit.path, arg.keyword_span or arg.span,
                    msg("argument '{name}' of {name2}() first appeared in dify-plugin {first}, but {rel} allows {floor}, which does not take it (TypeError there)", name=name, name2=method.name, first=first, rel=rel, floor=floor),
                    related=related,
                )


# -- syntax -------------------------------------------------------------------------------------------------------------


@check(PYTHON_SYNTAX)
def python_parses(ctx: CheckContext) -> Iterator[Finding]:
    broken = [u for u in python_of(ctx).units if u.scan.syntax_error is not None]
    if not broken:
        return
    # The running Python may be older than the plugin's 3.12: let a 3.12 confirm (see python_syntax).
    confirmed = None if python_syntax.running_python_decides() else python_syntax.verdicts([u.scan.text for u in broken], ctx.plugin.root, ctx.index.caches)
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


def _class_label(c: PluginClass | SdkClass, ctx: CheckContext, here: Path) -> str:
    if isinstance(c, SdkClass):
        return msg("{name} (imported from the SDK)", name=c.name)
    return c.info.name if c.path == here else msg("{name} (imported from {path})", name=c.info.name, path=ctx.plugin.relative(c.path))


@check(MISSING_CLASS, MULTIPLE_CLASSES)
def source_defines_the_class(ctx: CheckContext) -> Iterator[Finding]:
    for lc in loaded_classes(ctx):
        ref = lc.ref
        want = Listing(lc.expected, last="or")
        rel = ctx.plugin.relative(lc.path)
        if not lc.matching:
            if lc.uncertain:
                continue
            others = Listing(msg("{name} subclasses {names}", name=c.info.name, names=sorted(r)[0]) for c, r in lc.others)
            yield MISSING_CLASS.at(
                ref.owner, ctx.read.span(ref),
                msg('{rel} defines no subclass of {want} ({others}); the SDK fails to load the plugin with "Missing subclass of {expected}"', rel=rel, want=want, others=others, expected=lc.expected[0])
                if lc.others else msg('{rel} defines no subclass of {want}; the SDK fails to load the plugin with "Missing subclass of {expected}"', rel=rel, want=want, expected=lc.expected[0]),
                related=[Related(c.path, c.info.name_span, msg("{name} subclasses {names}", name=c.info.name, names=Listing(sorted(r)))) for c, r in lc.others],
            )
        elif len(lc.matching) > 1:
            names = Listing(_class_label(c, ctx, lc.path) for c in lc.matching)
            own = [c for c in lc.matching if isinstance(c, PluginClass) and c.path == lc.path]
            anchors = own[1:] if len(own) > 1 else own[:1]
            message = (msg('{rel} holds more than one subclass of {want} ({names}); the SDK finds every subclass bound in the module, imported ones included, and fails to load the plugin with "Multiple subclasses of {expected}"', rel=rel, want=want, names=names, expected=lc.expected[0]))
            if not anchors:
                yield MULTIPLE_CLASSES.at(ref.owner, ctx.read.span(ref), message)
            for c in anchors:
                yield MULTIPLE_CLASSES.at(lc.path, c.info.name_span, message, related=[Related(ref.owner, ctx.read.span(ref), msg("named here"))])


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (NEWER_SDK, MISSING_CLASS, MULTIPLE_CLASSES, PYTHON_SYNTAX, ABSTRACT_METHOD, ENTRYPOINT_MISSING, SDK_NOT_REQUIRED)
CHECKS = (sdk_is_a_dependency, entrypoint_exists, abstract_methods_implemented, sdk_version_is_new_enough, python_parses, source_defines_the_class)

"""One plugin's Python, analysed once per check run: every module's scan, the import graph, which
files run, which tool YAMLs each source serves, and the classes the SDK loads.

Rules and editor features read this; none of them computes its own version.  The functions taking a
``ctx`` accept anything with ``plugin``, ``index``, ``read`` (the reader that records what a rule read)
and ``memo(key, compute)`` (the rules' CheckContext): each result is computed by one memo entry that
computes what it needs itself, through the context ``compute`` is given, so the order in which rules ask
does not matter and every rule that uses a result counts its reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dify_lsp import pyscan
from dify_lsp.analysis.modules import ModuleGraph, PluginClass
from dify_lsp.caches import Caches
from dify_lsp.index import Plugin, PluginIndex, Reader, YamlFile, files_under, lookup
from dify_lsp.schema.references import MODEL_PROVIDER, PYTHON, TOOL, TOOL_PROVIDER
from dify_lsp.sdk import catalog
from dify_lsp.sdk.classes import SdkClass
from dify_lsp.textpos import Span
from dify_lsp.yamlpos import YMap, YScalar, YSeq

_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "dist", "build", ".dify"}
_MAX_EXTRA_FILES = 300


class AnalysisContext(Protocol):
    plugin: Plugin
    index: PluginIndex
    read: Reader

    def memo(self, key: Any, compute: Any) -> Any: ...


@dataclass(slots=True)
class PyUnit:
    """One Python file of the plugin with its scan, and the parts of the scan that are Dify's session."""

    path: Path
    scan: pyscan.Scan
    refs: list[pyscan.SessionRef] = field(default_factory=list)  # the scan's chains that are Dify's session
    calls: list[pyscan.SessionCall] = field(default_factory=list)  # ... and their calls
    session_escapes: list[pyscan.SessionRef] = field(default_factory=list)  # ... handed to other code


@dataclass(slots=True)
class PluginPython:
    units: list[PyUnit]
    graph: ModuleGraph
    tool_yamls: dict[Path, list[YamlFile]]  # python file -> the tool YAMLs whose extra.python.source it is

    def unit(self, path: Path) -> PyUnit | None:
        for u in self.units:
            if u.path == path:
                return u
        return None

    def tool_yamls_for(self, path: Path) -> list[YamlFile]:
        return self.tool_yamls.get(path, [])


def sdk_source_file(read: Reader, path: Path) -> Path:
    """The file the SDK loads for an ``extra.python.source`` path: it strips the suffix and imports that
    module, so ``tools/search.yaml`` loads ``tools/search.py`` (or the package ``tools/search/``)."""
    if path.suffix == ".py":
        return path
    stem = path.with_suffix("")
    for cand in (stem.with_name(stem.name + ".py"), stem / "__init__.py"):
        if read.exists(cand):
            return cand
    return path


def _extra_python_files(plugin: Plugin) -> list[Path]:
    """Python files of the plugin that no YAML names (helpers, shared modules); tests are left out."""
    return files_under(plugin.root, (".py",), max_depth=4, limit=_MAX_EXTRA_FILES, skip_dirs=_SKIP_DIRS, skip_prefixes=("test_",))


def analyse(plugin: Plugin, index: PluginIndex, read: Reader) -> PluginPython:
    """Every Python file of the plugin (referenced ones first), scanned; session chains kept only where
    the session is Dify's (see :func:`is_dify_session`)."""
    units: list[PyUnit] = []
    seen: set[Path] = set()
    for pf in plugin.python_files.values():
        path = sdk_source_file(read, pf.path)
        if path in seen:
            continue
        seen.add(path)
        text = read.text(pf) if path == pf.path else read.file(path).text
        if path.suffix == ".py" and text is not None:
            units.append(PyUnit(path, pyscan.scan_file(path, text, index.caches)))
    for path in _extra_python_files(plugin):
        if path in seen:
            continue
        ft = read.file(path)
        if ft.text is not None:
            units.append(PyUnit(path, pyscan.scan_file(path, ft.text, index.caches)))
    graph = ModuleGraph(plugin.root, {u.path: u.scan for u in units})
    for unit in units:
        keep = {id(r.node) for r in unit.scan.refs if is_dify_session(graph, unit, r)}
        unit.refs = [r for r in unit.scan.refs if id(r.node) in keep]
        unit.calls = [c for c in unit.scan.calls if id(c.ref.node) in keep]
        unit.session_escapes = [r for r in unit.scan.session_escapes if is_dify_session(graph, unit, r)]
    return PluginPython(units, graph, tool_yamls_by_source(plugin))


def tool_yamls_by_source(plugin: Plugin) -> dict[Path, list[YamlFile]]:
    """Python file -> the tool YAMLs whose ``extra.python.source`` names it (several tools may share one)."""
    tool_yamls: dict[Path, list[YamlFile]] = {}
    for ref in plugin.refs:
        if ref.target is None or ref.target_kind != PYTHON or ref.key != ("extra", "python", "source"):
            continue
        yf = plugin.yaml_files.get(ref.owner)
        if yf is not None and yf.kind == TOOL:
            tool_yamls.setdefault(ref.target, []).append(yf)
    return tool_yamls


def is_dify_session(graph: ModuleGraph, unit: PyUnit, ref: pyscan.SessionRef) -> bool:
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


# -- what a check run asks for (memoized per run) ---------------------------------------------------


def python_of(ctx: AnalysisContext) -> PluginPython:
    """The plugin's Python, analysed once per check run."""
    return ctx.memo(("analysis", "python"), lambda ctx: analyse(ctx.plugin, ctx.index, ctx.read))


def entry_module(read: Reader, plugin: Plugin) -> tuple[str, Span] | None:
    """``meta.runner.entrypoint`` of the manifest (the module the daemon runs with ``python -m``) and its span."""
    node, _ = lookup(read.root(plugin.manifest), ("meta", "runner", "entrypoint"))
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
        return node.value.strip(), node.span
    return None


def reachable_files(ctx: AnalysisContext) -> set[Path]:
    """The Python files the plugin runs: the entry point's module, every source the YAML names (the SDK
    imports them), and what those import within the plugin, transitively."""

    def compute(ctx: AnalysisContext) -> set[Path]:
        graph = python_of(ctx).graph
        entry = entry_module(ctx.read, ctx.plugin)
        starts: list[Path] = []
        if entry is not None:
            for name in (entry[0], f"{entry[0]}.__main__"):
                hit = graph.by_module.get(name)
                if hit is not None:
                    starts.append(hit)
        starts.extend(sdk_source_file(ctx.read, p) for p in ctx.plugin.python_files)
        return graph.reachable(starts)

    return ctx.memo(("analysis", "reachable"), compute)


# -- the class behind extra.python.source ---------------------------------------------------------


@dataclass(slots=True)
class LoadedClass:
    """What the SDK's class loader finds in the module an ``extra.python.source`` names."""

    ref: object  # the PathRef
    path: Path  # the Python file
    expected: tuple[str, ...]  # the SDK base(s) the loader looks for
    matching: list[PluginClass | SdkClass]
    uncertain: bool  # some class in the module could not be followed: there may be more
    others: list[tuple[PluginClass, set[str]]] = field(default_factory=list)  # own classes of other SDK bases


def _source_expectations(ctx: AnalysisContext):
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
            yield ref, sdk_source_file(ctx.read, ref.target), expected


def loaded_classes(ctx: AnalysisContext) -> list[LoadedClass]:
    def compute(ctx: AnalysisContext) -> list[LoadedClass]:
        graph = python_of(ctx).graph
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

    return ctx.memo(("analysis", "loaded"), compute)


# -- tool YAML parameters -----------------------------------------------------------------------------


@dataclass(slots=True)
class YamlParam:
    name: str
    type: str | None
    required: bool
    name_span: Span
    yaml: YamlFile
    scope: YScalar | None = None  # the `scope` value node, when it is a scalar


def yaml_params(read: Reader, yf: YamlFile, caches: Caches) -> list[YamlParam] | None:
    """The parameters a tool YAML declares; None when they cannot be known (not a list).  Each file's reading
    is kept in ``caches.yaml_params`` with the parse it came from: the index keeps one parse per unchanged
    text, so after an edit the other tools' parameters are not read again."""
    root = read.root(yf)
    if root is None:
        return None
    hit = caches.yaml_params.get(yf.path)
    if hit is None or hit[0] is not root:
        rows = _param_rows(root)
        caches.yaml_params.put(yf.path, (root, rows))
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


def runtime_parameters(read: Reader, yf: YamlFile) -> bool:
    """The tool YAML says its parameters are given at run time (``has_runtime_parameters: true``)."""
    node, _ = lookup(read.root(yf), ("has_runtime_parameters",))
    return isinstance(node, YScalar) and node.value is True


# -- which code runs ----------------------------------------------------------------------------------


def _configurate_methods(read: Reader, provider: YamlFile) -> list[str] | None:
    node, _ = lookup(read.root(provider), ("configurate_methods",))
    if not isinstance(node, YSeq):
        return None
    return [i.value for i in node.items if isinstance(i, YScalar) and isinstance(i.value, str)]


def _declares_no_credentials(read: Reader, provider: YamlFile) -> bool:
    """A tool provider with no credentials to fill in (no form, no OAuth): Dify never asks it to validate any."""
    root = read.root(provider)
    if root is None:
        return False
    for key in ("credentials_for_provider", "credentials_schema", "oauth_schema"):
        node = root.get(key)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            continue
        if isinstance(node, (YMap, YSeq)) and not (node.pairs if isinstance(node, YMap) else node.items):
            continue
        return False
    return True


def never_called_hooks(ctx: AnalysisContext) -> set[tuple[Path, str, str]]:
    """(file, class, method) of SDK hooks that Dify never calls for this plugin's configuration:

    - ``get_customizable_model_schema`` of the model classes of a provider whose ``configurate_methods`` lacks
      ``customizable-model``: its models are the predefined ones, which the SDK's ``get_model_schema`` finds
      before it would ask the customizable schema;
    - ``_validate_credentials`` of a tool provider that declares no credentials (no form, no OAuth): there is
      nothing for the user to save, so nothing to validate."""
    out: set[tuple[Path, str, str]] = set()
    graph = python_of(ctx).graph
    for ref in ctx.plugin.refs:
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if owner is None or ref.target is None or ref.target_kind != PYTHON:
            continue
        if owner.kind == MODEL_PROVIDER and ref.key == ("extra", "python", "model_sources"):
            methods = _configurate_methods(ctx.read, owner)
            if methods is None or "customizable-model" in methods:
                continue
            hook = "get_customizable_model_schema"
        elif owner.kind == TOOL_PROVIDER and ref.key == ("extra", "python", "source") and _declares_no_credentials(ctx.read, owner):
            hook = "_validate_credentials"
        else:
            continue
        path = sdk_source_file(ctx.read, ref.target)
        scan = graph.scans.get(path)
        for cls in scan.classes if scan is not None else ():
            out.add((path, cls.name, hook))
    return out


def unreachable_functions(ctx: AnalysisContext) -> dict[Path, set[int]]:
    """Per file the plugin runs, the functions (indexes into ``Scan.functions``) nothing runs.

    What runs: the code run on import (module and class bodies; the entry module's ``__main__`` block), the
    methods Dify or the SDK call (every method of a class deriving from an SDK base, or from a base that cannot
    be followed, that its own class does not call as ``self.<name>``, i.e. is not one of its helpers; minus
    :func:`never_called_hooks`), decorated functions and dunder methods, and, transitively, every function whose
    name code that runs refers to (any attribute or name of that spelling counts), with the functions defined
    inside it.  A function calling getattr() with a computed name may call anything in its module."""

    def compute(ctx: AnalysisContext) -> dict[Path, set[int]]:
        py = python_of(ctx)
        graph = py.graph
        runs = reachable_files(ctx)
        hooks = never_called_hooks(ctx)
        units = [u for u in py.units if u.path in runs]
        entry = entry_module(ctx.read, ctx.plugin)
        entry_paths = {graph.by_module.get(n) for n in ((entry[0], f"{entry[0]}.__main__") if entry else ())}
        helpers: dict[tuple[Path, str], set[str]] = {}  # (file, class) -> the names its methods call on self
        for u in units:
            for f in u.scan.functions:
                if f.class_name is not None:
                    helpers.setdefault((u.path, f.class_name), set()).update(f.self_references)
        called_by_sdk: dict[tuple[Path, str], bool] = {}
        for u in units:
            for c in u.scan.classes:
                anc = graph.ancestry(u.path, c)
                called_by_sdk[(u.path, c.name)] = called_by_sdk.get((u.path, c.name), False) or bool(anc.sdk or anc.unknown or anc.provided)
        live_names: set[str] = set()
        for u in units:
            live_names |= u.scan.module_references
            if u.path in entry_paths:
                live_names |= u.scan.main_references
        live: dict[Path, set[int]] = {u.path: set() for u in units}
        changed = True
        while changed:
            changed = False
            for u in units:
                functions = u.scan.functions
                mine = live[u.path]
                everything = any(functions[i].dynamic for i in mine)
                for i, f in enumerate(functions):
                    if i in mine:
                        continue
                    if f.parent is not None:
                        runs_ = f.parent in mine
                    else:
                        hook_off = f.class_name is not None and (u.path, f.class_name, f.name) in hooks
                        runs_ = (everything or f.name in live_names or f.decorated
                                 or (f.name.startswith("__") and f.name.endswith("__"))
                                 or (f.class_name is not None and not hook_off
                                     and called_by_sdk.get((u.path, f.class_name), False)
                                     and f.name not in helpers.get((u.path, f.class_name), ())))
                    if runs_:
                        mine.add(i)
                        live_names |= f.references
                        changed = True
        return {u.path: set(range(len(u.scan.functions))) - live[u.path] for u in units}

    return ctx.memo(("analysis", "unreachable"), compute)


def never_true_flags(ctx: AnalysisContext) -> set[str]:
    """Names and attribute names that every assignment in the plugin sets to a false constant (``DEBUG = False``,
    ``self.verbose = False``) and nothing else binds: an ``if`` testing one never takes its true branch."""

    def compute(ctx: AnalysisContext) -> set[str]:
        stores: dict[str, bool] = {}
        for u in python_of(ctx).units:
            for name, false in u.scan.flag_stores.items():
                stores[name] = stores.get(name, True) and false
        return {name for name, false in stores.items() if false}

    return ctx.memo(("analysis", "flags"), compute)

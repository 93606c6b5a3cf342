"""Run the rules over plugins: the engine behind diagnostics and `dify-lsp check`."""

from __future__ import annotations

import gc
import logging
import os
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from dify_lsp.config import apply_configuration, disabled_families, enabled_codes, layer_from_settings
from dify_lsp.findings import Finding
from dify_lsp.index import Plugin, PluginIndex
from dify_lsp.rules import CheckContext, registry
from dify_lsp.rules.registry import Check
from dify_lsp.settings import ServerSettings, as_settings

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ProcessPoolExecutor

    from dify_lsp.cache import ResultCache

log = logging.getLogger(__name__)


@dataclass
class PreviousRun:
    """One plugin's last check, rule by rule, for the editor: a rule runs again only when a file it
    read changed (or the plugin's shape, the settings or the disk did); otherwise its findings are kept.

    What a rule read is observed, not declared: each run of a rule gets a context whose reader
    (``ctx.read``, the only way to a file's content) notes every file read with the text it saw.
    """

    shape: Any = None
    rules: dict[str, tuple[dict[Path, str | None], list[Finding], list[str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reran: list[str] = field(default_factory=list)  # the checks the last run executed (for tests and profiles)


def _plugin_shape(ctx: CheckContext) -> Any:
    """Everything about a plugin except file contents: which files, of which kind, referenced how
    (where a reference sits is content: reading it through ``Reader.span`` counts as reading its file)."""
    p = ctx.plugin
    return (
        repr(ctx.settings.rule_key()),
        ctx.index.disk_generation,
        p.root,
        tuple((path, yf.kind, yf.problem) for path, yf in p.yaml_files.items()),
        tuple((path, pf.problem) for path, pf in p.python_files.items()),
        tuple((r.owner, r.key, r.raw, r.target_kind, r.target, r.escapes, r.exists, r.loaded_as) for r in p.refs),
        tuple((yf.path, yf.problem) for yf in p.loose_tools),
    )


def _current_text(ctx: CheckContext, path: Path) -> str | None:
    p = ctx.plugin
    yf = p.yaml_files.get(path)
    if yf is not None:
        return yf._text
    pf = p.python_files.get(path)
    if pf is not None:
        return pf._text
    for loose in p.loose_tools:
        if loose.path == path:
            return loose._text
    return ctx.index.source.read(path).text


def _run_one(chk: Check, ctx: CheckContext, off: set[str]) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    try:
        for f in chk.fn(ctx):
            if registry.RULES[f.code].family not in off:
                findings.append(f)
    except Exception:
        tb = traceback.format_exc()
        log.error("check %s failed:\n%s", chk.name, tb)
        return findings, [f"{chk.name}: {tb}"]
    return findings, []


def _order(f: Finding) -> tuple:
    return (*f.sort_key(), f.span.end, f.message)


def run_checks(ctx: CheckContext, previous: PreviousRun | None = None) -> tuple[list[Finding], list[str]]:
    """Run every check of the registry; returns (findings, crash reports).

    One failing check never hides the others: its traceback is logged and
    reported back, and the remaining checks still run.  With ``previous`` (the
    editor's last run of this plugin), a check whose inputs did not change is
    not run again: its last findings are kept.
    """
    off = disabled_families(ctx.settings)
    findings: list[Finding] = []
    crashes: list[str] = []
    if previous is None:
        for chk in registry.CHECKS:
            if chk.rules and all(r.family in off for r in chk.rules):
                continue
            found, crashed = _run_one(chk, ctx, off)
            findings.extend(found)
            crashes.extend(crashed)
        findings.sort(key=_order)
        return findings, crashes
    with previous.lock:
        shape = _plugin_shape(ctx)
        if shape != previous.shape:
            previous.rules.clear()
            previous.shape = shape
        previous.reran = []
        for chk in registry.CHECKS:
            if chk.rules and all(r.family in off for r in chk.rules):
                continue
            last = previous.rules.get(chk.name)
            if last is not None and all(_current_text(ctx, path) == text for path, text in last[0].items()):
                findings.extend(last[1])
                crashes.extend(last[2])
                continue
            reads: dict[Path, str | None] = {}
            found, crashed = _run_one(chk, ctx.recording(reads), off)
            previous.reran.append(chk.name)
            if not crashed:  # a crash is never remembered: the next run tries again
                previous.rules[chk.name] = (reads, found, crashed)
            else:
                previous.rules.pop(chk.name, None)
            findings.extend(found)
            crashes.extend(crashed)
    findings.sort(key=_order)
    return findings, crashes


@dataclass
class PluginReport:
    plugin: Plugin
    findings: list[Finding]
    crashes: list[str] = field(default_factory=list)

    def by_path(self) -> dict[Path, list[Finding]]:
        out: dict[Path, list[Finding]] = {p: [] for p in self.plugin.files()}
        for f in self.findings:
            out.setdefault(f.path, []).append(f)
        return out


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: a check allocates millions of small acyclic objects (YAML
    and syntax-tree nodes, positions), and the collector's passes over them were 45% of the time of
    checking Dify's official plugins.  Reference counting still frees everything acyclic; cycles wait
    for the next full collection."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # What the check left alive (parses, scans) would make the next young-generation pass walk
        # hundreds of thousands of objects on the next allocation.  freeze + unfreeze moves every
        # tracked object into the oldest generation at once (two list splices), so they are looked
        # at again only by a full collection.
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def check_plugin(
    index: PluginIndex, root: Path, settings: ServerSettings | dict[str, Any] | None = None, previous: PreviousRun | None = None
) -> PluginReport:
    """Check one plugin; with ``previous`` (the editor's last run), only rules whose inputs changed run again."""
    settings = as_settings(settings)
    with gc_paused():
        plugin = index.plugin_at(root)
        ctx = CheckContext(plugin, index, settings)
        findings, crashes = run_checks(ctx, previous)
        findings = apply_configuration(index, plugin, findings, settings)
    return PluginReport(plugin, findings, crashes)


# -- a .difypkg, read in place ------------------------------------------------------------------


def check_package_file(path: Path, settings: ServerSettings | dict[str, Any] | None = None) -> tuple[list[Finding], dict[Path, str], list[str]]:
    """Every marketplace check on one ``.difypkg``, read in place: (findings, the text of each member a
    finding points into, crash reports).

    Findings point at ``PATH!/member``.  The command line's selection applies; nothing else does (a
    package carries no ``[tool.dify-lsp]`` of the author's checkout)."""
    from dify_lsp.rules.marketplace import PACKAGE_CHECKS
    from dify_lsp.rules.marketplace.contents import unread_members
    from dify_lsp.rules.marketplace.package import ZipPackage

    package = ZipPackage(path)
    findings: list[Finding] = []
    crashes: list[str] = []
    texts: dict[Path, str] = {}
    try:
        for fn in (*PACKAGE_CHECKS, unread_members):
            try:
                findings.extend(fn(package))
            except Exception:
                tb = traceback.format_exc()
                log.error("check %s failed:\n%s", fn.__qualname__, tb)
                crashes.append(f"{fn.__module__}.{fn.__qualname__}: {tb}")
            if package.broken is not None or package.unsafe:
                break  # the review stops here too: nothing is unpacked
        for f in findings:
            name = f.path.relative_to(package.location).as_posix() if package.location in f.path.parents else None
            if name is not None and f.path not in texts and package.member(name) is not None and name not in package.unread:
                texts[f.path] = package.text(name) or ""
    finally:
        if isinstance(package, ZipPackage):
            package.close()
    layer = layer_from_settings(as_settings(settings))
    codes = enabled_codes([layer] if layer is not None else [])
    findings = [f for f in findings if f.code in codes]
    findings.sort(key=Finding.sort_key)
    return findings, texts, crashes


# -- many plugins: `dify-lsp check` ------------------------------------------------------------


@dataclass
class CheckResult:
    """One plugin's findings, from a fresh check or from the result cache."""

    root: Path
    findings: list[Finding]
    crashes: list[str] = field(default_factory=list)
    cached: bool = False


def check_root(root: Path, settings: ServerSettings | dict[str, Any] | None = None, cache: "ResultCache | None" = None) -> CheckResult:
    """Check one plugin from disk with a fresh index; with a cache, serve or store its result."""
    settings = as_settings(settings)
    hit = cache.get(root, settings) if cache is not None else None
    if hit is not None:
        return CheckResult(root, hit, [], cached=True)
    return _check_fresh(root, settings, cache)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _weight(root: Path) -> int:
    """Roughly how long a plugin takes to check: the bytes of its YAML and Python files."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__", "venv", ".venv")]
        for name in filenames:
            if name.endswith((".py", ".yaml", ".yml")):
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
    return total


def _check_in_worker(root: Path, settings: ServerSettings, cache_dir: str | None) -> CheckResult:
    from dify_lsp.cache import ResultCache

    gc.disable()  # a worker lives for one batch; see gc_paused

    return _check_fresh(root, settings, ResultCache(Path(cache_dir)) if cache_dir is not None else None)


def _pool(jobs: int) -> "ProcessPoolExecutor":
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start with the rules already imported (checked below for platforms without it)
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)


def check_roots(
    roots: Iterable[Path],
    settings: ServerSettings | dict[str, Any] | None = None,
    jobs: int | None = None,
    cache: "ResultCache | None" = None,
) -> dict[Path, CheckResult]:
    """Check several plugins: cached results first, the rest across ``jobs`` processes, largest first.

    Every plugin is checked exactly as :func:`check_root` alone would (a fresh index per
    plugin), so the findings do not depend on ``jobs`` or on the cache.
    """
    settings = as_settings(settings)
    roots = list(dict.fromkeys(roots))
    results: dict[Path, CheckResult] = {}
    todo: list[Path] = []
    for root in roots:
        hit = cache.get(root, settings) if cache is not None else None
        if hit is not None:
            results[root] = CheckResult(root, hit, [], cached=True)
        else:
            todo.append(root)
    jobs = default_jobs() if jobs is None or jobs <= 0 else jobs
    jobs = min(jobs, len(todo))
    if jobs <= 1:
        # One pause for the whole batch: re-enabling the collector after each plugin costs a pass over
        # everything the plugin left alive (its scans stay cached), about 10 ms a plugin.
        with gc_paused():
            for root in todo:
                results[root] = _check_fresh(root, settings, cache)
    else:
        todo.sort(key=_weight, reverse=True)
        cache_dir = str(cache.directory) if cache is not None else None
        from concurrent.futures import as_completed

        with _pool(jobs) as pool:
            futures = [pool.submit(_check_in_worker, root, settings, cache_dir) for root in todo]
            for future in as_completed(futures):
                result = future.result()
                results[result.root] = result
    return {root: results[root] for root in roots}


def _check_fresh(root: Path, settings: ServerSettings, cache: "ResultCache | None") -> CheckResult:
    """Check one plugin from disk with a fresh index; with a cache, record its inputs and store the result."""
    if cache is None:
        report = check_plugin(PluginIndex(), root, settings)
        return CheckResult(root, report.findings, report.crashes)
    from dify_lsp.cache import recording

    with recording() as (index, inputs):
        report = check_plugin(index, root, settings)
    inputs.note_repository(root)
    # A crash is never remembered (the next run tries again), nor a result that depends on this machine.
    if not report.crashes and not _judged_without_python_312(index, root):
        cache.put(root, settings, inputs, report.findings)
    return CheckResult(root, report.findings, report.crashes)


def _judged_without_python_312(index: PluginIndex, root: Path) -> bool:
    """Python the running interpreter cannot parse is judged by a Python 3.12 found on this machine
    (rules.python_syntax). A 3.12 verdict depends only on the text, but "no 3.12 here, so nothing is said"
    would turn stale the day one is installed: such a result is not cached."""
    from dify_lsp import pyscan
    from dify_lsp.rules import python_syntax

    if python_syntax.running_python_decides():
        return False
    texts = index.source.texts()
    broken = [text for path, text in texts.items() if path.suffix == ".py" and pyscan.scan(text, index.caches).syntax_error is not None]
    if not broken:
        return False
    # answered from the verdicts the check just got (the interpreter search is remembered in-process)
    return any(v == "unknown" for v in python_syntax.verdicts(broken, root, index.caches).values())

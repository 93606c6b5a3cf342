"""Run the rules over plugins: the engine behind diagnostics and `dify-lsp check`."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from dify_lsp.config import apply_configuration
from dify_lsp.findings import Finding
from dify_lsp.index import Plugin, PluginIndex
from dify_lsp.rules import CheckContext, PreviousRun, load_rules, run_checks

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ProcessPoolExecutor

    from dify_lsp.cache import ResultCache


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
    index: PluginIndex, root: Path, settings: dict[str, Any] | None = None, previous: PreviousRun | None = None
) -> PluginReport:
    """Check one plugin; with ``previous`` (the editor's last run), only rules whose inputs changed run again."""
    with gc_paused():
        plugin = index.plugin_at(root)
        ctx = CheckContext(plugin, index, settings or {})
        findings, crashes = run_checks(ctx, previous)
        findings = apply_configuration(index, plugin, findings, settings)
    return PluginReport(plugin, findings, crashes)


# -- many plugins: `dify-lsp check` ------------------------------------------------------------


@dataclass
class CheckResult:
    """One plugin's findings, from a fresh check or from the result cache."""

    root: Path
    findings: list[Finding]
    crashes: list[str] = field(default_factory=list)
    cached: bool = False


def check_root(root: Path, settings: dict[str, Any] | None = None, cache: "ResultCache | None" = None) -> CheckResult:
    """Check one plugin from disk with a fresh index; with a cache, serve or store its result."""
    settings = settings or {}
    load_rules()
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


def _check_in_worker(root: Path, settings: dict[str, Any], cache_dir: str | None) -> CheckResult:
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
    settings: dict[str, Any] | None = None,
    jobs: int | None = None,
    cache: "ResultCache | None" = None,
) -> dict[Path, CheckResult]:
    """Check several plugins: cached results first, the rest across ``jobs`` processes, largest first.

    Every plugin is checked exactly as :func:`check_root` alone would (a fresh index per
    plugin), so the findings do not depend on ``jobs`` or on the cache.
    """
    settings = settings or {}
    load_rules()  # readers of the results look rules up by code, cached or not
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


def _check_fresh(root: Path, settings: dict[str, Any], cache: "ResultCache | None") -> CheckResult:
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
    texts = index.source.texts()  # type: ignore[attr-defined]
    broken = [text for path, text in texts.items() if path.suffix == ".py" and pyscan.scan(text).syntax_error is not None]
    if not broken:
        return False
    # answered from the verdicts the check just got (the interpreter search is remembered in-process)
    return any(v == "unknown" for v in python_syntax.verdicts(broken, root).values())

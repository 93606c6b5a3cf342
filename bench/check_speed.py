"""`dify-lsp check` against the parse floor of the same files, measured in the same run.

The floor is one process doing nothing but parse every Python file once (``ast.parse``) and every YAML file once
(libyaml, composing the node graph), interpreter start-up included, as ``check`` has it too.  Three ``check`` runs
are timed against it, alternating with the floor so a noisy moment hits both:

- cold: a fresh result cache (several processes, one per CPU: the default);
- warm: the same command again, every plugin unchanged (served from the cache);
- single: ``--no-cache --jobs 1``, the reference the others must equal finding for finding.

    python bench/check_speed.py --corpus /path/to/plugins [--runs 3]
    python bench/check_speed.py --generate 100            # the realistic corpus of bench/corpus.py
"""

from __future__ import annotations

import argparse
import compileall
import resource
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

FLOOR_SCRIPT = r"""
import ast, os, sys, yaml
skip = {".git", ".venv", "venv", "node_modules", "__pycache__"}
py = yml = 0
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        if name.endswith(".py"):
            try:
                ast.parse(open(path, encoding="utf-8").read())
            except (SyntaxError, ValueError, UnicodeDecodeError):
                pass
            py += 1
        elif name.endswith((".yaml", ".yml")):
            try:
                loader = yaml.CSafeLoader(open(path, encoding="utf-8").read())
                try:
                    loader.get_single_node()
                finally:
                    loader.dispose()
            except (yaml.YAMLError, UnicodeDecodeError):
                pass
            yml += 1
print(py, yml)
"""


REPO = HERE.parent
_snapshot: Path | None = None


def _snapshot_package() -> Path:
    """A copy of dify_lsp taken once per bench run: the cache fingerprints the package's files, so an edit in
    the working tree during the run (a shared machine) would otherwise make the warm run a cold one."""
    global _snapshot
    if _snapshot is None:
        _snapshot = Path(tempfile.mkdtemp(prefix="dify-lsp-snapshot-"))
        shutil.copytree(REPO / "dify_lsp", _snapshot / "dify_lsp", ignore=shutil.ignore_patterns("__pycache__"))
        # bytecode as an install has it (pip compiles), even where PYTHONDONTWRITEBYTECODE is set
        compileall.compile_dir(str(_snapshot), quiet=1)
    return _snapshot


def _timed(cmd: list[str], snapshot: bool = False) -> tuple[float, subprocess.CompletedProcess]:
    env = cwd = None
    if snapshot:
        cwd = _snapshot_package()
        env = {**os.environ, "PYTHONPATH": str(cwd)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, proc


_cpu: list[float] = []  # CPU seconds (user + system, all processes) of the last _timed run


def _check_cmd(corpus: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dify_lsp", "check", str(corpus), "--format", "json", *extra]


def _findings(proc: subprocess.CompletedProcess) -> list[Any] | None:
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def measure(corpus: Path, runs: int = 3) -> dict[str, Any]:
    corpus = corpus.resolve()
    plugins = sum(1 for _ in corpus.rglob("manifest.yaml"))
    samples: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "single": []}
    cpu: dict[str, list[float]] = {k: [] for k in samples}
    outputs: dict[str, list[Any] | None] = {}
    files = None
    for _ in range(runs):
        cache = Path(tempfile.mkdtemp(prefix="dify-lsp-check-cache-"))
        try:
            t, proc = _timed([sys.executable, "-c", FLOOR_SCRIPT, str(corpus)])
            samples["floor"].append(t)
            cpu["floor"].append(_cpu[-1])
            files = proc.stdout.split()
            t, proc = _timed(_check_cmd(corpus, "--cache-dir", str(cache)), snapshot=True)
            samples["cold"].append(t)
            cpu["cold"].append(_cpu[-1])
            outputs["cold"] = _findings(proc)
            t, proc = _timed(_check_cmd(corpus, "--cache-dir", str(cache)), snapshot=True)
            samples["warm"].append(t)
            cpu["warm"].append(_cpu[-1])
            outputs["warm"] = _findings(proc)
            t, proc = _timed(_check_cmd(corpus, "--no-cache", "--jobs", "1"), snapshot=True)
            samples["single"].append(t)
            cpu["single"].append(_cpu[-1])
            outputs["single"] = _findings(proc)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in samples.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    floor = med["floor"]
    same = outputs["single"] is not None and outputs["cold"] == outputs["single"] == outputs["warm"]
    return {
        "corpus": str(corpus),
        "plugins": plugins,
        "python_files": int(files[0]) if files else None,
        "yaml_files": int(files[1]) if files else None,
        "runs": runs,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "floor_s": round(floor, 3),
        "cold_s": round(med["cold"], 3),
        "warm_s": round(med["warm"], 3),
        "single_process_s": round(med["single"], 3),
        "cold_over_floor": round(med["cold"] / floor, 2),
        "warm_over_floor": round(med["warm"] / floor, 2),
        "single_over_floor": round(med["single"] / floor, 2),
        "plugins_per_second_cold": round(plugins / med["cold"], 1),
        "same_findings": same,
        "findings": len(outputs["single"] or []),
        "samples_s": {k: [round(x, 3) for x in v] for k, v in samples.items()},
        # CPU seconds (user + system of every process of the run): on a loaded machine wall times stretch
        # with the load while CPU times mostly do not; the parallel cold run's CPU is the sum over its workers.
        "cpu_s": {k: round(v, 3) for k, v in med_cpu.items()},
        "cpu_over_floor": {k: round(v / med_cpu["floor"], 2) for k, v in med_cpu.items() if k != "floor"},
    }


def targets(m: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"target": "check, cold (fresh cache), vs the parse floor", "value": m["cold_over_floor"], "goal": "<= 1.5x", "met": m["cold_over_floor"] <= 1.5},
        {"target": "check, warm (unchanged plugins), vs the parse floor", "value": m["warm_over_floor"], "goal": "<= 0.3x", "met": m["warm_over_floor"] <= 0.3},
        {"target": "cold, warm and single-process runs give the same findings", "value": m["same_findings"], "goal": "identical", "met": m["same_findings"]},
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, help="a folder of plugins")
    p.add_argument("--generate", type=int, metavar="N", help="measure on a generated realistic corpus of N plugins")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    tmp = None
    if args.corpus is None:
        sys.path.insert(0, str(HERE))
        import corpus as corpus_mod

        tmp = Path(tempfile.mkdtemp(prefix="dify-lsp-corpus-"))
        corpus_mod.generate(tmp, args.generate or 100)
        args.corpus = tmp
    try:
        m = measure(args.corpus, args.runs)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    for key in ("plugins", "python_files", "yaml_files", "floor_s", "cold_s", "warm_s", "single_process_s",
                "cold_over_floor", "warm_over_floor", "single_over_floor", "cpu_s", "cpu_over_floor", "same_findings", "findings", "load_average"):
        print(f"{key:>20}: {m[key]}")
    for t in targets(m):
        print(f"{'met' if t['met'] else 'MISSED':>7}  {t['target']}: {t['value']} (goal {t['goal']})")
    if args.json:
        Path(args.json).write_text(json.dumps({"measure": m, "targets": targets(m)}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

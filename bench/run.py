"""Benchmark dify-lsp against its peers and its floor, in one run.

    python bench/run.py                  # the full benchmark (a few minutes); prints a table
    python bench/run.py --json out.json  # also write the results as JSON ('-' for stdout)
    python bench/run.py --quick          # small workloads, few iterations (a smoke run)
    python bench/run.py --servers dify,floor --iterations 50

It generates the workloads (bench/workloads.py) into a temporary folder,
installs the peers once into ~/.cache/dify-lsp-bench (bench/peers.py), and
drives every server over stdio as an editor does (bench/lsp_client.py):
requests alternate between the servers, one at a time, so a noisy moment
on the machine hits them all alike.  Ratios (peer / dify-lsp, dify-lsp /
floor) are reported beside the absolute times.  Nothing is asserted: the
targets are printed as met or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers as peers_mod  # noqa: E402
import check_speed  # noqa: E402
import corpus as realistic_corpus  # noqa: E402
import workloads as wl  # noqa: E402
from json_schemas import write_schemas  # noqa: E402
from lsp_client import LspClient, LspError, child_pids, peak_rss_kib  # noqa: E402
from peers import DIFY, FLOOR, JEDI, PYTHON, YAML, YAMLLS, PeerUnavailable, ServerSpec  # noqa: E402

# Diagnostics debounce of each server (ms): edit-to-diagnostics is also reported minus it.
DEBOUNCE_MS = {DIFY: 200.0, JEDI: 1000.0, YAMLLS: 200.0, FLOOR: 0.0}
REQUEST_TIMEOUT = 30.0
DIAGNOSTICS_TIMEOUT = 60.0
WARMUP = 3


# -- statistics -------------------------------------------------------------------------------


def summarize(samples_s: list[float]) -> dict[str, Any]:
    if not samples_s:
        return {"n": 0}
    ms = sorted(s * 1000 for s in samples_s)
    p95 = ms[max(0, math.ceil(0.95 * len(ms)) - 1)]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(ms[-1], 3),
        "min_ms": round(ms[0], 3),
    }


@dataclass
class Row:
    workload: str
    metric: str
    server: str
    samples: list[float] = field(default_factory=list)
    check: str = ""  # what the answer contained, and whether it is right
    failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {"workload": self.workload, "metric": self.metric, "server": self.server, **summarize(self.samples)}
        if self.check:
            out["check"] = self.check
        if self.failures:
            out["failures"] = self.failures
        out.update(self.extra)
        return out


class Results:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], Row] = {}

    def row(self, workload: str, metric: str, server: str) -> Row:
        key = (workload, metric, server)
        if key not in self.rows:
            self.rows[key] = Row(workload, metric, server)
        return self.rows[key]

    def median(self, workload: str, metric: str, server: str) -> float | None:
        row = self.rows.get((workload, metric, server))
        if row is None or not row.samples:
            return None
        return statistics.median(row.samples) * 1000


# -- answers ---------------------------------------------------------------------------------


def completion_labels(result: Any) -> list[str]:
    items = result.get("items", []) if isinstance(result, dict) else (result or [])
    return [str(i.get("label", "")).split("(")[0].strip() for i in items if isinstance(i, dict)]


def hover_text(result: Any) -> str:
    if not isinstance(result, dict):
        return ""
    contents = result.get("contents")
    if isinstance(contents, dict):
        return str(contents.get("value", ""))
    if isinstance(contents, list):
        return "\n".join(c.get("value", "") if isinstance(c, dict) else str(c) for c in contents)
    return str(contents or "")


def judge(case: str, result: Any) -> str:
    """A short account of the answer: right members present, or what is missing."""
    kind = case.split("@", 1)[0]
    if kind == "completion":
        labels = completion_labels(result)
        expected = wl.EXPECTED_LABELS.get(case, set())
        missing = sorted(expected - set(labels))
        head = f"{len(labels)} items"
        return f"{head}, all expected" if not missing else f"{head}, MISSING {', '.join(missing)}"
    if kind == "hover":
        text = hover_text(result)
        return f"hover {len(text)} chars" if text.strip() else "EMPTY hover"
    if kind == "signature":
        sigs = (result or {}).get("signatures") or [] if isinstance(result, dict) else []
        if not sigs:
            return "NO signature"
        return f"{len(sigs)} signature(s): {str(sigs[0].get('label', ''))[:60]}"
    return ""


# -- servers ----------------------------------------------------------------------------------


@dataclass
class Running:
    spec: ServerSpec
    client: LspClient
    opened: dict[str, str] = field(default_factory=dict)  # role (python/manifest/tool) -> uri
    texts: dict[str, str] = field(default_factory=dict)  # uri -> current text
    broken: set[str] = field(default_factory=set)  # cases that timed out or failed


async def launch(spec: ServerSpec, root: Path, logs: Path, tag: str) -> tuple[LspClient, float]:
    client = LspClient(
        spec.name,
        spec.command,
        cwd=root,
        env=spec.env,
        stderr_path=logs / f"{spec.name}-{tag}.stderr",
        configuration=spec.configuration,
    )
    await client.start()
    await asyncio.wait_for(client.initialize(root, spec.initialization_options), REQUEST_TIMEOUT)
    elapsed = time.perf_counter() - client.started_at
    if spec.settings and spec.name == YAMLLS:
        client.notify("workspace/didChangeConfiguration", {"settings": spec.settings})
    return client, elapsed


def files_for(spec: ServerSpec, work: wl.Workload) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if PYTHON in spec.languages:
        out["python"] = work.python_file
    if YAML in spec.languages:
        out["manifest"] = work.manifest
        out["tool"] = work.tool_yaml
    return out


async def measure_startup(specs: list[ServerSpec], work: wl.Workload, rounds: int, results: Results, logs: Path) -> None:
    """Start to `initialize` reply, and start to the first diagnostics of one opened file.

    Each server starts once per file it handles: the Python file (dify-lsp,
    jedi-language-server, floor) and the manifest (dify-lsp, yaml-language-server, floor).
    dify-lsp starts twice more: its plain rows start with an empty result cache (a cold start),
    its "warm cache" rows with the cache `dify-lsp check` filled for the unchanged plugin.
    """
    cache_homes = Path(tempfile.mkdtemp(prefix="dify-lsp-bench-cache-"))
    warm_home = cache_homes / "warm"
    starts: list[tuple[ServerSpec, Path, str]] = []
    for spec in specs:
        for lang, first in ((PYTHON, work.python_file), (YAML, work.manifest)):
            if lang in spec.languages:
                starts.append((spec, first, ""))
                if spec.name == DIFY:
                    starts.append((spec, first, ", warm cache"))
    if any(suffix for _, _, suffix in starts):
        subprocess.run([sys.executable, "-m", "dify_lsp", "check", str(work.root)], env={**os.environ, "XDG_CACHE_HOME": str(warm_home)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    for r in range(rounds):
        order = starts[r % len(starts):] + starts[: r % len(starts)]
        for n, (spec, first, suffix) in enumerate(order):
            if spec.name == DIFY:  # a private cache folder: empty (cold) or the one check filled (warm)
                home = warm_home if suffix else cache_homes / f"cold-{r}-{n}"
                spec = replace(spec, env={**(spec.env or os.environ), "XDG_CACHE_HOME": str(home)})
            try:
                client, t_init = await launch(spec, work.root, logs, f"startup-{work.name}-{r}")
            except (LspError, asyncio.TimeoutError, OSError) as exc:
                results.row(work.name, "start -> initialize reply", spec.name).failures += 1
                print(f"  {spec.name}: start failed: {exc!r}", file=sys.stderr)
                continue
            try:
                results.row(work.name, "start -> initialize reply", spec.name).samples.append(t_init)
                uri = client.did_open(first)
                try:
                    event = await asyncio.wait_for(client.wait_diagnostics(lambda e: e.uri == uri), DIAGNOSTICS_TIMEOUT)
                    t_diag = event.at - client.started_at
                    row = results.row(work.name, f"start -> first diagnostics ({first.name}){suffix}", spec.name)
                    row.samples.append(t_diag)
                    row.check = f"{event.count} diagnostics"
                    # No "minus debounce" row here: dify-lsp checks a just-opened plugin at once (the debounce
                    # applies to edits), so start -> first diagnostics already is what it costs.
                except asyncio.TimeoutError:
                    results.row(work.name, f"start -> first diagnostics ({first.name}){suffix}", spec.name).failures += 1
            finally:
                await client.stop()
    shutil.rmtree(cache_homes, ignore_errors=True)


async def open_session(spec: ServerSpec, work: wl.Workload, logs: Path) -> Running | None:
    try:
        client, _ = await launch(spec, work.root, logs, f"session-{work.name}")
    except (LspError, asyncio.TimeoutError, OSError) as exc:
        print(f"  {spec.name}: start failed: {exc!r}", file=sys.stderr)
        return None
    run = Running(spec, client)
    for role, path in files_for(spec, work).items():
        text = path.read_text(encoding="utf-8")
        uri = client.did_open(path, text)
        run.opened[role] = uri
        run.texts[uri] = text
    for uri in run.opened.values():
        try:
            await asyncio.wait_for(client.wait_diagnostics(lambda e, u=uri: e.uri == u), DIAGNOSTICS_TIMEOUT)
        except asyncio.TimeoutError:
            print(f"  {spec.name}: no diagnostics for {uri} within {DIAGNOSTICS_TIMEOUT}s", file=sys.stderr)
    return run


CASES: list[tuple[str, str, wl.Probe]] = (
    [(name, "python", probe) for name, probe in wl.PYTHON_PROBES.items()]
    + [(name, "manifest", probe) for name, probe in wl.MANIFEST_PROBES.items()]
    + [(name, "tool", probe) for name, probe in wl.TOOL_PROBES.items()]
)
METHODS = {"completion": "textDocument/completion", "hover": "textDocument/hover", "signature": "textDocument/signatureHelp"}


def request_params(case: str, uri: str, position: dict[str, int]) -> dict[str, Any]:
    params: dict[str, Any] = {"textDocument": {"uri": uri}, "position": position}
    kind = case.split("@", 1)[0]
    if kind == "completion":
        if case.endswith("."):
            params["context"] = {"triggerKind": 2, "triggerCharacter": "."}
        else:
            params["context"] = {"triggerKind": 1}
    elif kind == "signature":
        params["context"] = {"triggerKind": 2, "triggerCharacter": "(", "isRetrigger": False}
    return params


async def one_request(run: Running, case: str, role: str, probe: wl.Probe) -> tuple[float, Any] | None:
    uri = run.opened[role]
    params = request_params(case, uri, probe.position(run.texts[uri]))
    try:
        return await asyncio.wait_for(run.client.timed(METHODS[case.split("@", 1)[0]], params), REQUEST_TIMEOUT)
    except (LspError, asyncio.TimeoutError) as exc:
        print(f"  {run.spec.name}: {case} failed: {exc!r}", file=sys.stderr)
        run.broken.add(case)
        return None


async def measure_requests(runs: list[Running], work: wl.Workload, iterations: int, results: Results) -> None:
    # Warm-up (the first answer is kept apart as the cold one, and judged).
    for case, role, probe in CASES:
        for run in runs:
            if role not in run.opened:
                continue
            for w in range(WARMUP):
                got = await one_request(run, case, role, probe)
                if got is None:
                    break
                if w == 0:
                    row = results.row(work.name, case, run.spec.name)
                    row.extra["cold_ms"] = round(got[0] * 1000, 3)
                    row.check = judge(case, got[1])
    for i in range(iterations):
        order = runs[i % len(runs):] + runs[: i % len(runs)]
        for case, role, probe in CASES:
            for run in order:
                if role not in run.opened or case in run.broken:
                    continue
                got = await one_request(run, case, role, probe)
                row = results.row(work.name, case, run.spec.name)
                if got is None:
                    row.failures += 1
                else:
                    row.samples.append(got[0])


NAME_CHARS = re.compile(r"[\w-]*")


def edit_range(text: str, rename: wl.Rename, n: int) -> tuple[int, int, int, int, str, str]:
    """(line, start_col, end_col, offset, current, replacement) for edit ``n``; columns in UTF-16 units."""
    start = text.index(rename.anchor) + len(rename.anchor)
    current = NAME_CHARS.match(text, start).group(0)  # type: ignore[union-attr]
    line = text.count("\n", 0, start)
    line_start = text.rfind("\n", 0, start) + 1
    col = len(text[line_start:start].encode("utf-16-le")) // 2
    return line, col, col + len(current.encode("utf-16-le")) // 2, start, current, rename.spelling(n)


async def one_edit(run: Running, role: str, rename: wl.Rename, n: int) -> tuple[float, int] | None:
    uri = run.opened[role]
    text = run.texts[uri]
    line, c0, c1, start, current, new = edit_range(text, rename, n)
    run.texts[uri] = text[:start] + new + text[start + len(current):]
    t0 = time.perf_counter()
    version = run.client.did_change(uri, line, c0, c1, new)

    def fresh(e) -> bool:
        return e.uri == uri and (e.version == version if e.version is not None else e.at >= t0)

    try:
        event = await asyncio.wait_for(run.client.wait_diagnostics(fresh, since=t0), DIAGNOSTICS_TIMEOUT)
    except asyncio.TimeoutError:
        print(f"  {run.spec.name}: no diagnostics after an edit of {uri}", file=sys.stderr)
        return None
    return event.at - t0, event.count


async def measure_edits(runs: list[Running], work: wl.Workload, iterations: int, results: Results) -> None:
    edits = [("python", work.python_edit, f"edit -> diagnostics ({work.python_file.name})"), ("tool", work.yaml_edit, f"edit -> diagnostics ({work.tool_yaml.name})")]
    for i in range(iterations):
        order = runs[i % len(runs):] + runs[: i % len(runs)]
        for role, rename, metric in edits:
            for run in order:
                if role not in run.opened or metric in run.broken:
                    continue
                got = await one_edit(run, role, rename, i + 1)
                row = results.row(work.name, metric, run.spec.name)
                if got is None:
                    row.failures += 1
                    run.broken.add(metric)
                    continue
                row.samples.append(got[0])
                counts = row.extra.setdefault("diagnostics_counts", [])
                if got[1] not in counts:
                    counts.append(got[1])
                    row.check = "diagnostics after the edits: " + " / ".join(map(str, sorted(counts)))
                debounce = DEBOUNCE_MS.get(run.spec.name, 0.0)
                if debounce:
                    results.row(work.name, f"{metric} minus debounce", run.spec.name).samples.append(got[0] - debounce / 1000)


def rss_of(run: Running) -> dict[str, Any]:
    pid = run.client.pid
    own = peak_rss_kib(pid)
    kids = child_pids(pid) if pid else []
    kid_peaks = [p for p in (peak_rss_kib(k) for k in kids) if p]
    return {
        "server_peak_rss_mb": round(own / 1024, 1) if own else None,
        "children": len(kid_peaks),
        "with_children_peak_rss_mb": round((own or 0) / 1024 + sum(kid_peaks) / 1024, 1) if own else None,
    }


async def measure_typing(runs: list[Running], iterations: int, results: Results, workload: str) -> None:
    """Completion right after a keystroke on a half-typed line (the file does not parse there).

    A line ``probe<n> = self.session.model.`` is inserted above the SDK call;
    each iteration rewrites it with a new name (a text never seen before),
    then asks for completion at its end.  The time runs from the change to
    the completion reply, as an editor that sends both at once sees it.
    """
    typing = [run for run in runs if "python" in run.opened]
    lines: dict[str, tuple[int, str, str]] = {}  # server -> (line, indent, current line text)
    for run in typing:
        uri = run.opened["python"]
        text = run.texts[uri]
        at = text.index(wl.SESSION_CALL)
        line = text.count("\n", 0, at)
        line_text = text.split("\n")[line]
        indent = line_text[: len(line_text) - len(line_text.lstrip())]
        new_line = f"{indent}probe0 = {wl.TYPED_PREFIX}"
        run.client.did_change(uri, line, 0, 0, new_line + "\n")
        lines[run.spec.name] = (line, indent, new_line)
    for i in range(iterations):
        order = typing[i % len(typing):] + typing[: i % len(typing)] if typing else []
        for run in order:
            if wl.TYPED_CASE in run.broken:
                continue
            uri = run.opened["python"]
            line, indent, old_line = lines[run.spec.name]
            new_line = f"{indent}probe{i + 1} = {wl.TYPED_PREFIX}"
            t0 = time.perf_counter()
            run.client.did_change(uri, line, 0, len(old_line), new_line)
            lines[run.spec.name] = (line, indent, new_line)
            params = {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": len(new_line)},
                "context": {"triggerKind": 2, "triggerCharacter": "."},
            }
            row = results.row(workload, wl.TYPED_CASE, run.spec.name)
            try:
                reply = await asyncio.wait_for(run.client.request("textDocument/completion", params), REQUEST_TIMEOUT)
            except (LspError, asyncio.TimeoutError) as exc:
                print(f"  {run.spec.name}: {wl.TYPED_CASE} failed: {exc!r}", file=sys.stderr)
                run.broken.add(wl.TYPED_CASE)
                row.failures += 1
                continue
            row.samples.append(time.perf_counter() - t0)
            if not row.check:
                row.check = judge(wl.TYPED_CASE, reply)
    # Take the line out again and let each server settle on the restored text.
    for run in typing:
        uri = run.opened["python"]
        line, _, _ = lines[run.spec.name]
        t0 = time.perf_counter()
        version = run.client.did_change(uri, line, 0, 0, "", end_line=line + 1)
        try:
            await asyncio.wait_for(run.client.wait_diagnostics(lambda e, u=uri, v=version: e.uri == u and e.version in (v, None), since=t0), DIAGNOSTICS_TIMEOUT)
        except asyncio.TimeoutError:
            pass


async def measure_session(specs: list[ServerSpec], work: wl.Workload, iterations: int, edit_iterations: int, results: Results, logs: Path) -> dict[str, Any]:
    runs: list[Running] = []
    for spec in specs:
        run = await open_session(spec, work, logs)
        if run is not None:
            runs.append(run)
    rss: dict[str, Any] = {}
    try:
        await measure_requests(runs, work, iterations, results)
        await measure_typing(runs, iterations, results, work.name)
        await measure_edits(runs, work, edit_iterations, results)
        for run in runs:
            rss[run.spec.name] = rss_of(run)
    finally:
        for run in runs:
            await run.client.stop()
    return rss


# -- dify-lsp check ---------------------------------------------------------------------------------


def measure_check(corpus: Path, runs: int) -> dict[str, Any]:
    plugins = sum(1 for p in corpus.iterdir() if (p / "manifest.yaml").exists())
    times: list[float] = []
    exit_codes: set[int] = set()
    findings = None
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "dify_lsp", "check", str(corpus), "--format", "json"], capture_output=True, text=True, timeout=600
        )
        times.append(time.perf_counter() - t0)
        exit_codes.add(proc.returncode)
        try:
            data = json.loads(proc.stdout)
            findings = len(data) if isinstance(data, list) else len(data.get("findings", data.get("results", [])))
        except ValueError:
            findings = None
    best = statistics.median(times)
    return {
        "plugins": plugins,
        "runs": runs,
        "median_s": round(best, 3),
        "min_s": round(min(times), 3),
        "plugins_per_second": round(plugins / best, 1),
        "exit_codes": sorted(exit_codes),
        "findings": findings,
    }


# -- report ------------------------------------------------------------------------------------------


def ratios(results: Results, servers: list[str]) -> list[dict[str, Any]]:
    out = []
    keys = sorted({(r.workload, r.metric) for r in results.rows.values()})
    for workload, metric in keys:
        dify = results.median(workload, metric, DIFY)
        if not dify:
            continue
        entry: dict[str, Any] = {"workload": workload, "metric": metric}
        for peer in servers:
            if peer == DIFY:
                continue
            m = results.median(workload, metric, peer)
            if m is None and peer == FLOOR and metric.endswith(" minus debounce"):
                m = results.median(workload, metric[: -len(" minus debounce")], peer)  # the floor has no debounce
            if m:
                if peer == FLOOR:
                    entry["dify_over_floor"] = round(dify / m, 2)
                else:
                    entry[f"{peer}_over_dify"] = round(m / dify, 2)
        if len(entry) > 2:
            out.append(entry)
    return out


def targets(results: Results, rss: dict[str, Any], check: dict[str, Any] | None, large_notes: dict[str, int] | None = None,
            speed: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    py_lines = f"{(large_notes or {}).get('python_lines', 2000):,}-line file"
    n_tools = f"{(large_notes or {}).get('tools', 100)}-tool plugin"

    def add(name: str, value: Any, goal: str, met: bool | None) -> None:
        out.append({"target": name, "value": value, "goal": goal, "met": met})

    for case in (*wl.PYTHON_PROBES, wl.TYPED_CASE):
        d = results.median("large", case, DIFY)
        j = results.median("large", case, JEDI)
        row = results.rows.get(("large", case, DIFY))
        answer = row.check if row is not None else ""
        # A fast empty answer is no answer: the latency targets count only with the right content.
        right = bool(answer) and not any(word in answer for word in ("MISSING", "EMPTY", "NO signature"))
        add(f"{case} answer (dify-lsp)", answer or None, "right members / non-empty", right if row is not None else None)
        add(f"{case} median, {py_lines}", None if d is None else round(d, 2), "< 20 ms with a right answer", None if d is None else (d < 20 and right))
        if d and j:
            add(f"{case} vs jedi-language-server", round(j / d, 1), ">= 5x faster with a right answer", j / d >= 5 and right)
    metric = "edit -> diagnostics (tool_000.py) minus debounce"
    for m in (metric, "edit -> diagnostics (tool_000.yaml) minus debounce"):
        d = results.median("large", m, DIFY)
        add(f"{m}, {n_tools}", None if d is None else round(d, 1), "< 30 ms (+200 ms debounce)", None if d is None else d < 30)
    for workload in ("example", "large"):
        floor = results.median(workload, "start -> initialize reply", FLOOR)
        first = [r for r in results.rows.values() if r.workload == workload and r.server == DIFY and r.metric.startswith("start -> first diagnostics") and "minus" not in r.metric]
        for row in first if floor else []:
            if row.samples:
                d = statistics.median(row.samples) * 1000
                add(f"{row.metric[len('start -> '):]}, {workload} workload, vs the floor's start -> initialize", round(d / floor, 2), "<= 1.3x", d / floor <= 1.3)
    peak = (rss.get(DIFY) or {}).get("with_children_peak_rss_mb")
    if peak is not None:
        add("peak RSS, large plugin (dify-lsp and its child processes)", peak, "< 150 MB", peak < 150)
    if check:
        add("dify-lsp check throughput", check["plugins_per_second"], ">= 50 plugins/s", check["plugins_per_second"] >= 50)
    for name, m in (speed or {}).items():
        for t in check_speed.targets(m):
            add(f"{t['target']} ({name}: {m['plugins']} plugins)", t["value"], t["goal"], t["met"])
    return out


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if v >= 10 else f"{v:.2f}"
    return str(v)


def print_table(report: dict[str, Any], out=sys.stdout) -> None:
    meta = report["meta"]
    print(f"dify-lsp benchmark  {meta['date']}  {meta['cores']} cores  {meta['platform']}", file=out)
    for name, version in meta["versions"].items():
        print(f"  {name}: {version}", file=out)
    for name, reason in meta["unavailable"].items():
        print(f"  {name}: UNAVAILABLE ({reason})", file=out)
    rows = report["results"]
    ratio_of = {(r["workload"], r["metric"]): r for r in report["ratios"]}
    for workload in dict.fromkeys(r["workload"] for r in rows):
        notes = report["workloads"].get(workload, {})
        print(f"\n== {workload} {json.dumps(notes) if notes else ''}", file=out)
        print(f"{'metric':58} {'server':22} {'median':>8} {'p95':>8} {'max':>8} {'n':>4}  {'ratio':>14}  answer", file=out)
        for r in rows:
            if r["workload"] != workload:
                continue
            ratio = ""
            rr = ratio_of.get((workload, r["metric"]), {})
            if r["server"] == DIFY and "dify_over_floor" in rr:
                ratio = f"{rr['dify_over_floor']}x floor"
            elif f"{r['server']}_over_dify" in rr:
                ratio = f"{rr[r['server'] + '_over_dify']}x dify-lsp"
            fails = f" ({r['failures']} failed)" if r.get("failures") else ""
            print(
                f"{r['metric'][:58]:58} {r['server']:22} {fmt(r.get('median_ms')):>8} {fmt(r.get('p95_ms')):>8} {fmt(r.get('max_ms')):>8} {r.get('n', 0):>4}  {ratio:>14}  {r.get('check', '')}{fails}",
                file=out,
            )
    if report.get("rss"):
        print("\n== peak RSS on the large plugin (MB; VmHWM)", file=out)
        for name, info in report["rss"].items():
            print(f"  {name:22} {fmt(info.get('server_peak_rss_mb')):>8}   with {info.get('children', 0)} child process(es): {fmt(info.get('with_children_peak_rss_mb'))}", file=out)
    if report.get("check"):
        c = report["check"]
        print(f"\n== dify-lsp check on {c['plugins']} plugins: {c['plugins_per_second']} plugins/s (median {c['median_s']} s of {c['runs']} runs, exit {c['exit_codes']})", file=out)
    for name, m in (report.get("check_speed") or {}).items():
        print(f"\n== dify-lsp check vs the parse floor, {name} ({m['plugins']} plugins, {m['python_files']} Python and {m['yaml_files']} YAML files; "
              f"medians of {m['runs']} runs, same run, load average {m['load_average']})", file=out)
        print(f"  floor {m['floor_s']} s | cold {m['cold_s']} s ({m['cold_over_floor']}x) | warm {m['warm_s']} s ({m['warm_over_floor']}x) | "
              f"single process, no cache {m['single_process_s']} s ({m['single_over_floor']}x) | same findings: {m['same_findings']}", file=out)
        if m.get("cpu_s"):
            c, r = m["cpu_s"], m["cpu_over_floor"]
            print(f"  CPU seconds: floor {c['floor']} | cold {c['cold']} ({r['cold']}x, all workers) | warm {c['warm']} ({r['warm']}x) | single {c['single']} ({r['single']}x)", file=out)
    print("\n== targets (shown, not asserted)", file=out)
    for t in report["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        print(f"  [{mark:6}] {t['target']}: {t['value']} (goal {t['goal']})", file=out)


def render_markdown(report: dict[str, Any]) -> str:
    """The same tables as :func:`print_table`, as Markdown (for bench/RESULTS.md)."""
    meta = report["meta"]
    lines = [
        f"Run {meta['date']} on {meta['cores']} cores ({meta['platform']}); load average at the end {tuple(round(x, 2) for x in meta['load_average'] or ())}.",
        f"{meta['iterations']} requests per position and server, {meta['edit_iterations']} edits per file and server, {meta['startup_rounds']} starts per workload and server.",
        "",
        "| server | version |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {version} |" for name, version in meta["versions"].items()]
    lines += [f"| {name} | unavailable: {reason} |" for name, reason in meta["unavailable"].items()]
    ratio_of = {(r["workload"], r["metric"]): r for r in report["ratios"]}
    for workload in dict.fromkeys(r["workload"] for r in report["results"]):
        notes = report["workloads"].get(workload) or {}
        lines += ["", f"### {workload} workload" + (f" ({', '.join(f'{k}: {v}' for k, v in notes.items())})" if notes else ""), ""]
        lines += ["| metric | server | median ms | p95 ms | max ms | n | ratio | answer |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in report["results"]:
            if r["workload"] != workload:
                continue
            rr = ratio_of.get((workload, r["metric"]), {})
            ratio = ""
            if r["server"] == DIFY and "dify_over_floor" in rr:
                ratio = f"{rr['dify_over_floor']}x floor"
            elif f"{r['server']}_over_dify" in rr:
                ratio = f"{rr[r['server'] + '_over_dify']}x dify-lsp"
            fails = f" ({r['failures']} failed)" if r.get("failures") else ""
            metric = r["metric"].replace("|", "\\|")
            lines.append(
                f"| {metric} | {r['server']} | {fmt(r.get('median_ms'))} | {fmt(r.get('p95_ms'))} | {fmt(r.get('max_ms'))} | {r.get('n', 0)} | {ratio} | {r.get('check', '')}{fails} |"
            )
    if report.get("rss"):
        lines += ["", "### Peak RSS after the large workload (VmHWM, MB)", "", "| server | process | with child processes |", "| --- | ---: | ---: |"]
        for name, info in report["rss"].items():
            lines.append(f"| {name} | {fmt(info.get('server_peak_rss_mb'))} | {fmt(info.get('with_children_peak_rss_mb'))} ({info.get('children', 0)} children) |")
    if report.get("check"):
        c = report["check"]
        lines += ["", "### dify-lsp check", "", f"{c['plugins']} plugins: **{c['plugins_per_second']} plugins/s** (median {c['median_s']} s over {c['runs']} runs, process start included; exit codes {c['exit_codes']})."]
    for name, m in (report.get("check_speed") or {}).items():
        lines += ["", f"### dify-lsp check vs the parse floor: {name}", "",
                  f"{m['plugins']} plugins, {m['python_files']} Python and {m['yaml_files']} YAML files; medians of {m['runs']} runs, "
                  f"measured alternately in the same run (load average at the end {m['load_average']}).", "",
                  "| run | wall s | x floor | CPU s (all processes) | CPU x floor |", "| --- | ---: | ---: | ---: | ---: |",
                  f"| parse floor (`ast.parse` + libyaml, one process) | {m['floor_s']} | 1 | {m.get('cpu_s', {}).get('floor', '-')} | 1 |",
                  f"| `check`, cold (fresh cache, {m['cores']} processes) | {m['cold_s']} | {m['cold_over_floor']} | {m.get('cpu_s', {}).get('cold', '-')} | {m.get('cpu_over_floor', {}).get('cold', '-')} |",
                  f"| `check`, warm (unchanged plugins) | {m['warm_s']} | {m['warm_over_floor']} | {m.get('cpu_s', {}).get('warm', '-')} | {m.get('cpu_over_floor', {}).get('warm', '-')} |",
                  f"| `check --no-cache --jobs 1` | {m['single_process_s']} | {m['single_over_floor']} | {m.get('cpu_s', {}).get('single', '-')} | {m.get('cpu_over_floor', {}).get('single', '-')} |",
                  "", f"Same findings in all three: {m['same_findings']} ({m['findings']} findings)."]
    lines += ["", "### Targets", "", "| target | value | goal | |", "| --- | --- | --- | --- |"]
    for t in report["targets"]:
        mark = {True: "met", False: "**missed**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {t['value']} | {t['goal']} | {mark} |")
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH ('-' for stdout, then the table goes to stderr)")
    p.add_argument("--quick", action="store_true", help="small workloads and few iterations (a smoke run, numbers mean little)")
    p.add_argument("--iterations", type=int, default=None, help="requests per position and server (default 200; --quick: 5)")
    p.add_argument("--edit-iterations", type=int, default=None, help="edits per file and server (default 40; --quick: 2)")
    p.add_argument("--startup-rounds", type=int, default=None, help="server starts per workload and server (default 5; --quick: 1)")
    p.add_argument("--check-runs", type=int, default=None, help="runs of `dify-lsp check` on the corpus (default 3; --quick: 1)")
    p.add_argument("--realistic-plugins", type=int, default=100, help="plugins in the realistic corpus of bench/corpus.py (default 100; --quick: 12)")
    p.add_argument("--check-corpus", action="append", default=[], metavar="DIR",
                   help="also measure check against the parse floor on DIR, a folder of plugins (repeatable), e.g. Dify's official plugins")
    p.add_argument("--servers", default="dify,jedi,yaml,floor", help="comma-separated subset of dify,jedi,yaml,floor")
    p.add_argument("--workloads", default="example,large", help="comma-separated subset of example,large")
    p.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown to PATH")
    p.add_argument("--keep", action="store_true", help="keep the generated workloads and server logs")
    p.add_argument("--profile", metavar="DIR", help="run dify-lsp under cProfile; one .prof per server process in DIR (main thread only)")
    return p.parse_args(argv)


def build_specs(
    names: list[str], unavailable: dict[str, str], versions: dict[str, str], schema_dir: Path, profile_dir: Path | None = None
) -> list[ServerSpec]:
    specs: list[ServerSpec] = []
    jedi_python: Path | None = None
    if JEDI in names:  # dify-lsp then gets the same interpreter (with the SDK) for its own jedi use
        try:
            jedi_python, jedi_versions = peers_mod.ensure_jedi_venv(log=lambda m: print(m, file=sys.stderr))
            specs.append(peers_mod.jedi_spec(jedi_python, jedi_versions))
        except (PeerUnavailable, OSError, subprocess.SubprocessError) as exc:
            unavailable[JEDI] = str(exc)
    if DIFY in names:
        specs.insert(0, peers_mod.dify_spec(jedi_python, profile_dir))
    if YAMLLS in names:
        try:
            command, version = peers_mod.ensure_yaml_ls(log=lambda m: print(m, file=sys.stderr))
            specs.append(peers_mod.yaml_spec(command, version, write_schemas(schema_dir)))
        except (PeerUnavailable, OSError, subprocess.SubprocessError) as exc:
            unavailable[YAMLLS] = str(exc)
    if FLOOR in names:
        specs.append(peers_mod.floor_spec())
    for s in specs:
        versions[s.name] = s.version
    return specs


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    iterations = args.iterations if args.iterations is not None else (5 if quick else 200)
    edit_iterations = args.edit_iterations if args.edit_iterations is not None else (2 if quick else 40)
    startup_rounds = args.startup_rounds if args.startup_rounds is not None else (1 if quick else 5)
    check_runs = args.check_runs if args.check_runs is not None else (1 if quick else 3)
    names = [peers_mod.SHORT_NAMES.get(n.strip(), n.strip()) for n in args.servers.split(",") if n.strip()]
    workload_names = [n.strip() for n in args.workloads.split(",") if n.strip()]

    # An installed dify-lsp has bytecode (pip compiles it) and so do the floor's pygls and lsprotocol; a
    # checkout run with PYTHONDONTWRITEBYTECODE has none and would compile every module at each start.
    compileall.compile_dir(str(HERE.parent / "dify_lsp"), quiet=1)
    base = Path(tempfile.mkdtemp(prefix="dify-lsp-bench-"))
    logs = base / "logs"
    logs.mkdir()
    try:
        print(f"generating workloads in {base}", file=sys.stderr)
        generated = wl.generate(base / "work", quick=quick)
        unavailable: dict[str, str] = {}
        versions: dict[str, str] = {}
        profile_dir = Path(args.profile).resolve() if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        specs = build_specs(names, unavailable, versions, base / "schemas", profile_dir)
        results = Results()
        rss: dict[str, Any] = {}
        workloads_meta: dict[str, Any] = {}
        for name in workload_names:
            work = generated[name]
            assert isinstance(work, wl.Workload)
            workloads_meta[name] = work.notes
            print(f"[{name}] start-up x{startup_rounds}", file=sys.stderr)
            await measure_startup(specs, work, startup_rounds, results, logs)
            print(f"[{name}] requests x{iterations}, edits x{edit_iterations}", file=sys.stderr)
            session_rss = await measure_session(specs, work, iterations, edit_iterations, results, logs)
            if name == "large" or not rss:
                rss = session_rss
        check = None
        speed: dict[str, Any] = {}
        if DIFY in names and check_runs > 0:  # --check-runs 0: the editor measurements only
            print(f"[corpus] dify-lsp check x{check_runs}", file=sys.stderr)
            check = measure_check(generated["corpus"], check_runs)  # type: ignore[arg-type]
            plugins = 12 if quick else args.realistic_plugins
            print(f"[realistic corpus, {plugins} plugins] check cold / warm / single vs the parse floor x{check_runs}", file=sys.stderr)
            realistic = base / "realistic"
            realistic_corpus.generate(realistic, plugins)
            speed["generated"] = check_speed.measure(realistic, check_runs)
            for extra in args.check_corpus:
                print(f"[{extra}] check cold / warm / single vs the parse floor x{check_runs}", file=sys.stderr)
                speed[str(extra)] = check_speed.measure(Path(extra), check_runs)
        rows = sorted(results.rows.values(), key=lambda r: (workload_names.index(r.workload), r.metric, names.index(r.server) if r.server in names else 9))
        report = {
            "meta": {
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "cores": os.cpu_count(),
                "platform": platform.platform(),
                "python": sys.version.split()[0],
                "versions": versions,
                "unavailable": unavailable,
                "iterations": iterations,
                "edit_iterations": edit_iterations,
                "startup_rounds": startup_rounds,
                "quick": quick,
                "debounce_ms": {k: v for k, v in DEBOUNCE_MS.items() if k in versions},
                "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            },
            "workloads": workloads_meta,
            "results": [r.as_dict() for r in rows],
            "ratios": ratios(results, names),
            "rss": rss,
            "check": check,
            "check_speed": speed,
            "targets": targets(results, rss, check, workloads_meta.get("large"), speed),
        }
        if args.keep:
            report["meta"]["kept"] = str(base)
        return report
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(bench(args))
    table_out = sys.stderr if args.json == "-" else sys.stdout
    print_table(report, out=table_out)
    if args.markdown:
        Path(args.markdown).write_text(render_markdown(report), encoding="utf-8")
    if args.json:
        text = json.dumps(report, indent=1)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-kind run overhead and `plugin run` throughput (part of bench/invocation.py; runnable alone).

    python bench/invocation_kinds.py [--runs 3] [--calls 100] [--json out.json]

For each fixture plugin kind (tests/fixtures/run-{tool,endpoint,agent,model,datasource,trigger}) it runs one
typical request end to end `--runs` times and reports the engine's overhead over the plugin's own start-up
(each run's duration minus that run's plugin start, so machine noise in the start-up does not count), next to the
plugin's start-up alone.  The model provider talks to the fake OpenAI-compatible server on loopback, the
datasource crawls a page on it.  Then it starts one `dify-lsp plugin run` session (the protocol the SDK's
PluginRunner speaks) and sends `--calls` tool invocations one after the other, each waiting for its end line:
invocations per second and the latency distribution; and the same number all in flight at once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the offline OpenAI-compatible server the tests use

from dify_lsp.invocation.engine import resolve_python  # noqa: E402
from fake_openai import FakeOpenAIServer  # noqa: E402
from dify_lsp.invocation.runner import RunRequest, run  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"
DIFY_LSP = Path(sys.executable).with_name("dify-lsp")


def plugin_startup_ms(python: Path, root: Path) -> float:
    env = {**os.environ, "INSTALL_METHOD": "local"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(python), "-m", "main"], cwd=root, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdout.readline()
        return (time.perf_counter() - t0) * 1000
    finally:
        proc.kill()
        proc.wait()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def kind_cases(roots: dict[str, Path], server: FakeOpenAIServer) -> dict[str, object]:
    body = json.dumps({"event": "ticket_opened", "sender": "b", "ticket": {"id": 1, "title": "t", "priority": 1}})
    sig = "sha256=" + hmac.new(b"bench-secret", body.encode(), hashlib.sha256).hexdigest()
    creds = {"api_key": "sk-bench", "endpoint_url": server.base_url}
    return {
        "tool": RunRequest(roots["tool"], "tool", target="word_count", parameters={"text": "one two three"}, use_saved=False),
        "endpoint": RunRequest(roots["endpoint"], "endpoint", target="POST /ask", parameters={"api_key": "k"},
                            headers=[("Authorization", "Bearer k"), ("Content-Type", "application/json")],
                            body=b'{"question": "bench"}', use_saved=False),
        "agent strategy": RunRequest(roots["agent"], "strategy", target="tool_loop", parameters={"query": "count"},
                                  agent_tools=["textkit/word_count"], tool_plugins=[roots["tool"]], use_saved=False),
        "model (llm)": RunRequest(roots["model"], "model", target="llm/loop-chat", credentials=creds, prompt="hi", use_saved=False),
        "datasource": RunRequest(roots["datasource"], "datasource", target="crawl",
                              parameters={"url": server.root_url + "/p.html"}, use_saved=False),
        "trigger": RunRequest(roots["trigger"], "trigger", target="dispatch", request_line="POST /hook",
                           headers=[("X-Hookbox-Signature", sig)], body=body.encode(),
                           subscription={"signing_secret": "bench-secret", "events": ["ticket_opened"]}, use_saved=False),
    }


async def one_run(case: object) -> tuple[str, float, float | None]:
    result = await run(case)
    return result.status, result.duration_ms, result.startup_ms


def kinds_report(runs: int, tmp: Path) -> dict[str, dict[str, float]]:
    roots = {}
    for kind in ("tool", "endpoint", "agent", "model", "datasource", "trigger"):
        roots[kind] = tmp / f"run-{kind}"
        shutil.copytree(FIXTURES / f"run-{kind}", roots[kind])
    out: dict[str, dict[str, float]] = {}
    with FakeOpenAIServer(api_key="sk-bench", pages={"/p.html": "<title>P</title>page"}) as server:
        for label, case in kind_cases(roots, server).items():
            root = case.plugin_root
            python, _ = resolve_python(root, None)
            starts, overheads, totals = [], [], []
            for _ in range(runs):
                starts.append(plugin_startup_ms(python, root))
                status, total, startup = asyncio.run(one_run(case))
                if status != "success":
                    raise SystemExit(f"{label}: the run ended with {status}")
                totals.append(total)
                overheads.append(total - (startup or 0))
            out[label] = {"plugin_startup_ms": statistics.median(starts), "run_ms": statistics.median(totals),
                          "overhead_ms": statistics.median(overheads)}
    return out


def throughput(calls: int, tool_root: Path) -> dict[str, float]:
    proc = subprocess.Popen([str(DIFY_LSP), "plugin", "run", str(tool_root), "--response-format", "json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None

    def read_until(pred) -> dict:
        while True:
            raw = proc.stdout.readline()
            if not raw:
                raise SystemExit("plugin run ended early")
            line = json.loads(raw)
            if pred(line):
                return line

    def request(i: int) -> bytes:
        return json.dumps({"invoke_id": f"b{i}", "type": "tool", "action": "invoke_tool", "request": {
            "user_id": "bench", "provider": "textkit", "tool": "word_count", "credentials": {},
            "tool_parameters": {"text": "w " * (i % 7 + 1)}}}).encode() + b"\n"

    try:
        t_ready = time.perf_counter()
        read_until(lambda line: line["type"] == "plugin_ready")
        ready_ms = (time.perf_counter() - t_ready) * 1000
        latencies = []
        t0 = time.perf_counter()
        for i in range(calls):
            s = time.perf_counter()
            proc.stdin.write(request(i))
            proc.stdin.flush()
            end = read_until(lambda line, i=i: line["invoke_id"] == f"b{i}" and line["type"] in ("plugin_invoke_end", "error"))
            if end["type"] == "error":
                raise SystemExit(f"invocation {i} failed: {end}")
            latencies.append((time.perf_counter() - s) * 1000)
        sequential_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        for i in range(calls, 2 * calls):
            proc.stdin.write(request(i))
        proc.stdin.flush()
        ended = 0
        while ended < calls:
            line = read_until(lambda line: line["type"] in ("plugin_invoke_end", "error"))
            ended += line["type"] == "plugin_invoke_end"
        concurrent_s = time.perf_counter() - t1
    finally:
        proc.stdin.close()
        proc.wait(30)
    return {"calls": calls, "ready_ms": ready_ms, "sequential_per_s": calls / sequential_s,
            "latency_median_ms": statistics.median(latencies), "latency_p95_ms": pct(latencies, 95),
            "in_flight_per_s": calls / concurrent_s}


def report(runs: int, calls: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dify-lsp-bench-kinds-") as tmp:
        kinds = kinds_report(runs, Path(tmp))
        rate = throughput(calls, Path(tmp) / "run-tool")
    print(f"\nper kind (median of {runs}): the plugin's start-up alone, and one run's overhead over its own start")
    for label, row in kinds.items():
        print(f"  {label:<16} start-up {row['plugin_startup_ms']:7.1f} ms   run {row['run_ms']:7.1f} ms   "
              f"overhead {row['overhead_ms']:6.1f} ms")
    print(f"`dify-lsp plugin run`, one session: ready in {rate['ready_ms']:.0f} ms; {calls} sequential tool invocations: "
          f"{rate['sequential_per_s']:.1f}/s (latency median {rate['latency_median_ms']:.2f} ms, p95 "
          f"{rate['latency_p95_ms']:.2f} ms); {calls} in flight at once: {rate['in_flight_per_s']:.1f}/s")
    return {"kinds": kinds, "plugin_run_throughput": rate}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    out = report(args.runs, args.calls)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

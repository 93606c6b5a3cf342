"""Run invocation budgets: the cached run's overhead over the plugin's own start-up, and the
round trip of a mock LLM reverse call.

    python bench/invocation.py [--runs 10] [--calls 200] [--json out.json]

It builds a small plugin in a temporary folder with two tools: `noop` (one text
message) and `llm_loop` (N blocking `self.session.model.llm.invoke` calls, each
timed inside the plugin with perf_counter).  Its dependencies are declared as
real plugins declare them (pyproject.toml + uv.lock, those of the uv_project test
fixture), so each run goes through the run-environment lookup: the first run of a
fresh cache builds the environment with uv (timed and reported apart), every
later one reuses it.  The baseline is the plugin's own start-up: `python -m main`
until it prints its manifest line, with no engine.
"""

from __future__ import annotations

import argparse
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

from dify_lsp.invocation.engine import resolve_python  # noqa: E402
from dify_lsp.invocation.runner import RunRequest, run_sync  # noqa: E402
from dify_lsp.invocation.environments import cached_environment  # noqa: E402

DEPENDENCIES = REPO / "tests" / "fixtures" / "run_plugins" / "uv_project"

NOOP = '''from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage


class NoopTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield self.create_text_message("ok")
'''

LLM_LOOP = '''import time
from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.entities.tool import ToolInvokeMessage


class LLMLoopTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        durations = []
        for i in range(int(tool_parameters["n"])):
            t0 = time.perf_counter()
            self.session.model.llm.invoke(
                model_config=tool_parameters["model"],
                prompt_messages=[UserPromptMessage(content=f"call {i}")],
                stream=False,
            )
            durations.append((time.perf_counter() - t0) * 1000)
        yield self.create_json_message({"durations_ms": durations})
'''


def tool_yaml(name: str, params: str) -> str:
    return (
        f"identity:\n  name: {name}\n  author: bench\n  label:\n    en_US: {name}\n"
        f"description:\n  human:\n    en_US: {name}\n  llm: {name}\n"
        f"parameters:\n{params}extra:\n  python:\n    source: tools/{name}.py\n"
    )


def build_plugin(base: Path) -> Path:
    root = base / "bench-plugin"
    shutil.copytree(REPO / "examples" / "summarizer", root, ignore=shutil.ignore_patterns(".dify", "tools", "__pycache__"))
    (root / "tools").mkdir()
    (root / "tools" / "noop.py").write_text(NOOP)
    (root / "tools" / "noop.yaml").write_text(tool_yaml("noop", ""))  # `parameters:` left empty, as published plugins do
    (root / "tools" / "llm_loop.py").write_text(LLM_LOOP)
    params = (
        "  - name: n\n    type: number\n    required: true\n    label:\n      en_US: n\n"
        "    human_description:\n      en_US: n\n    form: form\n"
        "  - name: model\n    type: model-selector\n    scope: llm\n    required: false\n    label:\n      en_US: model\n"
        "    human_description:\n      en_US: model\n    form: form\n"
    )
    (root / "tools" / "llm_loop.yaml").write_text(tool_yaml("llm_loop", params))
    provider = root / "provider" / "summarizer.yaml"
    provider.write_text(provider.read_text().replace("  - tools/summarize.yaml\n", "  - tools/noop.yaml\n  - tools/llm_loop.yaml\n"))
    (root / "requirements.txt").unlink(missing_ok=True)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(DEPENDENCIES / name, root / name)
    return root


def plugin_startup_ms(python: Path, root: Path) -> float:
    """The plugin's own start-up: until it prints its manifest line."""
    env = {**os.environ, "INSTALL_METHOD": "local"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(python), "-m", "main"], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdout.readline()
        return (time.perf_counter() - t0) * 1000
    finally:
        proc.kill()
        proc.wait()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--kind-runs", type=int, default=3, help="runs per plugin kind (bench/invocation_kinds.py; 0 skips)")
    ap.add_argument("--plugin-run-calls", type=int, default=100, help="sequential invocations in one `plugin run` session")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dify-lsp-bench-run-") as tmp:
        root = build_plugin(Path(tmp))
        was_cached = cached_environment(root) is not None
        t0 = time.perf_counter()
        python, source = resolve_python(root, None, step=lambda text: print(f"[environment] {text}", file=sys.stderr))
        environment_ms = (time.perf_counter() - t0) * 1000
        baseline, engine, in_run = [], [], []
        for _ in range(args.runs):  # alternate, so a noisy moment hits both
            baseline.append(plugin_startup_ms(python, root))
            result = run_sync(RunRequest(root, kind="tool", target="noop", use_saved=False))
            if result.status != "success":
                print(json.dumps(result.to_json(), indent=2), file=sys.stderr)
                return 1
            engine.append(result.duration_ms)
            # the same run's own accounting: everything but the plugin's start (no run-to-run noise)
            in_run.append(result.duration_ms - (result.startup_ms or 0))
        loop = run_sync(RunRequest(root, kind="tool", target="llm_loop", parameters={"n": args.calls}, use_saved=False))
        if loop.status != "success":
            print(json.dumps(loop.to_json(), indent=2), file=sys.stderr)
            return 1
        durations = next(m["json_object"]["durations_ms"] for m in loop.messages if m.get("type") == "json")

    out = {
        "python": f"{python} ({source})",
        "environment": {"cached": was_cached, "ms": environment_ms},
        "runs": args.runs,
        "plugin_startup_ms_median": statistics.median(baseline),
        "engine_run_ms_median": statistics.median(engine),
        "engine_overhead_ms_median": statistics.median(engine) - statistics.median(baseline),
        "in_run_overhead_ms": {"median": statistics.median(in_run), "p90": pct(in_run, 90)},
        "mock_llm_round_trip_ms": {
            "calls": len(durations),
            "median": statistics.median(durations),
            "p95": pct(durations, 95),
            "max": max(durations),
        },
        "budgets": {"in_run_overhead_ms_median": 100, "mock_llm_round_trip_median_ms": 5},
    }
    rt = out["mock_llm_round_trip_ms"]
    print(f"run environment ({'cached' if was_cached else 'built now'}):            {environment_ms:8.1f} ms   ({source})")
    print(f"plugin start-up alone (median of {args.runs}):   {out['plugin_startup_ms_median']:8.1f} ms")
    print(f"whole run of a no-op tool (median):        {out['engine_run_ms_median']:8.1f} ms")
    print(f"cached run's overhead over the plugin's start (each run minus its own plugin start): "
          f"median {out['in_run_overhead_ms']['median']:.1f} ms, p90 {out['in_run_overhead_ms']['p90']:.1f} ms   "
          "(budget: median < 100 ms; environment lookup, index, invoke, teardown)")
    print(f"  cross-check, median whole run - median separate start-up: {out['engine_overhead_ms_median']:8.1f} ms "
          "(noisy on a shared machine: two medians of ~1.5 s numbers)")
    print(f"mock LLM reverse call, {rt['calls']} calls: median {rt['median']:.2f} ms, p95 {rt['p95']:.2f} ms, max {rt['max']:.2f} ms   (budget: median < 5 ms)")
    if args.kind_runs > 0:  # every plugin kind, and the `dify plugin run` protocol's throughput
        from invocation_kinds import report as kinds_report

        out.update(kinds_report(args.kind_runs, args.plugin_run_calls))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

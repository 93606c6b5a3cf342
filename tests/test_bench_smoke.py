"""Smoke test for the benchmark harness (bench/run.py): it runs end to end and its --json is well formed.

Timings are never asserted here: the benchmark shows budgets, tests do not time things.
The peers that need installing (jedi-language-server, yaml-language-server) are left out;
dify-lsp and the floor server run on the example plugin with a handful of requests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import run as bench_run  # noqa: E402
import workloads  # noqa: E402
from json_schemas import json_schema  # noqa: E402


@pytest.mark.timeout(240)
def test_bench_runs_end_to_end_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable, str(BENCH / "run.py"), "--quick", "--servers", "dify,floor", "--workloads", "example",
            "--iterations", "2", "--edit-iterations", "1", "--startup-rounds", "1", "--check-runs", "1", "--json", str(out), "--markdown", str(tmp_path / "bench.md"),
        ],
        capture_output=True,
        text=True,
        timeout=220,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report) >= {"meta", "workloads", "results", "ratios", "rss", "check", "targets"}
    assert report["meta"]["cores"] >= 1 and set(report["meta"]["versions"]) == {"dify-lsp", "floor"}
    assert "== targets" in proc.stdout  # the table was printed
    assert "### Targets" in (tmp_path / "bench.md").read_text()

    measured = {(r["metric"], r["server"]) for r in report["results"] if r["n"] > 0}
    for server in ("dify-lsp", "floor"):
        assert ("start -> initialize reply", server) in measured
        assert ("start -> first diagnostics (llm.py)", server) in measured
        assert ("edit -> diagnostics (llm.py)", server) in measured
        assert ("edit -> diagnostics (llm.yaml)", server) in measured
        for case in [*workloads.PYTHON_PROBES, workloads.TYPED_CASE, *workloads.MANIFEST_PROBES, *workloads.TOOL_PROBES]:
            assert (case, server) in measured, (case, server)
    for row in report["results"]:
        if row["n"]:
            assert row["median_ms"] <= row["p95_ms"] <= row["max_ms"]
    # The floor answers with its fixed item, so its completion is judged as missing the SDK's members.
    floor_model = next(r for r in report["results"] if r["metric"] == "completion@self.session.model." and r["server"] == "floor")
    assert "MISSING llm" in floor_model["check"]
    assert report["check"]["plugins"] == 5 and report["check"]["plugins_per_second"] > 0
    assert report["rss"]["dify-lsp"]["server_peak_rss_mb"] > 0
    # check against the parse floor on the realistic corpus: every mode printed the same findings
    speed = report["check_speed"]["generated"]
    assert speed["plugins"] == 12 and speed["same_findings"] is True and speed["findings"] > 0
    assert speed["floor_s"] > 0 and speed["cpu_s"]["floor"] > 0 and speed["cold_over_floor"] > 0
    assert any(t["target"].startswith("check, warm") for t in report["targets"])
    assert all({"target", "value", "goal", "met"} <= set(t) for t in report["targets"])


def test_summary_uses_nearest_rank_percentiles():
    stats = bench_run.summarize([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert (stats["n"], stats["median_ms"], stats["p95_ms"], stats["max_ms"]) == (100, 50.5, 95.0, 100.0)
    assert bench_run.summarize([]) == {"n": 0}


def test_probe_positions_are_utf16_and_every_edit_makes_a_new_name():
    text = "label: 提示\nx = self.session.model.llm.invoke(\n"
    assert workloads.Probe("提示").position(text) == {"line": 0, "character": 9}
    assert workloads.Probe("self.session.model.", anchor="x =").position(text) == {"line": 1, "character": 23}
    rename = workloads.Rename("label: ", "提示")
    assert bench_run.edit_range(text, rename, 1) == (0, 7, 9, 7, "提示", "提示1")
    renamed = text.replace("提示", "提示1")
    assert bench_run.edit_range(renamed, rename, 2) == (0, 7, 10, 7, "提示1", "提示2")


def test_large_workload_has_the_promised_sizes(tmp_path):
    big = workloads.large(tmp_path, tools=3, python_lines=400, yaml_lines=600)
    assert big.python_file.read_text().count("\n") == 400
    assert big.tool_yaml.read_text().count("\n") == 600
    compile(big.python_file.read_text(), str(big.python_file), "exec")
    assert len(list((big.root / "tools").glob("*.yaml"))) == 3


def test_manifest_json_schema_comes_from_the_schema_data():
    schema = json_schema("manifest")
    assert {"version", "type", "author", "name", "resource", "plugins", "meta"} <= set(schema["required"])
    assert schema["properties"]["type"]["enum"] == ["plugin"]
    assert schema["properties"]["meta"]["properties"]["arch"]["items"]["enum"] == ["amd64", "arm64"]
    tool = json_schema("tool")
    param_type = tool["properties"]["parameters"]["items"]["properties"]["type"]
    assert "model-selector" in param_type["enum"]

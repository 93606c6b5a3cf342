"""A referenced file whose name differs from the disk's only in letter case.

macOS and Windows open such a file (their file systems ignore case); Dify runs plugins on Linux, where it is
missing. So DL002 reports it on every OS, at the reference, and says how the disk spells it. On this Linux
machine the file is missing for the OS too; on the macOS and Windows CI runners it opens, and the same
assertions hold.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dify_lsp.uris import on_disk_spelling


def rename(path: Path, new_name: str) -> Path:
    """Renames in two steps: a case-insensitive file system treats a case-only rename as a no-op."""
    step = path.rename(path.with_name(path.name + ".renaming"))
    return step.rename(path.with_name(new_name))


def check_json(root: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "dify_lsp", "check", "--format", "json", str(root)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().startswith("["), done.stderr
    return json.loads(done.stdout)


def test_on_disk_spelling(tmp_path: Path):
    (tmp_path / "Tools").mkdir()
    (tmp_path / "Tools" / "LLM.yaml").write_text("x")
    assert on_disk_spelling(tmp_path, tmp_path / "tools" / "llm.yaml") == "Tools/LLM.yaml"
    assert on_disk_spelling(tmp_path, tmp_path / "Tools" / "llm.YAML") == "Tools/LLM.yaml"
    assert on_disk_spelling(tmp_path, tmp_path / "Tools" / "LLM.yaml") is None  # spelled the same
    assert on_disk_spelling(tmp_path, tmp_path / "tools" / "other.yaml") is None  # not on disk at all
    assert on_disk_spelling(tmp_path / "Tools", tmp_path / "elsewhere.yaml") is None  # not inside the root


def test_two_spellings_on_disk_are_not_guessed_between(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("x")
    try:
        (tmp_path / "A.yaml").write_text("y")
    except OSError:
        pytest.fail("could not write A.yaml beside a.yaml")
    if len(list(tmp_path.iterdir())) == 1:
        # a case-insensitive disk wrote both into one file: that one spelling is the answer
        assert on_disk_spelling(tmp_path, tmp_path / "A.YAML") == "a.yaml"
    else:
        assert on_disk_spelling(tmp_path, tmp_path / "A.YAML") is None


def test_dl002_for_a_tool_yaml_and_a_python_source_spelled_in_another_case(llm_tool: Path):
    rename(llm_tool / "tools" / "llm.yaml", "LLM.yaml")
    rename(llm_tool / "provider" / "llm.py", "Llm.py")
    provider = (llm_tool / "provider" / "llm.yaml").read_text(encoding="utf-8").split("\n")
    findings = [f for f in check_json(llm_tool) if f["code"] == "DL002"]
    by_raw = {f["message"].split("'")[1]: f for f in findings}
    assert set(by_raw) == {"tools/llm.yaml", "provider/llm.py"}, findings
    for raw, spelled in (("tools/llm.yaml", "tools/LLM.yaml"), ("provider/llm.py", "provider/Llm.py")):
        finding = by_raw[raw]
        assert finding["path"].endswith("provider/llm.yaml")
        line = next(i for i, text in enumerate(provider) if text.rstrip().endswith(raw))
        col = provider[line].index(raw)
        assert finding["range"] == {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + len(raw)}}
        assert f"is spelled {spelled} on disk" in finding["message"]


def test_names_spelled_as_on_disk_are_found(llm_tool: Path):
    assert [f for f in check_json(llm_tool) if f["code"] == "DL002"] == []

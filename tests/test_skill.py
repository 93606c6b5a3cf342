"""The agent skill in skills/dify-plugin: its front matter as agent skills need it, and every script run for real
against copies of the example plugin (through the installed `dify-lsp` on PATH, as an agent would run them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from invocation_helpers import plugin_copy, sdk_python

REPO = Path(__file__).resolve().parent.parent
SKILL = REPO / "skills" / "dify-plugin"
SCRIPTS = SKILL / "scripts"
EXAMPLE = REPO / "examples" / "llm-tool"


def front_matter() -> tuple[dict, str]:
    text = (SKILL / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, "SKILL.md starts with YAML front matter between --- lines"
    return yaml.safe_load(match.group(1)), match.group(2)


def script(name: str, *args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    # the venv's bin first: its dify-lsp is the one under test
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DIFY_LSP", None)
    return subprocess.run([str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    dest = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    return dest


def test_front_matter_is_what_agent_skills_read():
    meta, body = front_matter()
    assert meta["name"] == SKILL.name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    assert 100 <= len(meta["description"]) <= 1024
    assert "Dify" in meta["description"] and "Marketplace" in meta["description"]
    assert len(meta.get("compatibility", "")) <= 500
    assert len(body.splitlines()) < 500  # loaded whole when the skill is used


def test_every_script_is_documented_and_executable():
    _, body = front_matter()
    scripts = sorted(p.name for p in SCRIPTS.iterdir() if not p.name.startswith("_"))
    assert scripts == ["check.sh", "fix.sh", "lookup.sh", "marketplace.sh", "run.sh"]
    for name in scripts:
        assert f"scripts/{name}" in body, name
        assert os.access(SCRIPTS / name, os.X_OK), name
        usage = script(name)
        assert usage.returncode == 2 and name in usage.stderr, (name, usage.stderr)


def test_check_then_fix_then_check(plugin: Path):
    code = plugin / "tools" / "llm.py"
    code.write_text(code.read_text(encoding="utf-8").replace("model.llm.invoke(", "model.llm.invok("), encoding="utf-8")
    found = script("check.sh", str(plugin))
    assert found.returncode == 1
    assert f"{plugin}/tools/llm.py:12:43: error DL201 " in found.stdout
    as_json = json.loads(script("check.sh", str(plugin), "--format", "json").stdout)
    typo = next(f for f in as_json if f["code"] == "DL201")
    start = typo["range"]["start"]
    fixed = script("fix.sh", str(code), "DL201", str(start["line"]), str(start["character"]))
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["finding_gone"] is True
    again = script("check.sh", str(plugin))
    assert again.returncode == 0 and "DL201" not in again.stdout
    nothing = script("fix.sh", str(code), "DL201")
    assert nothing.returncode == 2 and "DL201" in nothing.stderr


def test_lookups(plugin: Path):
    rule = json.loads(script("lookup.sh", "rule", "DL306").stdout)
    assert rule["family"] == "permissions"
    method = json.loads(script("lookup.sh", "session", "model.text_embedding.invoke").stdout)
    assert method["kind"] == "method" and "resource.permission.model.text_embedding" in method["permission"]
    key = json.loads(script("lookup.sh", "yaml", "tool", "parameters.form").stdout)
    assert {v["value"] for v in key["allowed_values"]} == {"llm", "form", "schema"}
    by_file = json.loads(script("lookup.sh", "yaml", str(plugin / "tools" / "llm.yaml"), "identity").stdout)
    assert by_file["kind"] == "tool" and {k["key"] for k in by_file["keys"]} >= {"name", "author", "label"}
    parts = json.loads(script("lookup.sh", "parts", str(plugin)).stdout)
    assert parts["runnable"] == [{"kind": "tool", "target": "llm", "provider": "llm"}]
    wrong = script("lookup.sh", "session", "model.embedding")
    assert wrong.returncode == 2 and "text_embedding" in wrong.stderr


@pytest.mark.slow
def test_run_a_tool_offline(tmp_path: Path):
    python = str(sdk_python())
    plugin = plugin_copy(tmp_path, "all_tools")
    done = script("run.sh", str(plugin), "--tool", "llm_blocking", "--param", "prompt=from the skill", "--python", python)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["text"] == "(mock mock-llm) You said: from the skill"
    failed = script("run.sh", str(plugin), "--tool", "raises", "--python", python)
    assert failed.returncode == 1 and "boom from the tool" in json.loads(failed.stdout)["error"]["message"]


def test_marketplace_submission(plugin: Path, tmp_path: Path):
    blocked = script("marketplace.sh", str(plugin))
    assert blocked.returncode == 1
    assert "error DL621" in blocked.stdout  # the example's author is reserved for Dify's own plugins
    package = plugin.parent / "llm-tool.difypkg"
    assert zipfile.is_zipfile(package)
    assert f"{package}!/manifest.yaml" in blocked.stdout  # the package is checked as the reviewers get it
    # what the review asks for, filled in: ready
    manifest = plugin / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8").replace("author: langgenius", "author: someone")
    manifest.write_text(text + "repo: https://github.com/someone/llm-tool\ncontact: someone@example.com\n", encoding="utf-8")
    for yaml_file in (plugin / "provider" / "llm.yaml", plugin / "tools" / "llm.yaml"):
        yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace("author: langgenius", "author: someone"), encoding="utf-8")
    with open(plugin / "README.md", "a", encoding="utf-8") as fh:
        fh.write("\nSource: https://github.com/someone/llm-tool\n")
    out = tmp_path / "dist" / "submit.difypkg"
    out.parent.mkdir()
    ready = script("marketplace.sh", str(plugin), str(out))
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert f"ready: {out}" in ready.stderr and zipfile.is_zipfile(out)

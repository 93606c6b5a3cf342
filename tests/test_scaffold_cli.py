"""`dify-lsp new tool`: the scaffolded tool checks clean and runs on the real SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dify_lsp.cli import main
from names_helpers import names_plugin

SUMMARIZER = Path(__file__).resolve().parent.parent / "examples" / "summarizer"


def dify(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", *args], capture_output=True, text=True, timeout=timeout)


def test_new_tool_creates_yaml_and_python_and_lists_the_tool(tmp_path):
    plugin = names_plugin(tmp_path)
    provider_before = (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")
    done = dify("new", "tool", "web_search", "--plugin", str(plugin / "tools"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["created tools/web_search.yaml", "created tools/web_search.py", "updated provider/asker.yaml"]
    provider_after = (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")
    assert provider_after == provider_before.replace("  - tools/ask.yaml\n", "  - tools/ask.yaml\n  - tools/web_search.yaml\n")
    assert "class WebSearchTool(Tool):" in (plugin / "tools" / "web_search.py").read_text(encoding="utf-8")
    checked = dify("check", str(plugin), "--format", "json", "--select", "ALL")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout) == []


@pytest.mark.parametrize(
    "name, message",
    [
        ("ask", "already has a tool named 'ask'"),
        ("bad name", "is not a valid tool name"),
    ],
)
def test_new_tool_refuses_taken_or_invalid_names(tmp_path, capsys, name, message):
    plugin = names_plugin(tmp_path)
    before = sorted(p.relative_to(plugin) for p in plugin.rglob("*"))
    assert main(["new", "tool", name, "--plugin", str(plugin)]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.relative_to(plugin) for p in plugin.rglob("*")) == before


def test_new_tool_outside_a_plugin_is_a_usage_error(tmp_path, capsys):
    assert main(["new", "tool", "x", "--plugin", str(tmp_path)]) == 2
    assert "no Dify plugin" in capsys.readouterr().err


def test_new_tool_with_two_providers_asks_which(tmp_path, capsys):
    plugin = names_plugin(tmp_path)
    second = plugin / "provider" / "second.yaml"
    second.write_text((plugin / "provider" / "asker.yaml").read_text(encoding="utf-8").replace("name: asker", "name: second"), encoding="utf-8")
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("    - provider/asker.yaml\n", "    - provider/asker.yaml\n    - provider/second.yaml\n"), encoding="utf-8")
    assert main(["new", "tool", "x", "--plugin", str(plugin)]) == 2
    assert "several tool providers" in capsys.readouterr().err
    assert main(["new", "tool", "x", "--plugin", str(plugin), "--provider", str(second)]) == 0
    assert "tools/x.yaml" in second.read_text(encoding="utf-8")
    assert "tools/x.yaml" not in (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_scaffolded_tool_runs_on_the_sdk(tmp_path):
    from invocation_helpers import sdk_python

    python = str(sdk_python())
    plugin = tmp_path / "summarizer"
    import shutil

    shutil.copytree(SUMMARIZER, plugin, ignore=shutil.ignore_patterns(".dify", "__pycache__", ".venv"))
    assert main(["new", "tool", "echo-back", "--plugin", str(plugin)]) == 0
    done = dify("run", str(plugin), "--tool", "echo-back", "--param", "query=hello there", "--python", python, "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert result["text"] == "echo-back received query='hello there'"

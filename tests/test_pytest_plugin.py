"""The pytest plugin (entry point pytest11 `dify_lsp`): its fixtures run real plugins, tested with pytester."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from invocation_helpers import sdk_python

pytestmark = pytest.mark.slow  # real plugin runs

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def plugin_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pytester folder laid out as a plugin author's repository: the plugin at the root, tests/ inside."""
    python = sdk_python()
    # pytester gives HOME a fresh folder: keep the run environments the suite already built (<cache>/dify-lsp/envs/*)
    monkeypatch.setenv("XDG_CACHE_HOME", str(python.parents[4]))
    root = Path(pytester.path)
    for item in (FIXTURES / "run-tool").iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, root / item.name)
    shutil.copytree(FIXTURES / "run-endpoint", root / "ext" / "run-endpoint")
    shutil.copytree(FIXTURES / "run-agent", root / "ext" / "run-agent")
    pytester.makeini("[pytest]\ndify_tool_plugins =\n    .\n")
    assert python.exists()  # the plugins run in the SDK environment the suite builds
    return root


def test_dify_plugin_runner_is_plugin_runner_compatible_and_has_helpers(pytester: pytest.Pytester, plugin_project: Path):
    (plugin_project / "tests").mkdir()
    (plugin_project / "tests" / "test_textkit.py").write_text('''
import json

import pytest


def test_invoke_like_plugin_runner(dify_plugin_runner):
    chunks = list(dify_plugin_runner.invoke("tool", "invoke_tool", {
        "user_id": "u", "provider": "textkit", "tool": "word_count", "credentials": {},
        "tool_parameters": {"text": "a b a", "mode": "unique"}}))
    assert chunks[0] == {"type": "text", "message": {"text": "2 words"}, "meta": None}


def test_run_tool_helper(dify_plugin_runner):
    messages = dify_plugin_runner.run_tool("word_count", {"text": "x y z"})
    assert messages[1]["message"]["json_object"] == {"count": 3, "mode": "all"}


def test_failures_raise_value_error(dify_plugin_runner):
    with pytest.raises(ValueError, match="revoked"):
        list(dify_plugin_runner.invoke("tool", "validate_tool_credentials", {
            "provider": "textkit", "credentials": {"license_key": "revoked"}}))
    with pytest.raises(ValueError, match="unknown action"):
        list(dify_plugin_runner.invoke("tool", "nope", {}))


def test_other_plugins_and_endpoint_helper(dify_plugin_runner_factory):
    endpoint = dify_plugin_runner_factory("ext/run-endpoint")
    answer = endpoint.call_endpoint("POST", "/ask", headers={"Authorization": "Bearer k"},
                                    body={"question": "hello"}, settings={"api_key": "k"})
    deltas = [json.loads(line).get("delta", "") for line in answer["body"].splitlines()]
    assert answer["status"] == 200 and "".join(deltas) == "(mock mock-llm) You said: hello"


def test_agent_tools_come_from_the_ini_tool_plugins(dify_plugin_runner_factory):
    agent = dify_plugin_runner_factory("ext/run-agent")
    tool = {"identity": {"author": "a", "name": "word_count", "label": {"en_US": "w"}, "provider": "textkit"},
            "parameters": [{"name": "text", "type": "string", "form": "llm", "required": True,
                            "label": {"en_US": "t"}, "human_description": {"en_US": "t"}}],
            "description": {"human": {"en_US": "w"}, "llm": "counts words"}}
    chunks = list(agent.invoke("agent_strategy", "invoke_agent_strategy", {
        "agent_strategy_provider": "loop_agent", "agent_strategy": "tool_loop",
        "agent_strategy_params": {"model": {"provider": "p", "model": "m", "model_type": "llm", "mode": "chat"},
                                  "tools": [tool], "query": "count"}}))
    text = [c["message"]["text"] for c in chunks if c["type"] == "text"]
    assert text and "The tool answered: 1 words" in text[0]
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "tests", timeout=600)
    result.assert_outcomes(passed=5)
    # every plugin the fixtures started (the tool plugin twice: under test and as the agent's tool) is gone
    left = []
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) == os.getpid():  # this test itself runs in the pytester folder
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(plugin_project)):
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = "?"
            left.append((proc.name, cwd, cmd))
    assert left == []


def test_without_a_manifest_the_fixture_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile(test_x="def test_x(dify_plugin_runner):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)
    result.stdout.fnmatch_lines(["*no manifest.yaml at or above the test file*"])
    assert result.ret != 0

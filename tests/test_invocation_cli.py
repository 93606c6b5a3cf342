"""`dify-lsp run`: exit codes, text and JSON output (real plugin runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from invocation_helpers import plugin_copy, sdk_python

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def python() -> str:
    return str(sdk_python())


def dify_run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", "run", *args], capture_output=True, text=True, timeout=timeout)


def test_example_plugin_shows_the_streamed_mock_answer_and_the_transcript(tmp_path, python):
    plugin = plugin_copy(tmp_path, "llm-tool")
    done = dify_run(str(plugin), "--tool", "llm", "--param", "prompt=Tell me a joke", "--python", python)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(mock gpt-4o-mini) the user message has no content (None)"
    assert "--- reverse invocations (1)" in done.stderr
    assert '"role": "user", "content": null' in done.stderr
    assert "content null" in done.stderr and "--- success" in done.stderr


def test_json_format_and_params_file(tmp_path, python):
    plugin = plugin_copy(tmp_path, "all_tools")
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"prompt": "from a file"}))
    done = dify_run(str(plugin), "--tool", "llm_blocking", "--params-file", str(params), "--format", "json", "--python", python)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["text"] == "(mock mock-llm) You said: from a file"
    assert result["transcript"][0]["type"] == "llm"


def test_failing_tool_exits_1_with_traceback(tmp_path, python):
    plugin = plugin_copy(tmp_path, "all_tools")
    done = dify_run(str(plugin), "--tool", "raises", "--python", python)
    assert done.returncode == 1
    assert "--- error: ValueError: boom from the tool" in done.stderr
    assert "Traceback" in done.stderr


def test_timeout_exits_1(tmp_path, python):
    plugin = plugin_copy(tmp_path, "all_tools")
    # 8 s: long enough for a loaded machine to start the SDK and reach the tool
    done = dify_run(str(plugin), "--tool", "hangs", "--param", f"pid_file={tmp_path / 'pid'}", "--timeout", "8", "--python", python)
    assert done.returncode == 1
    assert "did not finish within 8 s" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--tool", "nope"], "tool `nope` not found"),
    (["--tool", "llm_stream"], "missing required parameters: `prompt` (string)"),
    (["--tool", "secret", "--param", "token"], "--param 'token': expected NAME=VALUE"),
    (["--tool", "llm_stream", "--backend", "nope"], "invalid choice"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    plugin = plugin_copy(tmp_path, "all_tools")
    done = dify_run(str(plugin), *args, "--python", sys.executable)
    assert done.returncode == 2
    assert message in done.stderr


def test_not_a_plugin_folder_exits_2(tmp_path):
    done = dify_run(str(tmp_path), "--tool", "x")
    assert done.returncode == 2 and "no manifest.yaml" in done.stderr

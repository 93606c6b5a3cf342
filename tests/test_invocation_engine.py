"""Real runs of fixture plugins with dify-plugin 0.10.2 over the stdio protocol (mock backend)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest

from dify_lsp.invocation.runner import RunRequest
from dify_lsp.invocation.runner import run as run_request
from dify_lsp.invocation.parameters import InvocationError

from invocation_helpers import alive, plugin_copy, sdk_python, zombie_children

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)] if hasattr(pytest.mark, "timeout") else [pytest.mark.slow]


@pytest.fixture(scope="module")
def python() -> str:
    return str(sdk_python())


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    return plugin_copy(tmp_path, "all_tools")


async def run(plugin: Path, python: str, tool: str, timeout: float = 60, **kw):
    spec = RunRequest(plugin_root=plugin, kind="tool", target=tool, python=python, timeout=timeout, **kw)
    return await asyncio.wait_for(run_request(spec), timeout + 30)


def json_messages(result) -> list:
    return [m["json_object"] for m in result.messages if m["type"] == "json"]


async def test_streams_text_json_link_variable_and_reassembled_blob(plugin, python):
    result = await run(plugin, python, "stream_text")
    assert result.status == "success", result.error
    assert result.text == "one two three"
    types = [m["type"] for m in result.messages]
    assert types == ["text", "json", "link", "variable", "blob"]
    blob = result.messages[-1]
    assert blob["size"] == 256 * 80 and blob["mime_type"] == "application/octet-stream"
    assert base64.b64decode(blob["data_base64"]) == bytes(range(256)) * 80
    assert result.messages[3] == {"type": "variable", "variable_name": "answer", "variable_value": 42, "stream": False}
    assert result.transcript == [] and result.warnings == []


async def test_llm_streamed_answer_and_transcript(plugin, python):
    result = await run(plugin, python, "llm_stream", parameters={"prompt": "what is up"})
    assert result.status == "success", result.error
    assert result.text == "(mock mock-llm) You said: what is up"
    [entry] = result.transcript
    assert entry["type"] == "llm" and entry["error"] is None and entry["backend"] == "mock"
    # the empty model-selector got the backend's default llm
    assert entry["request"]["model"] == "mock-llm" and entry["request"]["stream"] is True
    assert entry["request"]["prompt_messages"][0]["content"] == "what is up"
    assert entry["response"]["chunks"] > 1 and entry["response"]["finish_reason"] == "stop"
    assert json_messages(result) == [{"total_tokens": entry["response"]["usage"]["total_tokens"]}]
    assert entry["duration_ms"] < 1000


async def test_llm_blocking_gets_one_result_with_usage(plugin, python):
    result = await run(plugin, python, "llm_blocking", parameters={"prompt": "hi"},
                       )
    assert result.status == "success", result.error
    assert result.text == "(mock mock-llm) You said: hi"
    assert json_messages(result) == [{"completion_tokens": 6}]
    assert result.transcript[0]["request"]["stream"] is False


async def test_text_embedding_and_rerank(plugin, python):
    emb = await run(plugin, python, "embed", parameters={"texts": "a cat,a dog,a cat"})
    assert emb.status == "success", emb.error
    [data] = json_messages(emb)
    assert data["count"] == 3 and data["dims"] == [128] and data["tokens"] == 6
    rr = await run(plugin, python, "rerank", parameters={"query": "black cat", "docs": "a dog|a black cat|cat food|boat"})
    assert rr.status == "success", rr.error
    [ranked] = json_messages(rr)
    # word overlap, score_threshold 0.1 and top_n 2 applied as the SDK config asked
    assert [d["index"] for d in ranked["docs"]] == [1, 2]
    assert ranked["docs"][0]["score"] == 1.0 and ranked["docs"][1]["score"] == 0.5


async def test_storage_persists_between_runs_in_the_plugin_store(plugin, python):
    first = await run(plugin, python, "storage", parameters={"key": "greeting", "value": "hello"})
    assert first.status == "success", first.error
    assert json_messages(first) == [{"before": None, "after": "hello",
                                     "missing": "load data failed, please check if the key is correct or you have not set it"}]
    second = await run(plugin, python, "storage", parameters={"key": "greeting", "value": "bye"})
    assert json_messages(second)[0]["before"] == "hello"
    stored = list((plugin / ".dify" / "storage").glob("k_*"))
    assert [p.read_bytes() for p in stored] == [b"bye"]


async def test_tts_returns_audio_bytes(plugin, python):
    result = await run(plugin, python, "tts", parameters={"text": "two words"})
    assert result.status == "success", result.error
    assert result.text.endswith("header b'RIFF'")
    blob = [m for m in result.messages if m["type"] == "blob"][0]
    assert blob["mime_type"] == "audio/wav" and base64.b64decode(blob["data_base64"])[:4] == b"RIFF"
    assert result.transcript[0]["response"]["bytes"] == blob["size"]


async def test_other_model_types_summary_moderation_upload(plugin, python):
    result = await run(plugin, python, "misc_models")
    assert result.status == "success", result.error
    [data] = json_messages(result)
    assert data == {
        "structured": {"city": "mock", "rank": 0}, "summary_len": 200, "flagged": True, "clean": False,
        "transcript": "mock transcript of 8 bytes of audio", "mm_dims": 128,
        "upload": {"name": "note.txt", "size": 12, "mime_type": "text/plain"},
    }
    assert [e["type"] for e in result.transcript] == [
        "llm_structured_output", "system_summary", "moderation", "moderation", "speech2text", "multimodal_embedding", "upload_file"]
    uploaded = list((plugin / ".dify" / "uploads").rglob("note.txt"))
    assert [p.read_bytes() for p in uploaded] == [b"hello upload"]


async def test_a_raising_tool_reports_the_plugin_traceback(plugin, python):
    result = await run(plugin, python, "raises")
    assert result.status == "error"
    assert result.text == "about to fail"
    assert result.error["type"] == "ValueError" and result.error["message"] == "boom from the tool"
    assert 'raises.py", line' in result.error["traceback"]


async def test_a_hanging_tool_is_killed_with_its_process_tree(plugin, python, tmp_path):
    pid_file = tmp_path / "child.pid"
    started = time.perf_counter()
    # 10 s: the plugin must get to the tool first, and a loaded machine can take seconds to start it
    result = await run(plugin, python, "hangs", timeout=10, parameters={"pid_file": str(pid_file)})
    assert result.status == "timeout"
    assert "did not finish within 10 s" in result.error["message"]
    assert time.perf_counter() - started < 10 + 1
    grandchild = int(pid_file.read_text())
    for _ in range(50):
        if not alive(grandchild):
            break
        await asyncio.sleep(0.1)
    assert not alive(grandchild), "the plugin's child process survived the timeout"
    assert zombie_children() == []


async def test_cancel_event_kills_the_run(plugin, python, tmp_path):
    cancel = asyncio.Event()
    spec = RunRequest(plugin_root=plugin, kind="tool", target="hangs", python=python, timeout=60,
                   parameters={"pid_file": str(tmp_path / "p")})

    def progress(kind, text):
        if kind == "text" and text == "started":
            cancel.set()

    result = await asyncio.wait_for(run_request(spec, progress, cancel), 30)
    assert result.status == "cancelled"
    assert zombie_children() == []


async def test_print_to_stdout_is_a_warning(plugin, python):
    result = await run(plugin, python, "prints")
    assert result.status == "success" and result.text == "printed"
    assert len(result.warnings) == 1
    assert "'debugging output from print'" in result.warnings[0] and "logs such a line as an error and drops it" in result.warnings[0]


async def test_missing_permission_fails_with_the_daemon_text(tmp_path, python):
    plugin = plugin_copy(tmp_path, "no_permission")
    result = await run(plugin, python, "llm_stream", parameters={"prompt": "hi"})
    assert result.status == "error"
    assert result.error["message"] == "permission denied, you need to enable llm access in plugin manifest"
    assert result.transcript[0]["error"] == "permission denied, you need to enable llm access in plugin manifest"


async def test_secrets_never_appear_in_results_or_logs(plugin, python):
    seen: list[str] = []
    spec = RunRequest(plugin_root=plugin, kind="tool", target="secret", python=python, timeout=60,
                   parameters={"token": "tok-SECRET-123"}, credentials={"api_key": "cred-SECRET-456"})
    result = await run_request(spec, lambda kind, text: seen.append(text))
    dumped = json.dumps(result.to_json()) + "\n".join(seen)
    assert "tok-SECRET-123" not in dumped and "cred-SECRET-456" not in dumped
    assert result.text == "token=****** cred=****** mode=short count=1"
    assert result.error["message"] == "failing with ****** and ******"
    assert result.parameters["token"] == "******"


async def test_example_llm_tool_query_mistake_sends_a_null_prompt(tmp_path, python):
    plugin = plugin_copy(tmp_path, "llm-tool")
    result = await run(plugin, python, "llm", parameters={"prompt": "Tell me a joke"})
    assert result.status == "success", result.error
    [entry] = result.transcript
    # the SDK sends UserPromptMessage(content=None) as it is: the real mistake is visible
    assert entry["request"]["prompt_messages"][1] == {"role": "user", "content": None, "name": None}
    assert result.text == "(mock gpt-4o-mini) the user message has no content (None)"
    assert any("content null" in w for w in result.warnings)


async def test_saved_invocation_file_supplies_parameters_and_canned_answers(plugin, python):
    saved = plugin / ".dify" / "invocations"
    saved.mkdir(parents=True)
    (saved / "llm_stream.yaml").write_text(
        "parameters:\n  prompt: from the file\nmodels:\n  model: {provider: acme, model: big-1}\nresponses:\n  llm: canned answer\n")
    result = await run(plugin, python, "llm_stream")
    assert result.status == "success", result.error
    assert result.text == "canned answer"
    assert result.transcript[0]["request"]["provider"] == "acme" and result.transcript[0]["request"]["model"] == "big-1"


async def test_usage_errors_raise_before_any_process_starts(plugin, python):
    with pytest.raises(InvocationError, match="missing required parameters: `prompt` \\(string\\)"):
        await run(plugin, python, "llm_stream")
    with pytest.raises(InvocationError, match="tool `nope` not found"):
        await run(plugin, python, "nope")
    with pytest.raises(InvocationError, match="'huge' is not one of the options"):
        await run(plugin, python, "secret", parameters={"token": "t", "mode": "huge"})
    with pytest.raises(InvocationError, match="above the maximum 5"):
        await run(plugin, python, "secret", parameters={"token": "t", "count": "9"})


async def test_plugin_that_cannot_start_reports_stderr(plugin, python):
    (plugin / "main.py").write_text("raise SystemExit('cannot start: broken main')\n")
    result = await run(plugin, python, "stream_text")
    assert result.status == "error" and result.error["type"] == "PluginStartError"
    assert "cannot start: broken main" in result.error["traceback"]

"""`dify-lsp run` for every non-tool kind: endpoints (and --serve), agent strategies, models, datasources, triggers.

Each case runs the real SDK on a fixture plugin of its kind (tests/fixtures/run-*), as a user would from a shell.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fake_openai import FakeOpenAIServer
from invocation_helpers import sdk_python

pytestmark = pytest.mark.slow  # real plugin runs

FIXTURES = Path(__file__).parent / "fixtures"
DIFY_LSP = Path(sys.executable).with_name("dify-lsp")


@pytest.fixture
def fixture_copy(tmp_path):
    sdk_python()

    def copy(kind: str) -> Path:
        dst = tmp_path / f"run-{kind}"
        if not dst.exists():
            shutil.copytree(FIXTURES / f"run-{kind}", dst)
        return dst

    return copy


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(DIFY_LSP), "run", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_json(*args: str) -> dict:
    done = run(*args, "--format", "json")
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def test_endpoint_request_streams_llm_answer_and_embedding(fixture_copy):
    root = fixture_copy("endpoint")
    out = run_json(str(root), "--endpoint", "POST /ask", "--header", "Authorization: Bearer key-42",
                   "--header", "Content-Type: application/json", "--body", '{"question": "what is a plugin"}',
                   "--setting", "api_key=key-42")
    assert out["status"] == "success", out
    assert out["summary"]["status"] == 200
    lines = [json.loads(line) for line in out["summary"]["body"].splitlines()]
    assert "".join(line.get("delta", "") for line in lines) == "(mock mock-llm) You said: what is a plugin"
    assert lines[-1] == {"embedding_dims": 128}
    assert [t["type"] for t in out["transcript"]] == ["llm", "text_embedding"]
    # the secret setting never appears in the result
    assert "key-42" not in json.dumps(out)


def test_endpoint_text_output_and_missing_setting(fixture_copy):
    root = fixture_copy("endpoint")
    done = run(str(root), "--endpoint", "GET /health/abc", "--setting", "api_key=x")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HTTP 200\n") and '{"ok": true, "name": "abc"}' in done.stdout
    missing = run(str(root), "--endpoint", "GET /health/abc")
    assert missing.returncode == 2 and "missing required settings: `api_key` (secret-input)" in missing.stderr


def test_saved_invocation_file_per_kind(fixture_copy):
    root = fixture_copy("endpoint")
    saved = root / ".dify" / "invocations" / "endpoint-post-ask.yaml"
    saved.parent.mkdir(parents=True)
    saved.write_text("parameters:\n  api_key: from-the-file\n")
    out = run_json(str(root), "--endpoint", "POST /ask", "--header", "Authorization: Bearer from-the-file",
                   "--header", "Content-Type: application/json", "--body", '{"question": "q"}')
    assert out["summary"]["status"] == 200
    ignored = run_json(str(root), "--endpoint", "POST /ask", "--no-saved", "--setting", "api_key=other",
                       "--header", "Authorization: Bearer from-the-file", "--body", '{"question": "q"}')
    assert ignored["summary"]["status"] == 401


def test_agent_strategy_calls_the_local_tool_and_answers(fixture_copy):
    agent, tool = fixture_copy("agent"), fixture_copy("tool")
    out = run_json(str(agent), "--strategy", "tool_loop", "--agent-tool", "textkit/word_count",
                   "--tool-plugin", str(tool), "--param", "query=how many words")
    assert out["status"] == "success", out
    assert [t["type"] for t in out["transcript"]] == ["llm", "tool", "llm"]
    call = out["transcript"][0]["response"]["tool_calls"][0]["function"]
    assert call["name"] == "word_count" and isinstance(json.loads(call["arguments"])["text"], str)
    assert out["transcript"][1]["request"]["tool"] == "word_count"
    assert out["summary"]["text"].startswith("(mock mock-llm) You said: how many words. The tool answered: 1 words")


def test_agent_tool_invoke_is_denied_without_the_tool_permission(fixture_copy):
    agent, tool = fixture_copy("agent"), fixture_copy("tool")
    manifest = agent / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("    tool:\n      enabled: true\n", ""))
    out = run_json(str(agent), "--strategy", "tool_loop", "--agent-tool", "textkit/word_count",
                   "--tool-plugin", str(tool), "--param", "query=count")
    tool_calls = [t for t in out["transcript"] if t["type"] == "tool"]
    assert tool_calls and "permission denied" in tool_calls[0]["error"].lower()


def test_agent_tool_answer_canned_in_the_invocation_file(fixture_copy, tmp_path):
    agent = fixture_copy("agent")
    params = tmp_path / "inv.yaml"
    params.write_text("parameters:\n  query: count\nresponses:\n  tool:\n    textkit/word_count:\n"
                      "      - {type: text, message: {text: 'canned 99 words'}, meta: null}\n")
    out = run_json(str(agent), "--strategy", "tool_loop", "--params-file", str(params),
                   "--param", 'tools=[{"identity": {"author": "a", "name": "word_count", "label": {"en_US": "w"}, '
                   '"provider": "textkit"}, "parameters": [], "description": {"human": {"en_US": ""}, "llm": "count"}}]')
    assert out["status"] == "success", out
    assert "The tool answered: canned 99 words" in out["summary"]["text"]


def test_model_provider_against_a_fake_server(fixture_copy):
    root = fixture_copy("model")
    with FakeOpenAIServer(api_key="sk-model-key") as server:
        creds = ["--credential", "api_key=sk-model-key", "--credential", f"endpoint_url={server.base_url}"]
        llm = run_json(str(root), "--model", "llm/loop-chat", *creds, "--prompt", "say hi")
        emb = run_json(str(root), "--model", "text-embedding/loop-embed", *creds, "--prompt", "embed me")
        bad = run_json(str(root), "--model", "llm/loop-chat", "--credential", "api_key=wrong-key",
                       "--credential", f"endpoint_url={server.base_url}", "--action", "validate_provider_credentials")
    assert llm["status"] == "success" and llm["summary"]["text"] == "(fake loop-chat) You said: say hi"
    assert emb["summary"]["count"] == 1 and emb["summary"]["dims"] == [128]
    assert bad["status"] == "error" and "401" in bad["error"]["message"]
    assert "sk-model-key" not in json.dumps(llm) and "wrong-key" not in json.dumps(bad)


def test_datasource_crawl(fixture_copy):
    root = fixture_copy("datasource")
    pages = {"/a.html": '<title>A</title><a href="/b.html">b</a>', "/b.html": "<title>B</title>bee"}
    with FakeOpenAIServer(pages=pages) as server:
        out = run_json(str(root), "--datasource", "crawl", "--param", f"url={server.root_url}/a.html",
                       "--param", "follow_links=true")
    assert out["status"] == "success", out
    assert out["summary"]["status"] == "completed"
    assert [p["title"] for p in out["summary"]["web_info_list"]] == ["A", "B"]


def test_trigger_subscribe_then_dispatch_a_signed_webhook(fixture_copy):
    root = fixture_copy("trigger")
    sub = run_json(str(root), "--trigger", "subscribe", "--credential", "account_token=hb_token", "--param", "events=ticket_opened")
    assert sub["status"] == "success", sub
    props = sub["summary"]["subscription"]["properties"]
    body = json.dumps({"event": "ticket_opened", "sender": "cy", "ticket": {"id": 9, "title": "Down", "priority": 2}})
    sig = "sha256=" + hmac.new(b"s3cret-value", body.encode(), hashlib.sha256).hexdigest()
    out = run_json(str(root), "--request", "POST /hook", "--header", f"X-Hookbox-Signature: {sig}", "--body", body,
                   "--subscription", "signing_secret=s3cret-value", "--subscription", f"events={json.dumps(props['events'])}")
    assert out["status"] == "success", out
    assert out["summary"]["events"] == ["ticket_opened"] and out["summary"]["response"]["status"] == 200
    assert out["summary"]["invoked"][0]["result"]["variables"] == {"ticket_id": "9", "title": "Down", "priority": 2.0}
    assert "s3cret-value" not in json.dumps(out)
    bad = run_json(str(root), "--request", "POST /hook", "--header", "X-Hookbox-Signature: sha256=00", "--body", body,
                   "--subscription", "signing_secret=s3cret-value")
    assert bad["status"] == "error" and "Signature" in bad["error"]["message"]


def test_usage_errors_name_what_is_wrong(fixture_copy):
    agent = fixture_copy("agent")
    done = run(str(agent), "--strategy", "nope")
    assert done.returncode == 2 and "no agent strategy 'nope' in this plugin (it has: tool_loop)" in done.stderr
    done = run(str(agent), "--endpoint", "GET /x")
    assert done.returncode == 2 and "declares no endpoints" in done.stderr
    done = run(str(agent), "--strategy", "tool_loop", "--agent-tool", "textkit/word_count", "--param", "query=q")
    assert done.returncode == 2 and "pass --tool-plugin DIR" in done.stderr
    # two strategies and none named: the whole sentence, in the user's language too
    second = (agent / "strategies" / "tool_loop.yaml").read_text().replace("name: tool_loop", "name: second", 1)
    assert "name: second" in second
    (agent / "strategies" / "second.yaml").write_text(second)
    provider = agent / "provider" / "agent.yaml"
    provider.write_text(provider.read_text().replace("  - strategies/tool_loop.yaml\n", "  - strategies/tool_loop.yaml\n  - strategies/second.yaml\n"))
    done = run(str(agent), "--param", "query=q")
    assert done.returncode == 2 and "the plugin has 2 agent strategies; name one (second, tool_loop)" in done.stderr, done.stderr
    done = subprocess.run([str(DIFY_LSP), "run", str(agent), "--param", "query=q"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env={**os.environ, "LANGUAGE": "ja"})
    assert done.returncode == 2 and "プラグインにはエージェント戦略が 2 個あります" in done.stderr, done.stderr


def test_serve_forwards_real_http_requests(fixture_copy, tmp_path):
    root = fixture_copy("endpoint")
    proc = subprocess.Popen([str(DIFY_LSP), "run", str(root), "--serve", "0", "--setting", "api_key=serve-key"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.monotonic() + 90
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "serving" in line:
                port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert port, "the server did not start"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/web", timeout=30) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"ok": True, "name": "web"}
        req = urllib.request.Request(f"http://127.0.0.1:{port}/ask", data=b'{"question": "streamed?"}', method="POST",
                                     headers={"Authorization": "Bearer serve-key", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.headers["Transfer-Encoding"] == "chunked"
            lines = [json.loads(line) for line in resp.read().decode().splitlines()]
        assert "".join(line.get("delta", "") for line in lines).endswith("You said: streamed?")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nowhere", timeout=30)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        else:
            raise AssertionError("expected 404")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    plugin_pids = [p for p in Path("/proc").glob("[0-9]*") if _cwd(p) == str(root)]
    assert plugin_pids == []


def _cwd(proc: Path) -> str | None:
    try:
        return os.readlink(proc / "cwd")
    except OSError:
        return None


def test_model_rerank_tts_moderation_and_schema_actions(fixture_copy):
    root = fixture_copy("model")
    with FakeOpenAIServer(api_key="sk-model-key") as server:
        creds = ["--credential", "api_key=sk-model-key", "--credential", f"endpoint_url={server.base_url}"]
        rerank = run_json(str(root), "--model", "rerank/loop-rerank", *creds, "--prompt", "red apples",
                          "--param", 'docs=["blue sky", "red apples", "apples"]')
        tts = run_json(str(root), "--model", "tts/loop-voice", *creds, "--prompt", "four words right here")
        moderation = run_json(str(root), "--model", "moderation/loop-guard", *creds, "--prompt", "a bomb")
        schema = run_json(str(root), "--model", "llm/loop-chat", *creds, "--action", "get_ai_model_schemas")
    assert [d["index"] for d in rerank["summary"]["docs"]] == [1, 2, 0]
    assert tts["status"] == "success" and tts["summary"]["bytes"] > 44
    assert moderation["summary"] == {"result": True}
    assert schema["summary"]["model_schema"]["model"] == "loop-chat"


def test_offline_model_tool_call_is_valid_against_the_schema_then_answers():
    from dify_lsp.invocation.backends.mock import tool_call_for

    schema = {"type": "object", "required": ["city", "days", "units", "tags"], "properties": {
        "city": {"type": "string", "minLength": 8},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "units": {"type": "string", "enum": ["metric", "imperial"]},
        "tags": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 2},
        "when": {"type": "string", "format": "date-time"},
        "ratio": {"type": "number", "exclusiveMinimum": 0.5},
        "flag": {"type": ["boolean", "null"]},
    }}
    tools = [{"name": "search", "description": "", "parameters": {"type": "object", "properties": {}}},
             {"name": "forecast", "description": "", "parameters": schema}]
    request = {"prompt_messages": [{"role": "user", "content": "the forecast please"}], "tools": tools}
    call = tool_call_for(request)
    assert call["function"]["name"] == "forecast"  # the tool the user names, else the first
    args = json.loads(call["function"]["arguments"])
    assert set(schema["required"]) <= set(args)
    assert isinstance(args["city"], str) and len(args["city"]) >= 8
    assert isinstance(args["days"], int) and 1 <= args["days"] <= 7
    assert args["units"] in ("metric", "imperial")
    assert len(args["tags"]) >= 2 and all("@" in t for t in args["tags"])
    assert args["ratio"] > 0.5 and args["flag"] is False and args["when"].endswith("Z")
    answered = {**request, "prompt_messages": request["prompt_messages"] + [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "sunny", "tool_call_id": call["id"]}]}
    assert tool_call_for(answered) is None
    assert tool_call_for({"prompt_messages": request["prompt_messages"], "tools": []}) is None


def _serve(args: list[str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([str(DIFY_LSP), "run", *args, "--serve", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "serving" in line:
            return proc, int(line.split("http://127.0.0.1:")[1].split("/")[0])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the server did not start")


def test_serve_a_trigger_takes_real_webhooks(fixture_copy):
    root = fixture_copy("trigger")
    proc, port = _serve([str(root), "--subscription", "signing_secret=serve-secret",
                         "--subscription", 'events=["ticket_opened"]'])
    try:
        body = json.dumps({"event": "ticket_opened", "sender": "w", "ticket": {"id": 5, "title": "t", "priority": 4}}).encode()
        sig = "sha256=" + hmac.new(b"serve-secret", body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=body, method="POST",
                                     headers={"X-Hookbox-Signature": sig, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"accepted": ["ticket_opened"]}
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=body, method="POST",
                                     headers={"X-Hookbox-Signature": "sha256=0"})
        try:
            urllib.request.urlopen(bad, timeout=30)
        except urllib.error.HTTPError as exc:
            assert exc.code == 500 and b"Signature" in exc.read()
        else:
            raise AssertionError("a bad signature was accepted")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        log = proc.stderr.read()
    assert "POST /hook HTTP/1.1 -> 200" in log and '"ticket_id": "5"' in log


def test_agent_on_the_openai_backend_gets_tool_calls_from_the_server(fixture_copy):
    agent, tool = fixture_copy("agent"), fixture_copy("tool")
    with FakeOpenAIServer(api_key="sk-agent", model_prefix="served") as server:
        env_before = os.environ.get("RUN_KINDS_OPENAI_KEY")
        os.environ["RUN_KINDS_OPENAI_KEY"] = "sk-agent"
        try:
            out = run_json(str(agent), "--strategy", "tool_loop", "--agent-tool", "textkit/word_count",
                           "--tool-plugin", str(tool), "--param", "query=count words", "--backend", "openai",
                           "--openai-base-url", server.base_url, "--openai-api-key-env", "RUN_KINDS_OPENAI_KEY",
                           "--model", "llm=gpt-test")
        finally:
            if env_before is None:
                os.environ.pop("RUN_KINDS_OPENAI_KEY")
        chat = [r for r in server.requests if r["path"] == "/v1/chat/completions"]
    assert out["status"] == "success", out
    assert [t["type"] for t in out["transcript"]] == ["llm", "tool", "llm"]
    assert len(chat) == 2 and chat[0]["body"]["tools"][0]["function"]["name"] == "word_count"
    assert chat[1]["body"]["messages"][-1]["role"] == "tool"
    assert out["summary"]["text"].startswith("(served gpt-test) You said: count words. The tool answered: 1 words")

"""The editor face of every non-tool kind: code lenses on endpoint, strategy, model, datasource and trigger files,
and dify.runInvocation running them over LSP (the real server, the real SDK)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from fake_openai import FakeOpenAIServer
from invocation_helpers import sdk_python

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
WS: dict[str, Path] = {}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dify_lsp"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    sdk_python()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    root = tmp_path_factory.mktemp("ws")
    for kind in ("tool", "endpoint", "agent", "model", "datasource", "trigger"):
        WS[kind] = root / f"run-{kind}"
        shutil.copytree(FIXTURES / f"run-{kind}", WS[kind])
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options={"run": {"backend": "mock", "timeout": 60, "toolPlugins": [str(WS["tool"])]}},
    ))
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python" if path.suffix == ".py" else "yaml", version=1, text=path.read_text())))
    return uri


async def run_lenses(client: LanguageClient, path: Path) -> list[types.CodeLens]:
    uri = open_doc(client, path)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    return [lens for lens in lenses or [] if lens.command and lens.command.command == "dify.runInvocation"]


async def execute(client: LanguageClient, args: dict) -> dict:
    return await asyncio.wait_for(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dify.runInvocation", arguments=[args])), 120)


def line_of(path: Path, prefix: str) -> int:
    return next(i for i, line in enumerate(path.read_text().split("\n")) if line.startswith(prefix))


async def test_lenses_on_every_kind(client: LanguageClient):
    expected = {
        WS["endpoint"] / "endpoints" / "ask.yaml": ("path", {"kind": "endpoint", "endpoint": "POST /ask"}),
        WS["endpoint"] / "endpoints" / "health.yaml": ("path", {"kind": "endpoint", "endpoint": "GET /health/name"}),
        WS["agent"] / "strategies" / "tool_loop.yaml": ("identity", {"kind": "strategy", "strategy": "tool_loop"}),
        WS["model"] / "models" / "llm" / "loop-chat.yaml": ("model", {"kind": "model", "model": "llm/loop-chat"}),
        WS["datasource"] / "datasources" / "crawl.yaml": ("identity", {"kind": "datasource", "datasource": "crawl"}),
        WS["trigger"] / "provider" / "hookbox.yaml": ("identity", {"kind": "trigger", "trigger": "dispatch"}),
    }
    for path, (key, args) in expected.items():
        lenses = await run_lenses(client, path)
        assert len(lenses) == 1, path
        line = line_of(path, key)
        assert lenses[0].range == types.Range(types.Position(line, 0), types.Position(line, len(key))), path
        assert lenses[0].command.arguments[0] == {"uri": path.as_uri(), **args}, path
    ask_py = WS["endpoint"] / "endpoints" / "ask.py"
    lenses = await run_lenses(client, ask_py)
    line = line_of(ask_py, "class AskEndpoint")
    assert [lens.range.start for lens in lenses] == [types.Position(line, 6)]
    assert lenses[0].command.arguments[0] == {"uri": ask_py.as_uri(), "kind": "endpoint", "endpoint": "POST /ask"}
    strategy_py = WS["agent"] / "strategies" / "tool_loop.py"
    lenses = await run_lenses(client, strategy_py)
    assert lenses[0].command.arguments[0]["strategy"] == "tool_loop"
    # the class the runnable YAML's loader looks for gets the lens; the provider classes beside it do not
    for path, cls, args in (
        (WS["datasource"] / "datasources" / "crawl.py", "class CrawlDatasource", {"kind": "datasource", "datasource": "crawl"}),
        (WS["trigger"] / "provider" / "hookbox.py", "class HookboxTrigger", {"kind": "trigger", "trigger": "dispatch"}),
        (WS["trigger"] / "events" / "ticket_opened.py", "class TicketOpenedEvent", {"kind": "trigger", "trigger": "dispatch"}),
    ):
        lenses = await run_lenses(client, path)
        assert [lens.range.start for lens in lenses] == [types.Position(line_of(path, cls), 6)], path
        assert lenses[0].command.arguments[0] == {"uri": path.as_uri(), **args}, path
    # a model class serves several models (the lens sits on each model YAML); providers are not run by themselves
    for path in (WS["model"] / "models" / "llm" / "llm.py", WS["model"] / "provider" / "loopai.py",
                 WS["agent"] / "provider" / "agent.py", WS["datasource"] / "provider" / "pagereader.py"):
        assert await run_lenses(client, path) == [], path
    # a file of no runnable kind gets no run lens
    assert await run_lenses(client, WS["endpoint"] / "group" / "ask.yaml") == []


async def test_run_endpoint_strategy_and_trigger_from_the_editor(client: LanguageClient):
    ask = (WS["endpoint"] / "endpoints" / "ask.yaml").as_uri()
    out = await execute(client, {"uri": ask, "kind": "endpoint", "endpoint": "POST /ask",
                                 "headers": {"Authorization": "Bearer e-key-1", "Content-Type": "application/json"},
                                 "body": json.dumps({"question": "from the editor"}), "parameters": {"api_key": "e-key-1"}})
    assert out["status"] == "success", out
    assert out["summary"]["status"] == 200 and "from" in out["summary"]["body"]
    # the fields of a tool run's result too, so a client's run panel shows any kind
    assert out["tool"] == "POST /ask" and out["messages"][0]["type"] == "http_response"
    assert "e-key-1" not in json.dumps(out)

    # the lens's own arguments run the strategy; its tools come from the run.toolPlugins setting
    strategy = (WS["agent"] / "strategies" / "tool_loop.yaml").as_uri()
    out = await execute(client, {"uri": strategy, "kind": "strategy", "strategy": "tool_loop",
                                 "agentTools": ["textkit/word_count"], "parameters": {"query": "count it"}})
    assert out["status"] == "success", out
    assert [t["type"] for t in out["transcript"]] == ["llm", "tool", "llm"]
    assert "The tool answered: 1 words" in out["summary"]["text"] and out["text"] == out["summary"]["text"]
    assert [m["type"] for m in out["messages"]] == ["log", "text"]

    body = json.dumps({"event": "ticket_opened", "sender": "ed", "ticket": {"id": 3, "title": "x", "priority": 1}})
    sig = "sha256=" + hmac.new(b"lsp-secret-9", body.encode(), hashlib.sha256).hexdigest()
    out = await execute(client, {"uri": (WS["trigger"] / "provider" / "hookbox.yaml").as_uri(),
                                 "headers": [["X-Hookbox-Signature", sig]], "body": body,
                                 "subscription": {"signing_secret": "lsp-secret-9", "events": ["ticket_opened"]}})
    assert out["status"] == "success", out
    assert out["summary"]["invoked"][0]["result"]["variables"]["ticket_id"] == "3"


async def test_run_model_and_datasource_from_the_editor(client: LanguageClient):
    pages = {"/d.html": "<title>Doc</title>text"}
    with FakeOpenAIServer(api_key="sk-editor", pages=pages) as server:
        out = await execute(client, {"uri": (WS["model"] / "models" / "llm" / "loop-chat.yaml").as_uri(),
                                     "model": "llm/loop-chat", "prompt": "hello editor",
                                     "credentials": {"api_key": "sk-editor", "endpoint_url": server.base_url}})
        assert out["status"] == "success", out
        assert out["summary"]["text"] == "(fake loop-chat) You said: hello editor"
        out = await execute(client, {"uri": (WS["datasource"] / "datasources" / "crawl.yaml").as_uri(),
                                     "parameters": {"url": server.root_url + "/d.html"}})
        assert out["status"] == "success", out
        assert out["summary"]["web_info_list"][0]["title"] == "Doc"


async def test_usage_error_is_a_clear_result(client: LanguageClient):
    out = await execute(client, {"uri": (WS["agent"] / "strategies" / "tool_loop.yaml").as_uri(), "kind": "strategy",
                                 "strategy": "missing"})
    assert out["status"] == "error" and "no agent strategy 'missing' in this plugin (it has: tool_loop)" in out["error"]["message"]

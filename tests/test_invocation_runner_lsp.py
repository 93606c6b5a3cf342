"""The one runner through the editor's command (the real server over stdio, the real SDK): forms of every kind
with the missing values listed for the client to ask, conversion by declared type, 5xx as failures, local tools in
a plain tool run, the Debug lens and a debug run a DAP client attaches to, and cancelling an environment build."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from fake_openai import FakeOpenAIServer
from invocation_helpers import sdk_python
from test_invocation_runner import SilentIndex, _processes_mentioning, attach_and_stop_in_invoke, free_port

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
    for name in ("run-tool", "run-relay", "run-endpoint", "run-compat-model", "run-trigger"):
        WS[name] = root / name
        shutil.copytree(FIXTURES / name, WS[name], ignore=shutil.ignore_patterns(".dify", "__pycache__"))
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options={"run": {"backend": "mock", "timeout": 60, "toolPlugins": [str(WS["run-tool"])]}},
    ))
    yield
    await lsp_client.shutdown_session()


async def execute(client: LanguageClient, args: dict, timeout: float = 150) -> dict:
    return await asyncio.wait_for(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dify.runInvocation", arguments=[args])), timeout)


async def test_model_credentials_are_asked_for_then_filled_like_dify(client: LanguageClient):
    model = WS["run-compat-model"] / "provider" / "compat.yaml"
    args = {"uri": model.as_uri(), "kind": "model", "model": "llm/my-model", "prompt": "hi there"}
    first = await execute(client, args)
    assert first["error"]["type"] == "MissingCredentials"
    assert first["missingCredentials"] == [{"name": "endpoint_url", "label": "API endpoint URL", "type": "text-input",
                                            "secret": False, "argument": "credentials"}]
    with FakeOpenAIServer() as server:
        second = await execute(client, {**args, "credentials": {"endpoint_url": server.base_url}})
    assert second["status"] == "success", second
    assert second["summary"]["text"] == "(fake my-model) You said: hi there"
    assert second["parameters"]["credentials"]["mode"] == "chat"


async def test_subscription_properties_are_asked_for_as_subscription(client: LanguageClient):
    provider = WS["run-trigger"] / "provider" / "hookbox.yaml"
    out = await execute(client, {"uri": provider.as_uri(), "kind": "trigger", "trigger": "dispatch",
                                 "request": "POST /hook", "body": "{}"})
    assert out["error"]["type"] == "MissingCredentials"
    assert out["missingCredentials"] == [{"name": "signing_secret", "label": "Signing secret", "type": "secret-input",
                                          "secret": True, "argument": "subscription"}]


async def test_endpoint_settings_are_converted_and_a_5xx_is_a_failure(client: LanguageClient):
    endpoint = WS["run-endpoint"] / "endpoints" / "inspect.yaml"
    base = {"uri": endpoint.as_uri(), "kind": "endpoint", "endpoint": "POST /inspect",
            "headers": {"Content-Type": "application/json"}}
    ok = await execute(client, {**base, "parameters": {"api_key": "k-lsp", "app": "app-7", "strict": "on"}, "body": "{}"})
    assert ok["status"] == "success", ok
    assert json.loads(ok["summary"]["body"]) == {"app_type": "dict", "app_id": "app-7", "strict": True}
    bad = await execute(client, {**base, "parameters": {"api_key": "k-lsp", "strict": "maybe"}})
    assert bad["status"] == "error" and "setting `strict` (boolean): expected true or false" in bad["error"]["message"]
    failed = await execute(client, {**base, "parameters": {"api_key": "k-lsp"}, "body": '{"fail": true}'})
    assert failed["status"] == "error" and failed["error"]["type"] == "HTTPError"
    assert "inspect was asked to fail" in failed["error"]["message"] and "k-lsp" not in json.dumps(failed)


async def test_a_plain_tool_run_uses_the_local_tools(client: LanguageClient):
    tool = WS["run-relay"] / "tools" / "relay.yaml"
    own = await execute(client, {"uri": tool.as_uri(), "tool": "relay",
                                 "parameters": {"target": "relay/shout", "text": "hey"}})
    assert own["status"] == "success" and own["text"] == "relay/shout answered: HEY", own
    other = await execute(client, {"uri": tool.as_uri(), "tool": "relay",
                                   "parameters": {"target": "textkit/word_count", "text": "a b"}})
    assert other["status"] == "success" and other["text"] == "textkit/word_count answered: 2 words", other
    missing = await execute(client, {"uri": tool.as_uri(), "tool": "relay",
                                     "parameters": {"target": "acme/none", "text": "x"}})
    assert missing["status"] == "error" and "tool acme/none is not installed" in missing["error"]["message"]


async def test_debug_lens_beside_run_and_a_debug_run_stops_on_the_breakpoint(client: LanguageClient):
    source = WS["run-tool"] / "tools" / "word_count.py"
    uri = source.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=source.read_text())))
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    commands = [(lens.range.start.line, lens.command.command) for lens in lenses or [] if lens.command]
    run_line = next(line for line, command in commands if command == "dify.runInvocation")
    assert (run_line, "dify.debugInvocation") in commands
    debug_args = next(lens.command.arguments[0] for lens in lenses if lens.command.command == "dify.debugInvocation")
    port = free_port()
    running = asyncio.ensure_future(execute(client, {**debug_args, "parameters": {"text": "four little words here"},
                                                     "debug": {"host": "127.0.0.1", "port": port}}))
    seen = await asyncio.to_thread(attach_and_stop_in_invoke, port, source, "text = str(")
    result = await running
    assert seen["reason"] == "breakpoint" and seen["line"] == seen["expected_line"] and seen["function"] == "_invoke"
    assert seen["locals"]["tool_parameters"] == "{'text': 'four little words here'}"
    assert result["status"] == "success" and result["text"] == "4 words" and result["debug"]["port"] == port


async def test_cancelling_during_an_environment_build_stops_it(client: LanguageClient):
    root = WS["run-tool"].parent / "needs-build"
    shutil.copytree(WS["run-tool"], root)
    index = SilentIndex()
    (root / "requirements.txt").write_text(f"--index-url http://127.0.0.1:{index.port}/simple/\ndify_plugin==0.10.2\n")
    tool = root / "tools" / "word_count.yaml"
    building = str(root / "requirements.txt")  # in uv's command line
    msg_id = "build-to-cancel"
    try:
        future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(
            command="dify.runInvocation", arguments=[{"uri": tool.as_uri(), "tool": "word_count",
                                                      "parameters": {"text": "x"}}]), msg_id=msg_id)
        deadline = time.monotonic() + 90
        while not _processes_mentioning(building) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert _processes_mentioning(building), "uv should be installing"
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with pytest.raises(Exception):
            await asyncio.wait_for(asyncio.wrap_future(future) if not asyncio.isfuture(future) else future, 20)
        await asyncio.sleep(1.0)
        assert _processes_mentioning(building) == []
    finally:
        index.close()


async def test_extra_actions_from_the_editor(client: LanguageClient):
    tool = WS["run-tool"] / "tools" / "word_count.yaml"
    url = await execute(client, {"uri": tool.as_uri(), "tool": "word_count", "action": "get_authorization_url",
                                 "credentials": {"client_id": "cid-lsp-secret"}})
    # the client id is a secret-input of oauth_schema.client_schema: masked wherever it appears
    assert url["status"] == "success" and "client_id=******&" in url["summary"]["authorization_url"], url
    assert "cid-lsp-secret" not in json.dumps(url)
    options = await execute(client, {"uri": tool.as_uri(), "tool": "word_count", "action": "fetch_parameter_options",
                                     "parameters": {"parameter": "mode"}})
    assert [o["value"] for o in options["summary"]["options"]] == ["all", "unique"], options

"""dify.runInvocation / dify.listTools, the code lens and the code action, end to end over LSP."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from invocation_helpers import FIXTURES, sdk_python

pytestmark = pytest.mark.slow
WORKSPACE: dict[str, Path] = {}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dify_lsp"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    python = sdk_python()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    root = tmp_path_factory.mktemp("ws")
    plugin = root / "all_tools"
    shutil.copytree(FIXTURES / "all_tools", plugin, ignore=shutil.ignore_patterns(".dify", "__pycache__"))
    WORKSPACE["plugin"] = plugin
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options={"python": str(python), "run": {"backend": "mock", "timeout": 30}},
    ))
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path, language: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=path.read_text())))
    return uri


async def execute(client: LanguageClient, command: str, args: dict):
    return await asyncio.wait_for(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[args])), 60)


async def test_code_lens_on_tool_yaml_and_tool_class(client: LanguageClient):
    plugin = WORKSPACE["plugin"]
    yaml_uri = open_doc(client, plugin / "tools" / "llm_stream.yaml", "yaml")
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=yaml_uri)))
    runs = [lens for lens in lenses if lens.command and lens.command.command == "dify.runInvocation"]
    assert len(runs) == 1
    assert runs[0].command.title == "▶ Run invocation"
    assert runs[0].range == types.Range(types.Position(0, 0), types.Position(0, 8))
    assert list(runs[0].command.arguments) == [{"uri": yaml_uri, "tool": "llm_stream", "provider": "fixture"}]

    py_uri = open_doc(client, plugin / "tools" / "llm_stream.py", "python")
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=py_uri)))
    runs = [lens for lens in lenses if lens.command and lens.command.command == "dify.runInvocation"]
    assert len(runs) == 1
    line = (plugin / "tools" / "llm_stream.py").read_text().split("\n").index("class LLMStreamTool(Tool):")
    assert runs[0].range == types.Range(types.Position(line, 6), types.Position(line, 6 + len("LLMStreamTool")))

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=py_uri),
        range=types.Range(types.Position(line + 2, 0), types.Position(line + 2, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    run_actions = [a for a in actions or [] if isinstance(a, types.Command) and a.command == "dify.runInvocation"]
    assert [a.title for a in run_actions] == ["Run invocation of fixture/llm_stream"]
    assert list(run_actions[0].arguments) == [{"uri": py_uri, "tool": "llm_stream", "provider": "fixture"}]


async def test_run_invocation_command_streams_progress_and_returns_the_result(client: LanguageClient):
    plugin = WORKSPACE["plugin"]
    uri = (plugin / "tools" / "llm_stream.py").as_uri()
    result = await execute(client, "dify.runInvocation", {"uri": uri, "tool": "llm_stream", "parameters": {"prompt": "over lsp"}})
    assert result["status"] == "success", result["error"]
    assert result["text"] == "(mock mock-llm) You said: over lsp"
    assert result["transcript"][0]["type"] == "llm" and result["transcript"][0]["duration_ms"] >= 0
    reports = [r for token, rs in client.progress_reports.items() if str(token).startswith("dify-run-") for r in rs]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == "success"
    assert any("llm answered" in (r.message or "") for r in reports if isinstance(r, types.WorkDoneProgressReport))
    assert any("[run llm_stream] log: INFO Installed tool: fixture" in m.message for m in client.log_messages)


async def test_secrets_stay_out_of_the_result_and_the_log(client: LanguageClient):
    plugin = WORKSPACE["plugin"]
    result = await execute(client, "dify.runInvocation", {
        "uri": (plugin / "tools" / "secret.yaml").as_uri(),
        "parameters": {"token": "lsp-TOKEN-789"}, "credentials": {"api_key": "lsp-CRED-012"}})
    assert result["status"] == "error" and result["text"].startswith("token=****** cred=******")
    everything = json.dumps(result) + "\n".join(m.message for m in client.log_messages)
    assert "lsp-TOKEN-789" not in everything and "lsp-CRED-012" not in everything


async def test_cancelling_the_progress_kills_the_run(client: LanguageClient, tmp_path):
    plugin = WORKSPACE["plugin"]
    before = set(client.progress_reports)
    task = asyncio.ensure_future(execute(client, "dify.runInvocation", {
        "uri": (plugin / "tools" / "hangs.py").as_uri(), "tool": "hangs", "parameters": {"pid_file": str(tmp_path / "pid")}}))
    for _ in range(200):
        await asyncio.sleep(0.05)
        new = [t for t in client.progress_reports if t not in before]
        if new and (tmp_path / "pid").exists():
            break
    [token] = [t for t in client.progress_reports if t not in before]
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await task
    assert result["status"] == "cancelled"
    assert client.progress_reports[token][-1].message == "cancelled"


async def test_cancel_request_kills_the_run(client: LanguageClient, tmp_path):
    """$/cancelRequest on a running dify.runInvocation stops it and kills the plugin's process."""
    from invocation_helpers import alive

    plugin = WORKSPACE["plugin"]
    pid_file = tmp_path / "pid"
    msg_id = "run-to-cancel"
    future = client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command="dify.runInvocation", arguments=[{
            "uri": (plugin / "tools" / "hangs.py").as_uri(), "tool": "hangs", "parameters": {"pid_file": str(pid_file)}}]),
        msg_id=msg_id,
    )
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    assert alive(pid)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    with pytest.raises(Exception):
        await asyncio.wait_for(asyncio.wrap_future(future) if not asyncio.isfuture(future) else future, 20)
    for _ in range(100):
        if not alive(pid):
            break
        await asyncio.sleep(0.1)
    assert not alive(pid), "the plugin process outlived the cancelled request"


async def test_usage_errors_and_list_tools(client: LanguageClient):
    plugin = WORKSPACE["plugin"]
    result = await execute(client, "dify.runInvocation", {"uri": (plugin / "tools" / "llm_stream.yaml").as_uri()})
    assert result["status"] == "error" and "missing required parameters: `prompt` (string)" in result["error"]["message"]
    tools = await execute(client, "dify.listTools", {"uri": (plugin / "manifest.yaml").as_uri()})
    by_name = {t["tool"]: t for t in tools}
    assert by_name["llm_stream"]["parameters"] == [
        {"name": "prompt", "type": "string", "required": True, "form": "llm"},
        {"name": "model", "type": "model-selector", "required": True, "form": "form", "scope": "llm"},
    ]
    assert by_name["llm_stream"]["python_uri"] == (plugin / "tools" / "llm_stream.py").as_uri()

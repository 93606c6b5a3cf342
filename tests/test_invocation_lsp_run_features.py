"""dify.runInvocation over LSP on a real-style plugin whose environment the server builds with uv (a fresh cache):
build progress, file parameters, credentials (missing ones listed for the client to ask), masking, --out, teardown."""

from __future__ import annotations

import asyncio
import atexit
import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from invocation_helpers import FIXTURES, KEY, alive, red_png

pytestmark = pytest.mark.slow
WORKSPACE: dict[str, Path] = {}
# the server builds the plugin's environment into a cache of its own (uv's download cache is shared)
CACHE = tempfile.mkdtemp(prefix="dify-lsp-test-cache-")
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)
SERVER_ENV = {k: v for k, v in os.environ.items() if k != "DIFY_LSP_PYTHON"}
SERVER_ENV.update(XDG_CACHE_HOME=CACHE, UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dify_lsp"], server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    root = tmp_path_factory.mktemp("ws")
    plugin = root / "uv_project"
    shutil.copytree(FIXTURES / "uv_project", plugin, ignore=shutil.ignore_patterns(".dify", "__pycache__", ".venv"))
    WORKSPACE["plugin"] = plugin
    WORKSPACE["root"] = root
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options={"run": {"backend": "mock", "timeout": 30}},
    ))
    yield
    await lsp_client.shutdown_session()


async def run(client: LanguageClient, args: dict, timeout: float = 600) -> dict:
    uri = (WORKSPACE["plugin"] / "tools" / f"{args['tool']}.yaml").as_uri()
    return await asyncio.wait_for(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dify.runInvocation", arguments=[{"uri": uri, **args}])), timeout)


async def test_first_run_builds_the_environment_with_progress_then_reuses_it(client: LanguageClient):
    before = set(client.progress_reports)
    # rebuildEnvironment: this test builds whatever ran before it
    result = await run(client, {"tool": "sizes", "parameters": {"bytes": 2048}, "credentials": {"api_key": KEY},
                                "rebuildEnvironment": True})
    assert result["status"] == "success", result
    assert result["text"] == "2.0 KiB"
    assert result["python_source"] == "run environment from uv.lock, just built"
    assert result["python"].startswith(CACHE)
    [token] = [t for t in client.progress_reports if t not in before]
    messages = [getattr(r, "message", None) or "" for r in client.progress_reports[token]]
    assert any("installed the dependencies from uv.lock" in m for m in messages), messages
    logs = [m.message for m in client.log_messages if "environment:" in m.message]
    assert any("created" in m for m in logs)

    again = await run(client, {"tool": "sizes", "parameters": {"bytes": 2048}, "credentials": {"api_key": KEY}})
    assert again["python_source"] == "run environment from uv.lock" and again["python"] == result["python"]


async def test_file_parameters_and_out_dir(client: LanguageClient, tmp_path):
    png = tmp_path / "red.png"
    png.write_bytes(red_png())
    notes = tmp_path / "notes.txt"
    notes.write_text("hello file\n")
    result = await run(client, {"tool": "describe", "parameters": {"image": str(png), "attachments": [str(notes)]},
                                "credentials": {"api_key": KEY}, "outDir": str(tmp_path / "out")})
    assert result["status"] == "success", result
    size = png.stat().st_size
    assert f"red.png image image/png .png declared={size} downloaded={size}" in result["text"]
    assert "notes.txt document text/plain .txt declared=11 downloaded=11" in result["text"]
    blob = next(m for m in result["messages"] if m["type"] == "blob")
    assert Path(blob["path"]).read_bytes() == png.read_bytes() and blob["file"]["filename"] == "copy-red.png"
    assert result["parameters"]["image"] == str(png)


async def test_big_blob_is_returned_whole(client: LanguageClient):
    result = await run(client, {"tool": "big_blob", "parameters": {"megabytes": 2}, "credentials": {"api_key": KEY}})
    size = 2 * 1024 * 1024
    blob = next(m for m in result["messages"] if m["type"] == "blob" and m["size"] == size)
    assert base64.b64decode(blob["data_base64"]) == bytes(i % 251 for i in range(size))


async def test_missing_credentials_are_listed_for_the_client_to_ask(client: LanguageClient):
    result = await run(client, {"tool": "echo"})
    assert result["error"]["type"] == "MissingCredentials"
    assert result["missingCredentials"] == [{"name": "api_key", "type": "secret-input", "label": "API key", "secret": True,
                                             "argument": "credentials"}]
    # the client asked (masked) and runs again with the answer
    done = await run(client, {"tool": "echo", "credentials": {"api_key": KEY}, "parameters": {"note": "Table a"}})
    assert done["status"] == "success"
    assert done["text"] == "note=Table a token=None api_key=****** region=us-east type=CredentialType.API_KEY"


async def test_validate_and_oauth(client: LanguageClient):
    refused = await run(client, {"tool": "echo", "credentials": {"api_key": "wrong-key-0"}, "validate": True})
    assert refused["status"] == "error" and refused["validation"]["valid"] is False
    assert "the API key was refused by the service" in refused["error"]["message"]
    assert refused["text"] == ""
    oauth = await run(client, {"tool": "echo", "credentialType": "oauth"})
    assert oauth["status"] == "success" and oauth["credential_type"] == "oauth2"


async def test_secret_parameter_masked_whole_only(client: LanguageClient):
    result = await run(client, {"tool": "echo", "parameters": {"token": "tok-secret-99", "note": "Table name a"},
                                "credentials": {"api_key": KEY, "region": "a"}})
    assert result["text"] == "note=Table name a token=****** api_key=****** region=a type=CredentialType.API_KEY"
    assert result["parameters"]["token"] == "******"
    logs = "\n".join(m.message for m in client.log_messages)
    assert "tok-secret-99" not in logs and KEY not in logs


async def test_grandchild_teardown_within_timeout(client: LanguageClient, tmp_path):
    pid_file = tmp_path / "gc.pid"
    # the environment first (built when this test runs alone): the timeout is about the plugin
    await run(client, {"tool": "sizes", "parameters": {"bytes": 1}, "credentials": {"api_key": KEY}})
    t0 = time.perf_counter()
    result = await run(client, {"tool": "grandchild", "parameters": {"pid_file": str(pid_file)},
                                "credentials": {"api_key": KEY}, "timeout": 10})
    elapsed = time.perf_counter() - t0
    assert result["status"] == "timeout"
    assert result["error"]["message"] == "the tool did not finish within 10 s; the plugin's process tree was killed"
    assert elapsed < 10 + 1, elapsed
    assert not alive(int(pid_file.read_text()))


async def test_repeated_prints_counted_and_nothing_to_run_named(client: LanguageClient, tmp_path):
    result = await run(client, {"tool": "echo", "parameters": {"repeat": 4}, "credentials": {"api_key": KEY}})
    printed = [w for w in result["warnings"] if "not protocol JSON" in w]
    assert len(printed) == 1 and printed[0].endswith("(4 times)")

    empty = tmp_path / "empty"
    shutil.copytree(WORKSPACE["plugin"], empty)
    manifest = empty / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("plugins:\n  tools:\n    - provider/files.yaml", "plugins: {}"))
    uri = manifest.as_uri()
    answer = await asyncio.wait_for(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dify.runInvocation", arguments=[{"uri": uri}])), 60)
    assert answer["status"] == "error"
    assert answer["error"]["message"] == (
        "the manifest lists no plugins (plugins.tools, models, endpoints, ...): there is nothing to run")

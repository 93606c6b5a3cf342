"""`dify-lsp mcp`: the real server as a subprocess over stdio, driven by the `mcp` SDK's own client.

Every test starts `dify-lsp mcp`, talks to it with `mcp.client.stdio` + `ClientSession` as an agent would, and
compares what the tools return with the engine's other faces (`dify-lsp check --format json`, the session
catalog, the schemas) and with the files on disk.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import zipfile
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from dify_lsp.sdk import catalog
from invocation_helpers import plugin_copy, sdk_python

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "llm-tool"
CHECK_KEYS = ("path", "range", "severity", "code", "message", "message_en")


@asynccontextmanager
async def mcp_session(*args: str, cwd: Path | None = None):
    params = StdioServerParameters(command=sys.executable, args=["-m", "dify_lsp", "mcp", *args], cwd=cwd)
    async with stdio_client(params, errlog=sys.stderr) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, arguments: dict) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text if result.content else result
    assert result.structured_content is not None
    # the text content carries the same JSON, for clients that read only text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def call_error(session: ClientSession, tool: str, arguments: dict) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result
    return result.content[0].text


def cli_check(*args: str, cwd: Path | None = None) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "dify_lsp", "check", *args, "--format", "json", "--no-cache"],
                          capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def broken_plugin(tmp_path: Path) -> Path:
    """The example plugin with a misspelt session method (DL201, which has a quick fix)."""
    dest = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    code = dest / "tools" / "llm.py"
    code.write_text(code.read_text(encoding="utf-8").replace("model.llm.invoke(", "model.llm.invok("), encoding="utf-8")
    return dest


async def test_lists_every_tool_with_a_description_and_an_input_schema():
    async with mcp_session() as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"check_plugin", "explain_rule", "session_api", "yaml_key", "plugin_parts", "run_plugin",
                              "apply_fix", "new_tool", "package_plugin"}
        for tool in tools.values():
            assert len(tool.description or "") > 100, tool.name
            assert tool.input_schema["type"] == "object"
        assert tools["check_plugin"].input_schema["required"] == ["path"]
        assert tools["check_plugin"].annotations.read_only_hint is True
        assert tools["apply_fix"].annotations.read_only_hint is False
        kinds = tools["run_plugin"].input_schema["properties"]["kind"]
        assert "endpoint" in json.dumps(kinds) and "trigger" in json.dumps(kinds)


async def test_check_gives_the_same_findings_as_check_format_json(broken_plugin: Path):
    async with mcp_session(cwd=broken_plugin.parent) as session:
        for arg in (str(broken_plugin), "llm-tool", "llm-tool/tools/llm.py"):
            got = await call(session, "check_plugin", {"path": arg})
            expected = cli_check(arg, cwd=broken_plugin.parent)
            assert [{k: f[k] for k in CHECK_KEYS} for f in got["findings"]] == expected, arg
        everything = await call(session, "check_plugin", {"path": str(broken_plugin)})
    by_code = {f["code"]: f for f in everything["findings"]}
    assert {"DL201", "DL207", "DL208"} <= set(by_code)
    typo = by_code["DL201"]
    assert typo["file"] == str(broken_plugin / "tools" / "llm.py")
    assert typo["range"] == {"start": {"line": 11, "character": 42}, "end": {"line": 11, "character": 47}}
    assert typo["severity"] == "error"
    assert typo["fixes"] == [{"fix": 0, "title": "Change to 'invoke'", "preferred": True, "files": [typo["file"]]}]
    declare = by_code["DL207"]["fixes"]  # built from the plugin around the finding: the tool's YAML
    assert [f["title"] for f in declare] == ["Declare 'query' in tools/llm.yaml (string)"]
    assert declare[0]["files"] == [str(broken_plugin / "tools" / "llm.yaml")]
    assert everything["counts"]["error"] == 1


async def test_check_selectors_and_language(broken_plugin: Path):
    async with mcp_session("--lang", "zh_Hans") as session:
        got = await call(session, "check_plugin", {"path": str(broken_plugin), "select": ["python"], "ignore": ["DL208"]})
        assert {f["code"] for f in got["findings"]} == {"DL201", "DL207"}
        expected = cli_check(str(broken_plugin), "--select", "python", "--ignore", "DL208", "--lang", "zh_Hans")
        assert [{k: f[k] for k in CHECK_KEYS} for f in got["findings"]] == expected
        assert any("\u4e00" <= ch <= "\u9fff" for ch in got["findings"][0]["message"])
        error = await call_error(session, "check_plugin", {"path": str(broken_plugin), "select": ["DL9"]})
        assert "DL9" in error


async def test_session_api_lookup_matches_the_catalog():
    method = catalog.resolve(["model", "llm", "invoke"])[0].member
    async with mcp_session() as session:
        got = await call(session, "session_api", {"name": "self.session.model.llm.invoke"})
        assert got["kind"] == "method" and got["path"] == "session.model.llm.invoke"
        assert got["signature"] == method.signature()
        assert [p["name"] for p in got["parameters"]] == [p.name for p in method.params]
        assert got["parameters"][0]["required"] is True and got["parameters"][-1]["default"] == "True"
        assert got["returns"] == method.returns
        assert got["permission"] == ["resource.permission.model.enabled", "resource.permission.model.llm"]
        assert got["permission"] == [f"resource.permission.{k}" for k in method.permission]
        assert got["since"] == method.since
        storage = await call(session, "session_api", {"name": "storage"})
        assert storage["kind"] == "namespace"
        assert [m["name"] for m in storage["members"]] == ["set", "get", "delete", "exist"]
        assert "resource.permission.storage.enabled" in storage["permissions_by_method"]["session.storage.set"]
        config = await call(session, "session_api", {"name": "LLMModelConfig"})
        assert config["kind"] == "config_class" and "model" in [f["name"] for f in config["fields"]]
        wrong = await call_error(session, "session_api", {"name": "model.embedding"})
        assert "text_embedding" in wrong


async def test_yaml_key_lookup_by_kind_and_by_file():
    from dify_lsp.schema import plugin_files as pf

    declared = pf.resolve("tool", ["parameters", 0, "type"])[1]
    async with mcp_session() as session:
        got = await call(session, "yaml_key", {"kind": "tool", "key": "parameters.type"})
        assert got["required"] is True
        assert [v["value"] for v in got["allowed_values"]] == list(declared.enum)
        assert got["since_sdk"] == declared.since
        show_on = await call(session, "yaml_key", {"kind": "tool", "key": "parameters.show_on"})
        assert show_on["since_sdk"] == "0.10.1"
        by_file = await call(session, "yaml_key", {"file": str(EXAMPLE / "manifest.yaml"), "key": "author"})
        assert by_file["kind"] == "manifest" and by_file["pattern"] == "^[a-z0-9_-]{1,64}$"
        top = await call(session, "yaml_key", {"kind": "endpoint"})
        assert {k["key"] for k in top["keys"]} >= {"path", "method", "hidden"}
        typo = await call_error(session, "yaml_key", {"kind": "tool", "key": "parameters.tpye"})
        assert "'type'" in typo


async def test_explain_rule_and_plugin_parts():
    async with mcp_session() as session:
        rule = await call(session, "explain_rule", {"code": "dl306"})
        assert rule["code"] == "DL306" and rule["family"] == "permissions" and rule["severity"] == "error"
        assert "DL309" in await call_error(session, "explain_rule", {"code": "DL399"})
        parts = await call(session, "plugin_parts", {"path": str(EXAMPLE / "tools")})
    assert parts["root"] == str(EXAMPLE) and parts["manifest"]["name"] == "llm-tool"
    tool = next(p for p in parts["parts"] if p["kind"] == "tool")
    assert tool["name"] == "llm" and tool["python"] == ["tools/llm.py"]
    assert [p["name"] for p in tool["parameters"]] == ["prompt", "model"]
    assert parts["runnable"] == [{"kind": "tool", "target": "llm", "provider": "llm"}]


async def test_apply_fix_writes_the_edit_and_the_finding_is_gone(broken_plugin: Path):
    code = broken_plugin / "tools" / "llm.py"
    async with mcp_session() as session:
        done = await call(session, "apply_fix", {"path": str(code), "code": "DL201"})
        assert done["finding_gone"] is True and done["written"] == [str(code)]
        assert "model.llm.invoke(" in code.read_text(encoding="utf-8")
        # the manifest of this copy keeps its permission: the typo was the only error
        after = await call(session, "check_plugin", {"path": str(broken_plugin)})
        assert "DL201" not in {f["code"] for f in after["findings"]}
        assert after["findings"] == [f for f in after["findings"] if f["severity"] != "error"]
        # a permission fix writes the manifest: take the permission away, let the fix put it back
        manifest = broken_plugin / "manifest.yaml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace("      llm: true\n", ""), encoding="utf-8")
        missing = await call(session, "check_plugin", {"path": str(broken_plugin), "select": ["DL306"]})
        place = missing["findings"][0]["range"]["start"]
        done = await call(session, "apply_fix", {"path": str(code), "code": "DL306", **place})
        assert done["written"] == [str(manifest)] and done["finding_gone"] is True
        assert "llm: true" in manifest.read_text(encoding="utf-8")
        assert cli_check(str(broken_plugin), "--select", "DL306,DL307") == []
        # several findings with one code: say which; a fix that is not there: nothing written
        tool_yaml = broken_plugin / "tools" / "llm.yaml"
        before = {p: p.read_bytes() for p in broken_plugin.rglob("*") if p.is_file()}
        assert "14:10, 27:10" in await call_error(session, "apply_fix", {"path": str(tool_yaml), "code": "DL208"})
        assert "fix 5" in await call_error(session, "apply_fix", {"path": str(tool_yaml), "code": "DL208", "line": 14, "fix": 5})
        assert "DL209" in await call_error(session, "apply_fix", {"path": str(code), "code": "DL209"})
        assert {p: p.read_bytes() for p in broken_plugin.rglob("*") if p.is_file()} == before
        # a fix that writes the tool's YAML: declare the parameter the code reads
        done = await call(session, "apply_fix", {"path": str(code), "code": "DL207"})
        assert done["finding_gone"] is True and done["written"] == [str(tool_yaml)]
        assert "  - name: query\n    type: string\n    required: false\n" in tool_yaml.read_text(encoding="utf-8")
        # a fix that creates a file: the tool's missing Python source
        code.unlink()
        missing = await call(session, "check_plugin", {"path": str(tool_yaml), "select": ["DL002"]})
        assert [f["fixes"][0]["creates"] for f in missing["findings"]] == [[str(code)]]
        done = await call(session, "apply_fix", {"path": str(tool_yaml), "code": "DL002"})
        assert done["finding_gone"] is True and code.is_file()
        assert cli_check(str(broken_plugin), "--select", "DL002,DL211,DL215") == []
        # a finding without a fix dify-lsp can write: an error result that says so
        unused = await call(session, "check_plugin", {"path": str(manifest), "select": ["DL308"]})
        assert unused["findings"] and unused["findings"][0]["fixes"] == []
        assert "no quick fix" in await call_error(session, "apply_fix", {"path": str(manifest), "code": "DL308"})


async def test_new_tool_and_package(tmp_path: Path):
    plugin = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLE, plugin, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    async with mcp_session() as session:
        made = await call(session, "new_tool", {"plugin": str(plugin), "name": "weather"})
        assert made["created"] == ["tools/weather.yaml", "tools/weather.py"]
        assert made["updated"] == ["provider/llm.yaml"]
        assert not [f for f in made["findings"] if f["path"].endswith("weather.py") or f["path"].endswith("weather.yaml")]
        assert "already" in await call_error(session, "new_tool", {"plugin": str(plugin), "name": "weather"})
        assert "valid tool name" in await call_error(session, "new_tool", {"plugin": str(plugin), "name": "no spaces"})
        out = tmp_path / "out" / "llm-tool.difypkg"
        built = await call(session, "package_plugin", {"plugin": str(plugin), "output": str(out)})
        assert built["package"] == str(out) and built["files"] > 5
        with zipfile.ZipFile(out) as zf:
            assert {"manifest.yaml", "tools/weather.yaml", "tools/weather.py"} <= set(zf.namelist())
        # a Marketplace submission: the folder, then the package, judged as `check --marketplace` judges them
        for target in (plugin, out):
            got = await call(session, "check_plugin", {"path": str(target), "marketplace": True})
            expected = cli_check(str(target), "--marketplace")
            assert [{k: f[k] for k in CHECK_KEYS} for f in got["findings"]] == expected, target
            assert any(f["code"].startswith("DL6") for f in expected), expected
        (plugin / "provider" / "llm.yaml").unlink()
        assert "provider/llm.yaml" in await call_error(session, "package_plugin", {"plugin": str(plugin)})


async def test_schemas_are_resources():
    from dify_lsp.schema_export import json_schema

    async with mcp_session() as session:
        listed = {str(r.uri): r for r in (await session.list_resources()).resources}
        uri = "dify-lsp://schemas/tool.schema.json"
        assert uri in listed and listed[uri].mime_type == "application/schema+json"
        assert len(listed) == 14
        read = await session.read_resource(uri)
        assert json.loads(read.contents[0].text) == json_schema("tool")


BAD_INPUT = [
    ("check_plugin", {}, "path"),
    ("check_plugin", {"path": 42}, "valid string"),
    ("check_plugin", {"path": "/no/such/plugin"}, "no such file or folder"),
    ("check_plugin", {"path": "EMPTY"}, "no Dify plugin"),
    ("plugin_parts", {"path": "EMPTY"}, "no Dify plugin"),
    ("yaml_key", {"kind": "toolz"}, "Input should be"),
    ("yaml_key", {"key": "identity"}, "a kind"),
    ("explain_rule", {"code": "x" * 200}, "at most 20"),
    ("apply_fix", {"path": str(EXAMPLE / "tools"), "code": "DL201"}, "not a file"),
    ("apply_fix", {"path": str(EXAMPLE / "tools" / "llm.py"), "code": "DL201", "line": -1}, "greater than or equal"),
    ("run_plugin", {"plugin": str(EXAMPLE), "timeout": 0}, "greater than 0"),
    ("run_plugin", {"plugin": str(EXAMPLE), "kind": "spaceship"}, "Input should be"),
    ("run_plugin", {"plugin": str(EXAMPLE), "target": "nope"}, "nope"),
    ("package_plugin", {"plugin": str(EXAMPLE), "max_size_mb": "lots"}, "valid integer"),
    ("no_such_tool", {}, "no_such_tool"),
]


async def test_bad_input_is_an_error_result_and_the_server_keeps_serving(tmp_path):
    async with mcp_session() as session:
        for tool, arguments, says in BAD_INPUT:
            arguments = {k: str(tmp_path) if v == "EMPTY" else v for k, v in arguments.items()}  # a folder without plugins
            text = await call_error(session, tool, arguments)
            assert says in text, (tool, arguments, text)
        # still serving
        assert (await call(session, "explain_rule", {"code": "DL201"}))["name"] == "unknown-session-member"


async def test_errors_are_in_the_servers_language(tmp_path):
    async with mcp_session("--lang", "ja_JP") as session:
        text = await call_error(session, "check_plugin", {"path": str(tmp_path)})
        assert "Dify プラグイン（manifest.yaml）が見つかりません" in text


# -- real plugin runs: the plugin's own code on the SDK 0.10.2, reverse invocations answered by the mock backend


@pytest.mark.slow
async def test_run_a_tool_with_the_mock_model(tmp_path: Path):
    python = str(sdk_python())
    plugin = plugin_copy(tmp_path, "all_tools")
    async with mcp_session() as session:
        said: list[str] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            said.append(message or "")

        sent = await session.call_tool("run_plugin", {"plugin": str(plugin), "target": "llm_blocking",
                                                      "parameters": {"prompt": "from an agent"}, "python": python},
                                       progress_callback=progress)
        assert not sent.is_error, sent.content
        result = sent.structured_content
        assert result["status"] == "success", result
        # the client that asked for progress heard the run start
        assert any(m.startswith("[status] starting") for m in said), said
        assert result["text"] == "(mock mock-llm) You said: from an agent"
        assert result["backend"] == "mock" and result["transcript"][0]["type"] == "llm"
        failed = await call(session, "run_plugin", {"plugin": str(plugin), "target": "raises", "python": python})
        assert failed["status"] == "error" and "boom from the tool" in failed["error"]["message"]
        assert "Traceback" in failed["error"]["traceback"]
        # a plugin that hangs: stopped at the timeout with its process tree, and the server keeps serving
        pid_file = tmp_path / "child.pid"
        hung = await call(session, "run_plugin", {"plugin": str(plugin), "target": "hangs", "timeout": 10,
                                                  "parameters": {"pid_file": str(pid_file)}, "python": python})
        assert hung["status"] == "timeout" and "did not finish within 10 s" in hung["error"]["message"]
        child = int(pid_file.read_text())
        for _ in range(50):
            if not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0] == "Z":
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the plugin's child process survived the timeout")
        missing = await call_error(session, "run_plugin", {"plugin": str(plugin), "target": "llm_stream", "python": python})
        assert "`prompt` (string)" in missing and "required" in missing  # refused before the plugin starts


@pytest.mark.slow
async def test_run_an_endpoint_with_the_mock_model(tmp_path: Path):
    sdk_python()  # the shared SDK environment the fixture plugin runs in
    plugin = tmp_path / "run-endpoint"
    shutil.copytree(REPO / "tests" / "fixtures" / "run-endpoint", plugin)
    async with mcp_session() as session:
        parts = await call(session, "plugin_parts", {"path": str(plugin)})
        assert {"kind": "endpoint", "target": "POST /ask"} in parts["runnable"]
        result = await call(session, "run_plugin", {
            "plugin": str(plugin), "kind": "endpoint", "target": "POST /ask",
            "headers": {"Authorization": "Bearer key-42", "Content-Type": "application/json"},
            "body": json.dumps({"question": "what is a plugin"}), "parameters": {"api_key": "key-42"},
        })
        assert result["status"] == "success", result
        assert result["summary"]["status"] == 200
        lines = [json.loads(line) for line in result["summary"]["body"].splitlines()]
        assert "".join(line.get("delta", "") for line in lines) == "(mock mock-llm) You said: what is a plugin"
        assert [t["type"] for t in result["transcript"]] == ["llm", "text_embedding"]
        assert "key-42" not in json.dumps(result)  # the secret setting is masked
        missing = await call_error(session, "run_plugin", {"plugin": str(plugin), "kind": "endpoint", "target": "GET /health/abc"})
        assert "api_key" in missing and "required setting" in missing


def test_readme_documents_every_tool_and_each_agent_snippet_starts_the_server():
    import re
    import tomllib

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Coding agents: MCP server and skill"):readme.index("## Editor setup")]
    documented = re.findall(r"^\| `(\w+)` \|", section, re.M)
    from dify_lsp.mcp.server import create_server
    import anyio

    async def names() -> list[str]:
        return [t.name for t in await create_server("en_US").list_tools()]

    assert documented == anyio.run(names)
    for agent in ("Claude Code", "Claude Desktop", "Cursor", "VS Code, Copilot agent mode", "Codex CLI", "Gemini CLI"):
        assert f"**{agent}**" in section, agent
    snippets = re.findall(r"```(json|toml)\n(.*?)```", section, re.S)
    assert len(snippets) == 6
    for lang, text in snippets:
        data = json.loads(text) if lang == "json" else tomllib.loads(text)
        servers = data.get("mcpServers") or data.get("servers") or data.get("mcp_servers")
        server = servers["dify-lsp"]
        assert server["command"].endswith("dify-lsp") and server["args"][0] == "mcp", text


def test_on_a_terminal_it_says_what_it_is_waiting_for():
    import os
    import pty
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dify_lsp", "mcp", "--lang", "ja_JP"], stdin=follower,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(follower)
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready, "nothing on stderr within 60 s"
        line = proc.stderr.readline().decode("utf-8")
        assert "コーディングエージェント" in line and "Ctrl-C" in line
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        os.close(leader)
    assert proc.stdout.read() == b""  # stdout is the protocol's: nothing else goes there


def test_without_the_mcp_sdk_it_says_how_to_install_it():
    blocked = "import sys; sys.modules['mcp'] = None; from dify_lsp.cli import main; raise SystemExit(main(['mcp', '--lang', 'zh_Hans']))"
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stdout == ""
    assert "pip install 'dify-lsp[mcp]'" in done.stderr and "需要 MCP SDK" in done.stderr


@pytest.mark.parametrize("tool, arguments, zh, ja", [
    ("nope", "{}", "没有工具 'nope'；可用的工具：apply_fix、", "ツール 'nope' はありません。使えるツール：apply_fix、"),
    ("check_plugin", "{}", "参数不符合该工具的输入 schema：path: ", "引数がツールの入力スキーマに合いません：path: "),
    ("explain_rule", '{"code": "XX999"}', "没有规则 'XX999'", "ルール 'XX999' はありません"),
])
def test_call_errors_are_said_in_the_users_language(tool, arguments, zh, ja):
    # A person at a terminal reads the cause in their language, not the SDK's "Error executing tool" wrapper.
    for lang, expected in (("zh_Hans", zh), ("ja_JP", ja), ("en_US", None)):
        done = subprocess.run([sys.executable, "-m", "dify_lsp", "mcp", "--lang", lang, "--call", tool, "--args", arguments],
                              capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip()
        assert line.startswith(f"dify-lsp mcp --call {tool}: ") and "Error executing tool" not in line, line
        if expected:
            assert expected in line, line

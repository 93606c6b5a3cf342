"""Bad input never crashes the server or hangs the editor (issue: robustness)."""

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_session import LspSession

BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i-1}'] * 9)}]" for i in range(1, 10)]
) + "\n"


async def still_answers(session: LspSession, path: Path) -> None:
    """Hover and completion still answer on the file's first key (a YAML file of the plugin)."""
    hover = await asyncio.wait_for(session.hover(path, types.Position(line=0, character=1)), 10)
    assert isinstance(hover, types.Hover) and hover.contents
    items = await asyncio.wait_for(session.completion(path, types.Position(line=0, character=0)), 10)
    assert items, "no key offered at the start of the file"


async def test_yaml_bomb_in_manifest(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    session.open(manifest, manifest.read_text() + BOMB)
    diags = await session.diagnostics(manifest)
    assert diags and all(d.source == "dify-lsp" for d in diags)
    await still_answers(session, manifest)


async def test_tabs_and_duplicate_keys(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    session.open(tool, tool.read_text().replace("  name: llm\n", "\tname: llm\n", 1))
    assert [d.code for d in await session.diagnostics(tool)] .count("DL001") == 1
    session.set_text(tool, tool.read_text() + "identity:\n  name: again\n")
    assert "DL006" in [d.code for d in await session.diagnostics(tool)]
    await still_answers(session, tool)


async def test_fifty_thousand_line_yaml(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    big = tool.read_text() + "output_schema:\n" + "".join(f"  field_{i}: {{type: string}}\n" for i in range(50_000))
    # a key the schema does not know after the 50,000 lines: the whole file was read and checked
    session.open(tool, big + "not_a_tool_key: 1\n")
    diags = await session.diagnostics(tool, timeout=60)
    last = big.count("\n")
    assert [d.range.start.line for d in diags if d.code == "DL105"] == [last]
    await still_answers(session, tool)


async def test_deeply_nested_yaml(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    session.open(tool, tool.read_text() + "output_schema: " + "[" * 1000 + "]" * 1000 + "\n")
    diags = await session.diagnostics(tool)
    (d,) = [d for d in diags if d.code == "DL001"]
    assert "nested" in d.message or "YAML" in d.message
    await still_answers(session, tool)


async def test_python_with_syntax_error_at_cursor(session: LspSession, llm_tool: Path):
    code = llm_tool / "tools" / "llm.py"
    text = code.read_text().replace("        for chunk in response:", "        x = self.session.model.\n        for chunk in response(:")
    session.open(code, text)
    pos = session.find(code, "self.session.model.", offset=len("self.session.model."))
    items = await asyncio.wait_for(session.completion(code, pos), 10)
    assert "llm" in [i.label for i in items]  # the session catalog answers without a parse
    hover = await asyncio.wait_for(session.hover(code, session.find(code, "self.session.model.", offset=len("self.session.mo"))), 10)
    assert isinstance(hover, types.Hover)
    assert "DL213" in [d.code for d in await session.diagnostics(code)]


async def test_binary_and_non_utf8_files_on_disk(session: LspSession, llm_tool: Path):
    (llm_tool / "provider" / "llm.py").write_bytes(b"\xff\xfe\x00\x00garbage")
    (llm_tool / "tools" / "llm.yaml").write_bytes(b"identity: \xc3\x28\n")
    manifest = llm_tool / "manifest.yaml"
    session.open(manifest)
    await session.diagnostics(manifest)
    await still_answers(session, manifest)


async def test_reference_out_of_the_plugin_is_reported_never_read(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text().replace("source: tools/llm.py", "source: ../../etc/passwd")
    session.open(tool, text)
    (d,) = [d for d in await session.diagnostics(tool) if d.code == "DL004"]
    assert "outside the plugin" in d.message


def _frame(payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _initialize(pid: int) -> bytes:
    return _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": pid, "rootUri": None, "capabilities": {}}})


def test_server_exits_when_the_editor_process_dies(tmp_path: Path):
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    server = subprocess.Popen([sys.executable, "-m", "dify_lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdin.write(_initialize(editor.pid))
        server.stdin.flush()
        time.sleep(1.0)
        assert server.poll() is None
        editor.kill()
        editor.wait()
        # the stdin pipe stays open: only the parent watch can notice
        server.wait(timeout=15)
    finally:
        for p in (editor, server):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_server_exits_when_stdin_closes():
    server = subprocess.Popen([sys.executable, "-m", "dify_lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
        server.stdin.flush()
        time.sleep(0.5)
        server.stdin.close()
        assert server.wait(timeout=15) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_idle_server_does_not_spin():
    # Start-up work (loading the rules on a thread) may still run after initialize, longer on a loaded
    # machine; a server that spins never has a quiet window, one that is idle soon has one.
    server = subprocess.Popen([sys.executable, "-m", "dify_lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
        server.stdin.flush()
        assert b"Content-Length" in server.stdout.readline()

        def cpu_seconds() -> float:
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks

        windows = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            before = cpu_seconds()
            time.sleep(3.0)
            windows.append(cpu_seconds() - before)
            if windows[-1] < 0.3:
                break
        assert server.poll() is None
        assert windows[-1] < 0.3, f"the server never idled: CPU seconds per 3 s window {windows}"
    finally:
        server.kill()
        server.wait()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_server_never_writes_user_files(session: LspSession, llm_tool: Path):
    """Opening, editing, asking for every feature and for quick fixes leaves the disk untouched."""
    before = _snapshot(llm_tool)
    manifest, tool, code = llm_tool / "manifest.yaml", llm_tool / "tools" / "llm.yaml", llm_tool / "tools" / "llm.py"
    for path in (manifest, tool, code):
        session.open(path)
    session.set_text(manifest, manifest.read_text().replace("author: langgenius", "author: LangGenius"))
    for path in (manifest, tool, code):
        diags = await session.diagnostics(path)
        for d in diags:
            await session.code_actions(path, d.range, [d])
        if path.suffix == ".yaml":
            await still_answers(session, path)
    at_model = session.find(code, "self.session.model", offset=len("self.session.mo"))
    assert isinstance(await session.hover(code, at_model), types.Hover)
    await session.definition(tool, types.Position(line=0, character=1))
    assert _snapshot(llm_tool) == before


async def test_slow_jedi_does_not_delay_yaml_completion(tmp_path: Path, llm_tool: Path):
    """jedi busy for seconds (its interpreter is slow to start) while a YAML completion answers at once."""
    import stat

    from pytest_lsp import client_capabilities
    from pytest_lsp.client import make_test_lsp_client

    from dify_lsp.interpreters import find_python

    real = find_python()
    if real is None:
        pytest.skip("no Python >= 3.12 to build a slow interpreter from")
    slow = tmp_path / "slow-python"
    slow.write_text(f"#!/bin/sh\nsleep 3\nexec '{real.path}' \"$@\"\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)

    client = make_test_lsp_client()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def _register(params):
        return None

    await client.start_io(sys.executable, "-m", "dify_lsp")
    try:
        await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), initialization_options={"python": str(slow)})
        )
        session = LspSession(client, "visual-studio-code", "utf-16")
        code = llm_tool / "tools" / "llm.py"
        session.open(code, code.read_text() + "\nimport os\nos.pa\n")
        manifest = llm_tool / "manifest.yaml"
        session.open(manifest)
        lines = session.texts[code.as_uri()].split("\n")
        python_pos = types.Position(line=len(lines) - 2, character=5)
        python_task = asyncio.ensure_future(session.completion(code, python_pos))
        await asyncio.sleep(0.2)  # jedi is now starting its slow interpreter
        yaml_items = await asyncio.wait_for(session.completion(manifest, types.Position(line=1, character=6)), 10)
        assert not python_task.done(), "the Python completion should still be waiting on jedi"
        assert "plugin" in [i.label for i in yaml_items]
        await asyncio.wait_for(python_task, 15)  # and it does answer, without jedi if need be
    finally:
        await client.shutdown_session()
        await client.stop()

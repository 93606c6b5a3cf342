"""A re-opened plugin's diagnostics from the result cache (the real server over stdio, a private cache folder):
served only while no input changed, identical to a full check, in both client profiles, and never with
`cache` off."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

from conftest import PROFILES
from lsp_session import LspSession

FROM_CACHE = "from the result cache"


async def _start(cache_home: Path, profile: str, options: dict | None = None):
    client = make_test_lsp_client()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def _register(params):
        return None

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def _refresh(params):
        return None

    await client.start_io(sys.executable, "-m", "dify_lsp", env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    await client.initialize_session(types.InitializeParams(capabilities=client_capabilities(profile), initialization_options=options))
    return client, LspSession(client, profile, PROFILES[profile])


async def _stop(client) -> None:
    await client.shutdown_session()
    await client.stop()


def _entries(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "dify-lsp" / "check").rglob("*.pickle"))


async def _stored(cache_home: Path) -> None:
    """The entry is written after the first publish, on a worker: wait for it."""
    for _ in range(300):
        if _entries(cache_home):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no result cache entry was written")


def _served_from_cache(client) -> bool:
    return any(FROM_CACHE in m.message for m in client.log_messages)


def _shape(diags: list[types.Diagnostic]) -> list[tuple]:
    return sorted((str(d.code), d.message, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) for d in diags)


@pytest.mark.parametrize("profile", list(PROFILES))
async def test_a_reopened_plugin_is_served_from_the_cache_until_a_file_changes_on_disk(tmp_path: Path, llm_tool: Path, profile: str):
    cache_home = tmp_path / "cache"
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: tools/nope.py"))

    client, session = await _start(cache_home, profile)
    try:
        session.open(tool)
        cold = _shape(await session.diagnostics(tool))
        assert "DL002" in [c for c, *_ in cold]
        assert not _served_from_cache(client)
        await _stored(cache_home)
    finally:
        await _stop(client)

    client, session = await _start(cache_home, profile)
    try:
        session.open(tool)
        warm = _shape(await session.diagnostics(tool))
        assert _served_from_cache(client)
        assert warm == cold
    finally:
        await _stop(client)

    # a file changed on disk between two starts: a fresh check, with the new finding
    tool.write_text(tool.read_text().replace("source: tools/nope.py", "source: tools/llm.py"))
    python = llm_tool / "tools" / "llm.py"
    python.write_text(python.read_text() + "\nprint('debug')\n")
    client, session = await _start(cache_home, profile)
    try:
        session.open(tool)
        fixed = _shape(await session.diagnostics(tool))
        assert not _served_from_cache(client)
        assert "DL002" not in [c for c, *_ in fixed]
        session.open(python)
        assert "DL209" in [str(d.code) for d in await session.diagnostics(python)]  # the print added
    finally:
        await _stop(client)


async def test_unsaved_text_in_the_editor_is_checked_not_served(tmp_path: Path, llm_tool: Path):
    cache_home = tmp_path / "cache"
    tool = llm_tool / "tools" / "llm.yaml"
    client, session = await _start(cache_home, "visual-studio-code")
    try:
        session.open(tool)
        assert "DL002" not in [str(d.code) for d in await session.diagnostics(tool)]
        await _stored(cache_home)
    finally:
        await _stop(client)

    # the editor restores an unsaved buffer that differs from the disk
    client, session = await _start(cache_home, "visual-studio-code")
    try:
        session.open(tool, tool.read_text().replace("source: tools/llm.py", "source: tools/nope.py"))
        assert "DL002" in [str(d.code) for d in await session.diagnostics(tool)]
        assert not _served_from_cache(client)
    finally:
        await _stop(client)


async def test_with_cache_off_nothing_is_read_or_written(tmp_path: Path, llm_tool: Path):
    cache_home = tmp_path / "cache"
    tool = llm_tool / "tools" / "llm.yaml"
    for _ in range(2):
        client, session = await _start(cache_home, "visual-studio-code", {"cache": False})
        try:
            session.open(tool)
            await session.diagnostics(tool)
            await asyncio.sleep(0.5)  # time enough for a store, were one made
            assert not _served_from_cache(client)
        finally:
            await _stop(client)
    assert _entries(cache_home) == []


# A server in a fresh interpreter, driven through its protocol: initialize, open one file, and at the
# moment its diagnostics are published, note whether pydantic (the settings model) was imported.
FIRST_PUBLISH = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from dify_lsp.server import create_server

    path = Path(sys.argv[1])
    server = create_server()
    published = []

    class Writer:
        def write(self, data):
            body = json.loads(data.decode().split("\\r\\n\\r\\n", 1)[1])
            if body.get("method") == "textDocument/publishDiagnostics":
                published.append({"pydantic": "pydantic" in sys.modules,
                                  "codes": sorted(d["code"] for d in body["params"]["diagnostics"])})

        def close(self):
            pass

    server.protocol.set_writer(Writer())

    def send(method, params, id=None):
        message = {"jsonrpc": "2.0", "method": method, "params": params, **({"id": id} if id else {})}
        server.protocol.handle_message(server.protocol.structure_message(message))

    async def main():
        send("initialize", {"processId": None, "rootUri": path.parent.as_uri(), "capabilities": {},
                            "initializationOptions": {"dify": {"debounceMs": 150, "select": []}}}, id=1)
        await asyncio.sleep(0.05)
        send("initialized", {})
        send("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "yaml", "version": 1,
                                                        "text": path.read_text()}})
        for _ in range(600):
            if published:
                return
            await asyncio.sleep(0.05)

    asyncio.run(main())
    print(json.dumps(published[0] if published else None))
    """
)


def _first_publish(path: Path, cache_home: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", FIRST_PUBLISH, str(path)], capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_seen_at_an_earlier_start_need_no_settings_model_to_serve_from_the_cache(tmp_path: Path, llm_tool: Path):
    cache_home = tmp_path / "cache"
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: tools/nope.py"))
    subprocess.run([sys.executable, "-m", "dify_lsp", "check", str(llm_tool)], capture_output=True, timeout=120,
                   env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    # served from what `check` stored; the settings model is built (these settings are new) and remembered
    first = _first_publish(tool, cache_home)
    assert "DL002" in first["codes"] and first["pydantic"]
    # the same settings again: what they validated to is remembered, nothing imports pydantic before the publish
    second = _first_publish(tool, cache_home)
    assert second == {"pydantic": False, "codes": first["codes"]}
    # other settings are validated (and ignore the finding)
    other = FIRST_PUBLISH.replace('"select": []', '"ignore": ["DL002"]')
    out = subprocess.run([sys.executable, "-c", other, str(tool)], capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    ignored = json.loads(out.stdout.strip().splitlines()[-1])
    assert ignored["pydantic"] and "DL002" not in ignored["codes"]

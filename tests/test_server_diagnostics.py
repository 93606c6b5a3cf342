"""The real server over stdio, with the VS Code (UTF-16, push) and Neovim (UTF-8, pull) profiles."""

import asyncio
from pathlib import Path

from lsprotocol import types

from lsp_session import LspSession, rng


def dl(diags, code):
    return [d for d in diags if d.code == code]


async def test_missing_icon_on_a_line_with_emoji_and_cjk(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text().replace("icon: icon.svg", "icon: 图标😀x.svg")
    manifest.write_text(text)
    session.open(manifest)
    (d,) = dl(await session.diagnostics(manifest), "DL002")
    line = text.split("\n").index("icon: 图标😀x.svg")
    # code points 6..14; UTF-16 counts the emoji as 2, UTF-8 counts 3 bytes per CJK char and 4 for the emoji
    expected_end = {"utf-16": 15, "utf-8": 6 + 3 + 3 + 4 + 5}[session.encoding]
    assert rng(d) == (line, 6, line, expected_end)
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.source == "dify-lsp"


async def test_incremental_edit_fixes_and_clears(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text().replace("source: tools/llm.py", "source: tools/nope.py")
    tool.write_text(text)
    session.open(tool)
    (d,) = dl(await session.diagnostics(tool), "DL002")
    start = d.range.start
    # type the right name over the wrong one: "nope" -> "llm"
    session.replace(tool, types.Position(line=start.line, character=start.character + 6),
                    types.Position(line=start.line, character=start.character + 10), "llm")
    assert dl(await session.diagnostics(tool), "DL002") == []


async def test_broken_yaml_while_typing_then_fixed(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    good = manifest.read_text()
    session.open(manifest)
    assert dl(await session.diagnostics(manifest), "DL001") == []
    session.set_text(manifest, good.replace("type: plugin", "type: [plugin"))
    (d,) = dl(await session.diagnostics(manifest), "DL001")
    assert d.message.startswith("YAML syntax error")
    session.set_text(manifest, good)
    assert dl(await session.diagnostics(manifest), "DL001") == []


async def settled(session: LspSession, path: Path, done, timeout: float = 15.0) -> list[types.Diagnostic]:
    """The file's diagnostics once ``done(diagnostics)`` holds (asked again for pull clients, the latest
    published for push clients); the last ones seen when it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        diags = await session.diagnostics(path)
        if done(diags) or loop.time() > deadline:
            return diags
        await asyncio.sleep(0.05)


async def test_unsaved_manifest_edit_affects_other_open_file(session: LspSession, llm_tool: Path):
    """Editor text wins over disk: an unsaved manifest that lists a missing provider (instead of the one that
    lists the tool) turns the open tool YAML into a tool no provider lists."""
    tool = llm_tool / "tools" / "llm.yaml"
    manifest = llm_tool / "manifest.yaml"
    session.open(tool)
    assert dl(await session.diagnostics(tool), "DL003") == []
    session.open(manifest, manifest.read_text().replace("- provider/llm.yaml", "- provider/gone.yaml"))
    (d,) = dl(await settled(session, manifest, lambda ds: dl(ds, "DL002")), "DL002")
    assert "provider/gone.yaml" in d.message
    (unlisted,) = dl(await settled(session, tool, lambda ds: dl(ds, "DL003")), "DL003")
    # the manifest back as on disk: the tool is listed again
    session.set_text(manifest, manifest.read_text())
    assert dl(await settled(session, tool, lambda ds: not dl(ds, "DL003")), "DL003") == []


async def test_close_clears(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    # the editor's unsaved text names a missing icon; the file on disk does not
    session.open(manifest, manifest.read_text().replace("icon: icon.svg", "icon: nope.svg"))
    assert dl(await session.diagnostics(manifest), "DL002")
    session.close(manifest)
    if session.pull:
        # asked again, the server answers from disk: the closed editor's text is gone
        assert dl(await session.diagnostics(manifest), "DL002") == []
    else:
        # the close itself publishes an empty list for the file
        assert await settled(session, manifest, lambda ds: ds == []) == []


async def test_file_outside_any_plugin_gets_no_diagnostics(session: LspSession, tmp_path: Path, llm_tool: Path):
    loose = tmp_path / "notes.yaml"
    loose.write_text("a: [1\n")
    session.open(loose)
    if session.pull:
        assert await session.diagnostics(loose) == []
        return
    # push: a plugin file opened afterwards gets its (broken) diagnostics; the loose file never gets any
    manifest = llm_tool / "manifest.yaml"
    session.open(manifest, manifest.read_text().replace("type: plugin", "type: [plugin"))
    assert [d.code for d in await session.diagnostics(manifest)].count("DL001") == 1
    assert loose.as_uri() not in session.client.diagnostics

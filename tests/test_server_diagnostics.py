"""The real server over stdio, with the VS Code (UTF-16, push) and Neovim (UTF-8, pull) profiles."""

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


async def test_unsaved_manifest_edit_affects_other_open_file(session: LspSession, llm_tool: Path):
    """Editor text wins over disk: an unsaved manifest naming a missing provider is what counts."""
    manifest = llm_tool / "manifest.yaml"
    session.open(manifest, manifest.read_text().replace("- provider/llm.yaml", "- provider/gone.yaml"))
    diags = await session.diagnostics(manifest)
    (d,) = dl(diags, "DL002")
    assert "provider/gone.yaml" in d.message


async def test_close_clears(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("icon: icon.svg", "icon: nope.svg"))
    session.open(manifest)
    assert dl(await session.diagnostics(manifest), "DL002")
    session.close(manifest)
    assert await session.wait_cleared(manifest) == []


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

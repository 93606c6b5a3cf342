"""Permissions through the real server: manifest edits re-check Python and the reverse; the quick fix."""

from pathlib import Path

from lsprotocol import types

from lsp_session import LspSession


def codes(diags, code):
    return [d for d in diags if d.code == code]


async def test_manifest_edit_rechecks_python_and_back(session: LspSession, llm_tool: Path):
    manifest, code = llm_tool / "manifest.yaml", llm_tool / "tools" / "llm.py"
    good = manifest.read_text()
    session.open(code)
    session.open(manifest)
    assert codes(await session.diagnostics(code), "DL306") == []
    # unsaved manifest edit: the Python file now calls something not permitted
    session.set_text(manifest, good.replace("      llm: true\n", ""))
    await session.diagnostics(manifest)
    (d,) = codes(await session.diagnostics(code), "DL306")
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.related_information[0].location.uri == manifest.as_uri()
    # and the reverse: code that stops calling the LLM clears the manifest finding
    session.set_text(code, code.read_text().replace("self.session.model.llm.invoke(", "dict(", 1))
    await session.diagnostics(code)
    assert codes(await session.diagnostics(manifest), "DL307") == []


async def test_quick_fix_adds_the_missing_key(session: LspSession, llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text().replace("      llm: true\n", "")
    session.open(manifest, text)
    (d,) = codes(await session.diagnostics(manifest), "DL307")
    (action,) = [a for a in await session.code_actions(manifest, d.range, [d]) if "model.llm" in a.title]
    assert action.kind == types.CodeActionKind.QuickFix
    (edit,) = action.edit.changes[manifest.as_uri()]
    line = text.split("\n").index("      enabled: true") + 1
    assert edit.range.start == edit.range.end == types.Position(line=line, character=0)
    assert edit.new_text == "      llm: true\n"
    session.set_text(manifest, text.replace("      enabled: true\n", "      enabled: true\n      llm: true\n", 1))
    assert codes(await session.diagnostics(manifest), "DL307") == []

"""The marketplace family in the editor: the real server over stdio with the `marketplace` setting on, findings
at their place in manifest.yaml, README.md and requirements.txt (UTF-16 columns), an edit that fixes one
clearing it, and the quick fix that adds `privacy: PRIVACY.md`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import EXAMPLES, SERVER_COMMAND
from lsp_session import LspSession, rng
from names_helpers import apply_workspace_edit, write_all


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), params=["on", "off"])
async def lsp(request, client: LanguageClient, tmp_path: Path):
    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        pass

    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="workspace")],
            initialization_options={"marketplace": request.param == "on", "debounceMs": 0},
        )
    )
    yield
    await client.shutdown_session()


@pytest.fixture
def session(lsp: LanguageClient) -> LspSession:
    return LspSession(lsp, "visual-studio-code", "utf-16")


@pytest.fixture
def on(request) -> bool:
    return request.node.callspec.params["lsp"] == "on"


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    dest = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLES / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    return dest


def market(diags: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return sorted((d for d in diags if str(d.code).startswith("DL6")), key=lambda d: (rng(d), str(d.code)))


@pytest.mark.asyncio
async def test_manifest_findings_at_utf16_ranges_and_an_edit_clears_one(session: LspSession, plugin: Path, on: bool):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("author: langgenius", "author: 😀dify"))
    session.open(manifest)
    diags = market(await session.diagnostics(manifest))
    if not on:
        assert diags == []  # off by default: nothing from the family
        return
    author_line = manifest.read_text().split("\n").index("author: 😀dify")
    by_code = {}
    for d in diags:
        by_code.setdefault(str(d.code), []).append(d)
    (author,) = by_code["DL621"]
    assert rng(author) == (author_line, 8, author_line, 8 + 2 + 4)  # the emoji is two UTF-16 units
    assert author.severity == types.DiagnosticSeverity.Error
    assert sorted(rng(d) for d in by_code["DL620"]) == [(0, 0, 0, 7), (0, 0, 0, 7)]  # repo, contact: at the first key

    text = session.texts[manifest.as_uri()] + "repo: https://github.com/acme/llm-tool\ncontact: dev@acme.example.com\n"
    session.set_text(manifest, text)
    left = market(await session.diagnostics(manifest))
    assert [str(d.code) for d in left] == ["DL621"]


@pytest.mark.asyncio
async def test_readme_and_requirements_findings(session: LspSession, plugin: Path, on: bool):
    (plugin / "requirements.txt").write_text("dify_plugin==0.10.2\nrequests\n")
    readme = plugin / "README.md"
    session.open(plugin / "requirements.txt")
    reqs = market(await session.diagnostics(plugin / "requirements.txt"))
    if not on:
        assert reqs == []
        return
    assert [(str(d.code), rng(d)) for d in reqs] == [("DL640", (1, 0, 1, 8))]
    session.open(readme)
    codes = {str(d.code): rng(d) for d in market(await session.diagnostics(readme))}
    assert codes["DL636"] == (0, 0, 0, len("# llm-tool (example)"))


@pytest.mark.asyncio
async def test_quick_fix_adds_the_privacy_field(session: LspSession, plugin: Path, on: bool):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("privacy: PRIVACY.md\n", ""))
    session.open(manifest)
    diags = [d for d in market(await session.diagnostics(manifest)) if "`privacy`" in d.message]
    if not on:
        assert diags == []
        return
    (missing,) = diags
    actions = await session.code_actions(manifest, missing.range, [missing])
    (fix,) = [a for a in actions if a.title == "Add `privacy: PRIVACY.md` to the manifest"]
    write_all(apply_workspace_edit(fix.edit, session.encoding))
    assert manifest.read_text().endswith("verified: false\nprivacy: PRIVACY.md\n")

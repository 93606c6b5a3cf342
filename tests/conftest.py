"""Shared fixtures: example plugins copied to a temp folder, and a real server over stdio."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

sys.path.insert(0, str(Path(__file__).parent))

from lsp_session import LspSession  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Client profiles shipped with pytest-lsp: VS Code speaks UTF-16 and takes pushed
# diagnostics; Neovim 0.11 negotiates UTF-8 and pulls diagnostics.
PROFILES = {"visual-studio-code": "utf-16", "neovim": "utf-8"}
SERVER_COMMAND = [sys.executable, "-m", "dify_lsp"]


@pytest.fixture
def llm_tool(tmp_path: Path) -> Path:
    """A private copy of examples/llm-tool."""
    dest = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLES / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    return dest


def copy_fixture(tmp_path: Path, *parts: str) -> Path:
    src = FIXTURES.joinpath(*parts)
    dest = tmp_path / src.name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return dest


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), params=list(PROFILES))
async def lsp(request, client: LanguageClient, tmp_path: Path):
    """A started server (both client profiles); the test gets an LspSession via `session`."""
    capabilities = client_capabilities(request.param)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        client.registrations = [*getattr(client, "registrations", []), *params.registrations]

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        client.code_lens_refreshes = getattr(client, "code_lens_refreshes", 0) + 1

    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="workspace")],
            initialization_options=getattr(request, "initialization_options", None),
        )
    )
    yield
    await client.shutdown_session()


@pytest.fixture
def session(lsp: LanguageClient, request) -> LspSession:
    profile = request.node.callspec.params["lsp"]
    return LspSession(lsp, profile, PROFILES[profile])

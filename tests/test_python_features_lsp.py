"""self.session completion, signature help and hover through the real server (VS Code UTF-16 and Neovim UTF-8).

Without dify_plugin importable (the dev venv does not have it) the catalog answers alone; with the
``python`` setting pointing at the SDK's interpreter, jedi also answers plain Python completions.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from invocation_helpers import sdk_python
from lsp_session import LspSession, rng

PROFILES = {"visual-studio-code": "utf-16", "neovim": "utf-8"}

# A tool being typed: several lines do not parse, and non-ASCII text precedes the cursor.
TYPING = '''\
from dify_plugin import Tool


class LLMTool(Tool):
    def _invoke(self, tool_parameters: dict):
        m = self.session.model
        label = "😀中文"; value = self.session.
        again = "中文😀" + str(self.session.model.
        x = self.session.model.rerank.
        y = m.
        z = self.runtime.session.st
        partial = "😀"; w = self.session.model.ll
        r = self.session.model.llm.invoke(model_config=tool_parameters["model"], 
        s = self.session.model.llm.invoke(model_config=cfg, prompt_messages=[], stream=
        t = "😀中文"; self.session.model.tts.invoke(cfg, "hi")
        u = self.session.model.rerank.invoke(cfg, [], "q")
'''


def labels(items: list[types.CompletionItem]) -> set[str]:
    return {i.label for i in items}


def line_end(text: str, needle: str) -> tuple[int, int]:
    """(line, code-point column) at the end of the line holding ``needle``."""
    for i, line in enumerate(text.split("\n")):
        if needle in line:
            return i, len(line)
    raise AssertionError(needle)


@pytest.fixture
def typing_tool(llm_tool: Path) -> Path:
    path = llm_tool / "tools" / "llm.py"
    path.write_text(TYPING)
    return path


def test_dev_environment_has_no_dify_plugin():
    assert importlib.util.find_spec("dify_plugin") is None


async def test_completion_after_session_with_emoji_before_cursor(session: LspSession, typing_tool: Path):
    session.open(typing_tool)
    line, col = line_end(TYPING, "value = self.session.")
    pos = session.position(typing_tool, line, col)
    items = await session.completion(typing_tool, pos)
    got = labels(items)
    assert {"model", "tool", "app", "workflow_node", "storage", "file", "session_id", "conversation_id", "app_id"} <= got
    assert "reader" not in got  # SDK plumbing is not offered
    model = next(i for i in items if i.label == "model")
    assert model.text_edit is not None and rng(model.text_edit.range) == (line, pos.character, line, pos.character)
    assert "llm" in model.documentation.value


async def test_completion_model_rerank_alias_and_runtime_session(session: LspSession, typing_tool: Path):
    session.open(typing_tool)
    model_members = {"llm", "llm_structured_output", "text_embedding", "rerank", "speech2text", "tts", "moderation", "summary"}
    line, col = line_end(TYPING, 'str(self.session.model.')
    assert labels(await session.completion(typing_tool, session.position(typing_tool, line, col))) >= model_members
    line, col = line_end(TYPING, "x = self.session.model.rerank.")
    got = labels(await session.completion(typing_tool, session.position(typing_tool, line, col)))
    assert {"invoke", "invoke_multimodal"} <= got and "llm" not in got
    line, col = line_end(TYPING, "y = m.")
    assert labels(await session.completion(typing_tool, session.position(typing_tool, line, col))) >= model_members
    line, col = line_end(TYPING, "z = self.runtime.session.st")
    assert {"storage", "model"} <= labels(await session.completion(typing_tool, session.position(typing_tool, line, col)))


async def test_partial_word_is_replaced_in_client_units(session: LspSession, typing_tool: Path):
    session.open(typing_tool)
    line, col = line_end(TYPING, "w = self.session.model.ll")
    items = await session.completion(typing_tool, session.position(typing_tool, line, col))
    llm = next(i for i in items if i.label == "llm")
    assert rng(llm.text_edit.range) == (line, session.col(typing_tool, line, col - 2), line, session.col(typing_tool, line, col))
    assert "**Manifest permission**" in (llm.documentation.value if hasattr(llm.documentation, "value") else "")


async def test_signature_help_with_active_parameter(session: LspSession, typing_tool: Path):
    session.open(typing_tool)
    line, col = line_end(TYPING, 'r = self.session.model.llm.invoke(')
    help_ = await session.signature_help(typing_tool, session.position(typing_tool, line, col))
    assert help_ is not None
    sig = help_.signatures[0]
    assert sig.label.startswith("invoke(model_config: LLMModelConfig | dict, prompt_messages: list[PromptMessage]")
    assert [p.label for p in sig.parameters][1].startswith("prompt_messages")
    assert help_.active_parameter == 1
    line, col = line_end(TYPING, "s = self.session.model.llm.invoke(")
    help_ = await session.signature_help(typing_tool, session.position(typing_tool, line, col))
    assert help_.active_parameter == 4  # stream=


async def test_hover_on_members_and_methods(session: LspSession, typing_tool: Path):
    session.open(typing_tool)
    text_line = next(i for i, l in enumerate(TYPING.split("\n")) if "self.session.model.tts.invoke" in l)
    line_text = TYPING.split("\n")[text_line]
    col = line_text.index("invoke")
    hover = await session.hover(typing_tool, session.position(typing_tool, text_line, col + 2))
    assert hover is not None
    body = hover.contents.value
    assert "audio byte stream" in body and "model.tts" in body and "Since" in body and "content_text" in body
    assert rng(hover.range) == (text_line, session.col(typing_tool, text_line, col), text_line, session.col(typing_tool, text_line, col + 6))
    rerank_line = next(i for i, l in enumerate(TYPING.split("\n")) if l.strip().startswith("u = "))
    rerank_col = TYPING.split("\n")[rerank_line].index("rerank")
    hover = await session.hover(typing_tool, session.position(typing_tool, rerank_line, rerank_col + 1))
    assert "RerankInvocation" in hover.contents.value and "model.rerank" in hover.contents.value
    hover = await session.hover(typing_tool, session.find(typing_tool, "m = self.session.model", offset=19))
    assert "ModelInvocations" in hover.contents.value


async def test_the_query_mistake_is_a_diagnostic(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    session.open(tool)
    diags = [d for d in await session.diagnostics(tool) if d.code == "DL207"]
    (d,) = diags
    start = session.find(tool, '"query"')
    assert rng(d) == (start.line, start.character, start.line, start.character + len('"query"'))


# The checker and the cursor features resolve an alias the same way: an alias written over several lines is one,
# a name bound to two different things is none (for both).
ALIASED = '''\
from dify_plugin import Tool


class LLMTool(Tool):
    def _invoke(self, tool_parameters: dict):
        m = (
            self.session.model
        )
        n = self.session.model
        n = self.session.tool
        a = m.lmm
        b = n.lmm
        c = m.llm.invoke(model_config=tool_parameters["model"], prompt_messages=[], stream=False)
        d = n.llm.invoke(model_config=tool_parameters["model"], prompt_messages=[], stream=False)
'''


async def test_cursor_features_resolve_aliases_as_the_checker_does(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    session.open(tool, ALIASED)
    diags = [d for d in await session.diagnostics(tool) if d.code == "DL201"]
    start = session.find(tool, "m.lmm", offset=2)
    assert [rng(d) for d in diags] == [(start.line, start.character, start.line, start.character + 3)]  # not n.lmm
    model_members = {"llm", "text_embedding", "rerank", "tts"}
    # completion right after `m.` (the line is half-typed) and inside the word after it
    at = session.find(tool, "a = m.lmm", offset=6)
    session.replace(tool, at, session.find(tool, "a = m.lmm", offset=9), "")
    assert labels(await session.completion(tool, at)) >= model_members
    assert labels(await session.completion(tool, session.find(tool, "b = n.lmm", offset=6))) == set()
    # hover and signature help through the alias; none through the name bound twice
    hover = await session.hover(tool, session.find(tool, "c = m.llm", offset=7))
    assert hover is not None and "model.llm" in hover.contents.value
    assert await session.hover(tool, session.find(tool, "d = n.llm", offset=7)) is None
    help_ = await session.signature_help(tool, session.find(tool, "c = m.llm.invoke(", offset=len("c = m.llm.invoke(")))
    assert help_ is not None and help_.signatures[0].label.startswith("invoke(model_config: LLMModelConfig | dict")
    assert await session.signature_help(tool, session.find(tool, "d = n.llm.invoke(", offset=len("d = n.llm.invoke("))) is None


async def test_parameter_hover_on_a_read_in_a_closure(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    session.open(tool, """\
from dify_plugin import Tool


class LLMTool(Tool):
    def _invoke(self, tool_parameters: dict):
        async def ask():
            return tool_parameters["prompt"]

        yield ask
""")
    hover = await session.hover(tool, session.find(tool, '"prompt"', offset=2))
    assert hover is not None and "`prompt`" in hover.contents.value and "tools/llm.yaml" in hover.contents.value


# -- with the SDK's interpreter: jedi answers plain Python ---------------------------------------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dify_lsp"]), params=list(PROFILES))
async def sdk_lsp(request, lsp_client: LanguageClient, tmp_path: Path):
    python = sdk_python()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="workspace")],
            initialization_options={"python": str(python)},
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def sdk_session(sdk_lsp: LanguageClient, request) -> LspSession:
    profile = request.node.callspec.params["sdk_lsp"]
    return LspSession(sdk_lsp, profile, PROFILES[profile])


async def _completion_until(session: LspSession, path: Path, pos: types.Position, want: str, tries: int = 20) -> set[str]:
    got: set[str] = set()
    for _ in range(tries):  # the first jedi request may time out while jedi starts its subprocess
        got = labels(await session.completion(path, pos))
        if want in got:
            return got
        await asyncio.sleep(0.5)
    return got


async def test_jedi_answers_plain_python_with_the_sdk_interpreter(sdk_session: LspSession, typing_tool: Path):
    text = TYPING + "        import os\n        os.pa\n        from dify_plugin.entities.model.llm import LLMModelC\n"
    typing_tool.write_text(text)
    sdk_session.open(typing_tool)
    lines = text.split("\n")
    os_line = lines.index("        os.pa")
    got = await _completion_until(sdk_session, typing_tool, sdk_session.position(typing_tool, os_line, len(lines[os_line])), "path")
    assert "path" in got and "pathsep" in got
    imp_line = next(i for i, l in enumerate(lines) if "LLMModelC" in l)
    got = await _completion_until(sdk_session, typing_tool, sdk_session.position(typing_tool, imp_line, len(lines[imp_line])), "LLMModelConfig")
    assert "LLMModelConfig" in got  # jedi sees the plugin's interpreter's packages
    # on a session chain the catalog answers, and only the catalog
    line, col = line_end(text, "x = self.session.model.rerank.")
    got = labels(await sdk_session.completion(typing_tool, sdk_session.position(typing_tool, line, col)))
    assert got == {"invoke", "invoke_multimodal"}

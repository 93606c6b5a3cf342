"""The real server speaks the client's language: diagnostics, hovers and completion details in Chinese and
Japanese when the client's `locale` (or the `locale` setting) asks for them, English for any other language."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import EXAMPLES, SERVER_COMMAND
from lsp_session import LspSession

HAN = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")

# (client locale, initialization options, the language expected)
CASES = {
    "zh-cn": ("zh-cn", None, "zh_Hans"),
    "ja": ("ja", None, "ja_JP"),
    "de": ("de", None, "en_US"),
    "setting-over-client": ("de", {"locale": "zh_Hans"}, "zh_Hans"),
}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), params=list(CASES))
async def lsp(request, client: LanguageClient, tmp_path: Path):
    locale, options, _ = CASES[request.param]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        pass

    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="workspace")],
            initialization_options=options,
            locale=locale,
        )
    )
    yield
    await client.shutdown_session()


@pytest.fixture
def session(lsp: LanguageClient) -> LspSession:
    return LspSession(lsp, "visual-studio-code", "utf-16")


@pytest.fixture
def language(request) -> str:
    return CASES[request.node.callspec.params["lsp"]][2]


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    """llm-tool with a DL207 (undeclared parameter), a DL305 (llm-scoped model passed to text embedding)
    and DL306 (no `model.llm` permission)."""
    dest = tmp_path / "llm-tool"
    shutil.copytree(EXAMPLES / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    code = dest / "tools" / "llm.py"
    code.write_text(code.read_text().replace(
        "        for chunk in response:",
        '        extra = tool_parameters.get("temperature")\n'
        '        self.session.model.text_embedding.invoke(model_config=tool_parameters["model"], texts=[str(extra)])\n'
        "        for chunk in response:",
    ))
    manifest = dest / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", ""))
    return dest


def assert_in(language: str, text: str) -> None:
    if language == "zh_Hans":
        assert HAN.search(text) and not KANA.search(text), text
    elif language == "ja_JP":
        # Short labels can be all kanji (任意 · 真偽値); sentences always have kana.
        assert (KANA if len(text) > 20 else re.compile(f"{HAN.pattern}|{KANA.pattern}")).search(text), text
    else:
        assert not HAN.search(text) and not KANA.search(text), text


async def test_diagnostics_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    code = plugin / "tools" / "llm.py"
    session.open(code)
    diags = await session.diagnostics(code)
    by_code: dict[str, list[types.Diagnostic]] = {}
    for d in diags:
        by_code.setdefault(str(d.code), []).append(d)
    (dl207,) = [d for d in by_code["DL207"] if "temperature" in d.message]
    (dl305,) = by_code["DL305"]
    dl306 = {d.message for d in by_code["DL306"]}
    assert len(dl306) == 2
    for message in (dl207.message, dl305.message, *dl306):
        assert_in(language, message)
    # names from the plugin and the SDK are never translated
    assert "'model'" in dl305.message and "session.model.text_embedding.invoke" in dl305.message
    assert any("model.llm: true" in m for m in dl306)
    glossary = {"zh_Hans": "权限", "ja_JP": "権限", "en_US": "permission"}[language]
    assert all(glossary in m for m in dl306)
    # related information (the manifest) is translated as well
    related = [r.message for d in by_code["DL306"] for r in d.related_information or []]
    assert related and all(assert_in(language, m) is None for m in related)


async def test_quick_fix_matches_the_translated_diagnostic(session: LspSession, plugin: Path, language: str):
    manifest = plugin / "manifest.yaml"
    session.open(manifest)
    (d,) = [d for d in await session.diagnostics(manifest) if d.code == "DL307"]
    assert_in(language, d.message)
    actions = [a for a in await session.code_actions(manifest, d.range, [d]) if a.diagnostics]
    assert actions and all(a.diagnostics[0].message == d.message for a in actions)


async def test_session_hover_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    code = plugin / "tools" / "llm.py"
    session.open(code)
    hover = await session.hover(code, session.find(code, "model.llm.invoke", offset=len("model.")))
    text = hover.contents.value
    assert "session.model.llm: LLMInvocation" in text  # code: never translated
    doc = text.split("```", 2)[2]
    assert_in(language, doc)
    assert "`resource.permission.model.llm: true`" in doc
    if language != "en_US":
        assert "**Since**" not in doc and "**Manifest permission**" not in doc
    # and the method's hover
    hover = await session.hover(code, session.find(code, "llm.invoke", offset=len("llm.")))
    doc = hover.contents.value.split("```", 2)[2]
    assert_in(language, doc)
    if language != "en_US":
        assert "**Returns**" not in doc and "**Parameters**" not in doc


async def test_scope_key_hover_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    tool = plugin / "tools" / "llm.yaml"
    session.open(tool)
    hover = await session.hover(tool, session.find(tool, "scope:"))
    text = hover.contents.value
    assert text.startswith("**`scope`**")
    assert_in(language, text)
    # the value hover too
    value = await session.hover(tool, session.find(tool, "scope: llm", offset=len("scope: ")))
    assert "`llm`" in value.contents.value
    assert_in(language, value.contents.value)


async def test_completion_detail_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    tool = plugin / "tools" / "llm.yaml"
    text = tool.read_text()
    session.open(tool, text + "\n")
    line = len(text.split("\n"))
    items = await session.completion(tool, types.Position(line=line - 1, character=0))
    assert items
    for item in items:
        assert_in(language, item.detail)
        assert re.fullmatch(r"[a-z_]+", item.label)  # keys are never translated


async def test_outline_shows_the_plugins_own_label(session: LspSession, plugin: Path, language: str):
    tool = plugin / "tools" / "llm.yaml"
    session.open(tool)
    (root,) = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=tool.as_uri())))
    params = next(c for c in root.children if c.name == "parameters")
    prompt = next(c for c in params.children if c.name == "prompt")
    # The YAML has en_US and zh_Hans labels (no ja_JP: English is the fallback).
    expected = {"zh_Hans": "提示字符串", "ja_JP": "Prompt string", "en_US": "Prompt string"}[language]
    assert prompt.detail == f"string · {expected}"


async def test_code_lens_and_quick_fix_titles_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    tool = plugin / "tools" / "llm.yaml"
    session.open(tool)
    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=tool.as_uri())))
    (run,) = [lens for lens in lenses if lens.command and lens.command.command == "dify.runInvocation"]
    assert run.command.title.startswith("▶ ")
    assert_in(language, run.command.title)
    code = plugin / "tools" / "llm.py"
    session.open(code)
    (d,) = [d for d in await session.diagnostics(code) if d.code == "DL207" and "temperature" in d.message]
    (declare,) = [a for a in await session.code_actions(code, d.range, [d]) if "'temperature'" in a.title]
    assert_in(language, declare.title)
    assert "tools/llm.yaml" in declare.title and declare.diagnostics[0].message == d.message


async def test_parameter_hover_shows_the_plugins_own_label(session: LspSession, plugin: Path, language: str):
    code = plugin / "tools" / "llm.py"
    session.open(code)
    hover = await session.hover(code, session.find(code, 'tool_parameters["model"]', offset=len('tool_parameters["')))
    text = hover.contents.value
    assert text.startswith("**`model`**") and "`model-selector`" in text
    # The YAML's own texts: zh_Hans where it has them, else en_US (it has no ja_JP).
    label, human = {"zh_Hans": ("使用的模型", "LLM模型"), "ja_JP": ("Model", "LLM model"), "en_US": ("Model", "LLM model")}[language]
    assert f"**{label}**" in text and human in text
    assert_in(language, text.split("\n")[0] + text.split("\n")[-1])


async def test_changing_the_locale_setting_re_renders_diagnostics(session: LspSession, plugin: Path, language: str):
    import asyncio

    code = plugin / "tools" / "llm.py"
    session.open(code)
    before = [d for d in await session.diagnostics(code) if d.code == "DL207"]
    assert before
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"dify": {"locale": "ja"}}))
    for _ in range(200):
        after = [d for d in session.client.diagnostics.get(code.as_uri(), []) if d.code == "DL207"]
        if after and all(KANA.search(d.message) for d in after):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"diagnostics not re-rendered in Japanese: {[d.message for d in after]}")
    assert [d.range for d in after] == [d.range for d in before]


async def test_link_tooltips_and_rename_refusals_in_the_clients_language(session: LspSession, plugin: Path, language: str):
    from pygls.exceptions import JsonRpcException

    provider = plugin / "provider" / "llm.yaml"
    session.open(provider)
    links = await session.client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=types.TextDocumentIdentifier(uri=provider.as_uri())))
    tips = [link.tooltip for link in links if link.tooltip]
    assert len(tips) == len(links) >= 3
    for tip in tips:
        assert_in(language, tip)
    tool = plugin / "tools" / "llm.yaml"
    session.open(tool)
    with pytest.raises(JsonRpcException) as refused:
        await session.client.text_document_rename_async(types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri=tool.as_uri()),
            position=session.find(tool, "name: prompt", offset=len("name: p")), new_name="two words"))
    assert_in(language, refused.value.message)
    assert "'two words'" in refused.value.message  # the name as typed

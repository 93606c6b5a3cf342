"""Quick fixes that write plugin YAML or create files: after each, `check` no longer reports the finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex
from names_helpers import apply_workspace_edit, names_plugin, write_all


def findings(plugin: Path) -> list[tuple[str, str, int]]:
    report = check_plugin(PluginIndex(), plugin, {})
    return [(f.code, f.path.relative_to(plugin).as_posix(), f.span.start.line) for f in report.findings]


async def apply_fix(session, path: Path, codes: tuple[str, ...], title: str):
    session.open(path)
    diags = [d for d in await session.diagnostics(path) if d.code in codes]
    assert diags, f"no {codes} diagnostic on {path.name}"
    actions = await session.code_actions(path, diags[0].range, diags)
    chosen = [a for a in actions if a.title == title]
    assert chosen, f"no action {title!r}; got {[a.title for a in actions]}"
    write_all(apply_workspace_edit(chosen[0].edit, session.encoding))
    return chosen[0]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.asyncio
async def test_declare_an_undeclared_get_read_with_its_guessed_type(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    _edit(tool_py, '        params = tool_parameters\n', '        params = tool_parameters\n        top_k = int(params.get("top_k") or 3)\n')
    _edit(tool_py, 'f"Answer this question: {question}"', 'f"Answer this question in {top_k} points: {question}"')
    assert [f[0] for f in findings(plugin)] == ["DL207"]

    action = await apply_fix(session, tool_py, ("DL207",), "Declare 'top_k' in tools/ask.yaml (number)")
    assert action.is_preferred
    text = (plugin / "tools" / "ask.yaml").read_text(encoding="utf-8")
    assert "  - name: top_k\n    type: number\n    required: false\n    label:\n      en_US: Top k\n" in text
    assert "    form: llm\nextra:\n" in text  # appended after the last parameter, before `extra`
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_declare_a_subscript_read_passed_as_model_config_as_a_model_selector(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    _edit(tool_py, 'LLMModelConfig(**tool_parameters["model"])', 'LLMModelConfig(**tool_parameters["answer_model"])')
    codes = ("DL207", "DL214")
    assert {f[0] for f in findings(plugin)} & set(codes)

    await apply_fix(session, tool_py, codes, "Declare 'answer_model' in tools/ask.yaml (model-selector)")
    text = (plugin / "tools" / "ask.yaml").read_text(encoding="utf-8")
    assert "  - name: answer_model\n    type: model-selector\n    scope: llm\n    required: true\n" in text
    assert "    form: form\nextra:" in text
    # the old `model` parameter is now unread: that hint is all that is left
    assert [f[0] for f in findings(plugin)] == ["DL208"]


@pytest.mark.asyncio
@pytest.mark.parametrize("title", ["Mark 'tone' optional", "Remove the parameter 'tone'"])
async def test_unread_required_parameter_marked_optional_or_removed(session, tmp_path, title):
    plugin = names_plugin(tmp_path)
    tool_yaml = plugin / "tools" / "ask.yaml"
    tone = "  - name: tone\n    type: string\n    required: true\n    label:\n      en_US: Tone\n    human_description:\n      en_US: Tone\n    form: form\n"
    _edit(tool_yaml, "  - name: \"model\"\n", tone + "  - name: \"model\"\n")
    assert findings(plugin) == [("DL208", "tools/ask.yaml", 19)]

    await apply_fix(session, tool_yaml, ("DL208",), title)
    text = tool_yaml.read_text(encoding="utf-8")
    if title.startswith("Mark"):
        assert tone.replace("required: true", "required: false") in text
    else:
        assert "tone" not in text and '  - name: "model"\n' in text
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_list_an_unreferenced_tool_in_the_provider(session, tmp_path):
    plugin = names_plugin(tmp_path)
    extra = plugin / "tools" / "extra.yaml"
    extra.write_text((plugin / "tools" / "ask.yaml").read_text(encoding="utf-8").replace("name: ask", "name: extra"), encoding="utf-8")
    assert findings(plugin) == [("DL003", "tools/extra.yaml", 0)]

    await apply_fix(session, extra, ("DL003",), "List tools/extra.yaml in provider/asker.yaml")
    assert "tools:\n  - tools/ask.yaml\n  - tools/extra.yaml\nextra:" in (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_create_a_missing_tool_yaml_and_python(session, tmp_path):
    plugin = names_plugin(tmp_path)
    provider = plugin / "provider" / "asker.yaml"
    _edit(provider, "  - tools/ask.yaml\n", "  - tools/ask.yaml\n  - tools/translate.yaml\n")
    assert findings(plugin) == [("DL002", "provider/asker.yaml", 16)]

    await apply_fix(session, provider, ("DL002",), "Create tools/translate.yaml and tools/translate.py")
    assert "class TranslateTool(Tool):" in (plugin / "tools" / "translate.py").read_text(encoding="utf-8")
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_create_a_missing_python_source_reading_the_declared_parameters(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml = plugin / "tools" / "ask.yaml"
    _edit(tool_yaml, "source: tools/ask.py", "source: tools/ask_v2.py")
    assert findings(plugin) == [("DL002", "tools/ask.yaml", 30)]

    await apply_fix(session, tool_yaml, ("DL002",), "Create tools/ask_v2.py")
    text = (plugin / "tools" / "ask_v2.py").read_text(encoding="utf-8")
    assert 'question = tool_parameters.get("question")' in text and 'model = tool_parameters.get("model")' in text
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_create_the_tool_subclass_in_a_file_without_one(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml = plugin / "tools" / "ask.yaml"
    helpers = plugin / "tools" / "helpers.py"
    helpers.write_text('"""Helpers for the ask tool."""\n\nimport json\n\n\ndef render(value):\n    return json.dumps(value)\n', encoding="utf-8")
    _edit(tool_yaml, "source: tools/ask.py", "source: tools/helpers.py")
    assert findings(plugin) == [("DL211", "tools/ask.yaml", 30)]

    await apply_fix(session, tool_yaml, ("DL211",), "Create the Tool subclass in tools/helpers.py")
    text = helpers.read_text(encoding="utf-8")
    assert text.startswith('"""Helpers for the ask tool."""\n\nimport json\nfrom collections.abc import Generator\n')
    assert "def render(value):\n    return json.dumps(value)\n\n\nclass AskTool(Tool):\n" in text
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_declare_a_credential_a_tool_reads(session, tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    _edit(tool_py, '        if self.runtime.credentials.get("api_key") is None:\n',
          '        answer += self.runtime.credentials.get("signature", "")\n        if self.runtime.credentials.get("api_key") is None:\n')
    assert [f[0] for f in findings(plugin)] == ["DL218"]

    await apply_fix(session, tool_py, ("DL218",), "Declare credential 'signature' in provider/asker.yaml")
    text = (plugin / "provider" / "asker.yaml").read_text(encoding="utf-8")
    assert "      en_US: API key\n  signature:\n    type: secret-input\n    required: false\n    label:\n      en_US: Signature\n" in text
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_declare_an_endpoint_setting_the_endpoint_reads(session, tmp_path):
    plugin = names_plugin(tmp_path)
    endpoint_py = plugin / "endpoints" / "hook.py"
    _edit(endpoint_py, 'settings.get("token")', 'settings["token"] + settings["salt"]')
    assert [f[0] for f in findings(plugin)] == ["DL218"]

    await apply_fix(session, endpoint_py, ("DL218",), "Declare setting 'salt' in group/hook.yaml")
    text = (plugin / "group" / "hook.yaml").read_text(encoding="utf-8")
    assert "  - name: salt\n    type: secret-input\n    required: true\n" in text
    assert findings(plugin) == []


@pytest.mark.asyncio
async def test_declare_a_model_provider_credential(session, tmp_path):
    import shutil

    plugin = tmp_path / "run-model"
    shutil.copytree(Path(__file__).resolve().parent / "fixtures" / "run-model", plugin)
    provider_py = plugin / "provider" / "loopai.py"
    provider_py.write_text(
        "from dify_plugin import ModelProvider\n"
        "from dify_plugin.errors.model import CredentialsValidateFailedError\n\n\n"
        "class LoopAIProvider(ModelProvider):\n"
        "    def validate_provider_credentials(self, credentials: dict) -> None:\n"
        "        if not credentials.get(\"organization\"):\n"
        "            raise CredentialsValidateFailedError(\"an organization is required\")\n",
        encoding="utf-8",
    )
    assert {f[0] for f in findings(plugin)} == {"DL218"}

    await apply_fix(session, provider_py, ("DL218",), "Declare credential 'organization' in provider/loopai.yaml (provider_credential_schema)")
    text = (plugin / "provider" / "loopai.yaml").read_text(encoding="utf-8")
    assert "    - variable: organization\n      type: secret-input\n      required: false\n" in text
    assert findings(plugin) == []

"""The engine behind rename and references (dify_lsp.plugin_names): scopes, sites and refusals, without a server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dify_lsp.i18n import CJK, tr
from dify_lsp.index import PluginIndex
from dify_lsp.plugin_names import (
    DECLARATION,
    READ,
    STRATEGY_PARAMETER,
    TOOL_PARAMETER,
    RenameRefused,
    name_at,
    name_scopes,
    rename_edits,
)
from dify_lsp.textpos import Pos
from dify_lsp.yamledit import apply_edits
from names_helpers import names_plugin

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _pos(path: Path, needle: str, offset: int = 1) -> Pos:
    text = path.read_text(encoding="utf-8")
    i = text.index(needle) + offset
    return Pos(text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1))


def _apply(edits) -> dict[Path, str]:
    by: dict[Path, list] = {}
    for e in edits:
        by.setdefault(e.path, []).append(e)
    return {p: apply_edits(p.read_text(encoding="utf-8"), es) for p, es in by.items()}


def _rename(plugin: Path, path: Path, needle: str, new: str, offset: int = 1) -> dict[Path, str]:
    index = PluginIndex()
    found = name_at(index.plugin_at(plugin), index, path, _pos(path, needle, offset))
    assert found is not None, needle
    return _apply(rename_edits(found, new))


def test_agent_strategy_parameters_rename_across_yaml_and_invoke(tmp_path):
    plugin = tmp_path / "agent"
    shutil.copytree(FIXTURES / "run-agent", plugin)
    strategy_py, strategy_yaml = plugin / "strategies" / "tool_loop.py", plugin / "strategies" / "tool_loop.yaml"
    text = strategy_py.read_text(encoding="utf-8")
    strategy_py.write_text(text.replace("        params = ToolLoopParams(**parameters)\n",
                                        '        query = parameters["query"]\n        params = ToolLoopParams(**{**parameters, "query": query})\n'), encoding="utf-8")
    index = PluginIndex()
    scopes = [s for s in name_scopes(index.plugin_at(plugin), index) if s.kind == STRATEGY_PARAMETER]
    assert len(scopes) == 1
    scope = scopes[0]
    assert [(s.name, s.role) for s in scope.sites_of("query")] == [("query", DECLARATION), ("query", READ)]
    # the parameters dict is also handed to a pydantic model: some uses are out of sight, and the scope says so
    assert scope.incomplete and "passes parameters on" in scope.incomplete[0]

    after = _rename(plugin, strategy_py, 'parameters["query"]', "question", offset=len('parameters["q'))
    assert "  - name: question\n" in after[strategy_yaml]
    assert 'query = parameters["question"]' in after[strategy_py]


def test_tools_sharing_one_source_rename_together(tmp_path):
    plugin = names_plugin(tmp_path)
    tool_yaml, tool_py = plugin / "tools" / "ask.yaml", plugin / "tools" / "ask.py"
    twin = plugin / "tools" / "ask_twin.yaml"
    twin.write_text(tool_yaml.read_text(encoding="utf-8").replace("name: ask\n", "name: ask_twin\n"), encoding="utf-8")
    provider = plugin / "provider" / "asker.yaml"
    provider.write_text(provider.read_text(encoding="utf-8").replace("  - tools/ask.yaml\n", "  - tools/ask.yaml\n  - tools/ask_twin.yaml\n"), encoding="utf-8")

    after = _rename(plugin, tool_py, 'tool_parameters["question"]', "query", offset=len('tool_parameters["q'))
    assert set(after) == {tool_yaml, twin, tool_py, plugin / ".dify" / "invocations" / "ask.yaml"}
    assert "- name: query\n" in after[tool_yaml] and "- name: query\n" in after[twin]
    assert after[tool_py].count('"query"') == 2


def test_a_read_written_with_escapes_refuses_the_rename_and_says_where(tmp_path):
    plugin = names_plugin(tmp_path)
    tool_py = plugin / "tools" / "ask.py"
    text = tool_py.read_text(encoding="utf-8")
    tool_py.write_text(text.replace('params.get("question")', 'params.get("q\\u0075estion")'), encoding="utf-8")
    index = PluginIndex()
    found = name_at(index.plugin_at(plugin), index, plugin / "tools" / "ask.yaml", _pos(plugin / "tools" / "ask.yaml", "name: question", 7))
    assert found is not None and found.scope.kind == TOOL_PARAMETER
    with pytest.raises(RenameRefused, match=r"ask.py:15 in a form that cannot be renamed safely"):
        rename_edits(found, "query")


@pytest.mark.parametrize("new_name", ["x" * 1024, "a.b", "名字", "null", "123", "-x"])
def test_names_dify_cannot_use_are_refused(tmp_path, new_name):
    plugin = names_plugin(tmp_path)
    index = PluginIndex()
    path = plugin / "tools" / "ask.yaml"
    found = name_at(index.plugin_at(plugin), index, path, _pos(path, "name: question", 7))
    assert found is not None
    with pytest.raises(RenameRefused) as refused:
        rename_edits(found, new_name)
    # The refusal is a catalog message: said in Chinese and Japanese, with the name as typed.
    for language in ("zh_Hans", "ja_JP"):
        said = tr(refused.value.args[0], language)
        assert said != str(refused.value) and CJK.search(said), (language, said)
        assert not re.search(r"[a-z]{3,} [a-z]{3,}", said.replace(new_name[:40], "")), (language, said)


@pytest.mark.parametrize("new_name, zh, ja", [
    ("", "工具参数必须有名称。", "ツールパラメータには名前が必要です。"),
    ("true", "YAML 会把 'true' 读作布尔值", "'true' は YAML では名前ではなく真偽値"),
    ("model", "工具参数 'model' 已存在", "ツールパラメータ 'model' はすでに存在します"),
])
def test_refusals_read_natively(tmp_path, new_name, zh, ja):
    plugin = names_plugin(tmp_path)
    index = PluginIndex()
    path = plugin / "tools" / "ask.yaml"
    found = name_at(index.plugin_at(plugin), index, path, _pos(path, "name: question", 7))
    with pytest.raises(RenameRefused) as refused:
        rename_edits(found, new_name)
    assert zh in tr(refused.value.args[0], "zh_Hans")
    assert ja in tr(refused.value.args[0], "ja_JP")


def test_renaming_to_the_same_name_is_a_no_op_edit(tmp_path):
    plugin = names_plugin(tmp_path)
    path = plugin / "tools" / "ask.yaml"
    before = path.read_text(encoding="utf-8")
    after = _rename(plugin, path, "name: question", "question", offset=7)
    assert after[path] == before


def test_nothing_outside_names(tmp_path):
    plugin = names_plugin(tmp_path)
    index = PluginIndex()
    p = index.plugin_at(plugin)
    tool_py = plugin / "tools" / "ask.py"
    for needle in ("# the question", "Answer this question", "class AskTool", "def _invoke"):
        assert name_at(p, index, tool_py, _pos(tool_py, needle, 6)) is None, needle
    manifest = plugin / "manifest.yaml"
    assert name_at(p, index, manifest, _pos(manifest, "name: asker", 7)) is None


def test_model_provider_credential_renames_in_the_form_and_every_credentials_read(tmp_path):
    plugin = tmp_path / "model"
    shutil.copytree(FIXTURES / "run-model", plugin)
    provider, common = plugin / "provider" / "loopai.yaml", plugin / "models" / "common.py"
    before = common.read_text(encoding="utf-8")
    after = _rename(plugin, provider, "variable: endpoint_url", "base_url", offset=len("variable: e"))
    assert set(after) == {provider, common}
    assert "    - variable: base_url\n" in after[provider]
    # read in a module-level helper that takes the credentials; the error text that names it stays
    assert after[common] == before.replace('credentials.get("endpoint_url")', 'credentials.get("base_url")')
    assert '"endpoint_url is required"' in after[common]

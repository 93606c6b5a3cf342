"""DL101-DL110 (schema) and DL301-DL304 (selector scopes): each with an exact range, fixes, and clean cases."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import copy_fixture
from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex, norm
from dify_lsp.rules.yaml_schema import validate_document
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import parse_yaml

REAL = ["search_tool", "agent_strategy", "webhook_endpoint", "model_provider"]
OUR_FAMILIES = {"schema", "permissions"}


def findings(root: Path, code: str | None = None):
    report = check_plugin(PluginIndex(), root)
    assert not report.crashes
    return [f for f in report.findings if code is None or f.code == code]


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text


def span_of(path: Path, needle: str, nth: int = 0) -> Span:
    text = path.read_text(encoding="utf-8")
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx)
    col = idx - (text.rfind("\n", 0, idx) + 1)
    return Span(Pos(line, col), Pos(line, col + len(needle)))


def apply_fix(path: Path, finding, index: int = 0) -> None:
    (edit_,) = finding.fixes[index].edits
    lines = path.read_text(encoding="utf-8").split("\n")
    s, e = edit_.span.start, edit_.span.end
    assert s.line == e.line
    line = lines[s.line]
    lines[s.line] = line[: s.col] + edit_.new_text + line[e.col :]
    path.write_text("\n".join(lines), encoding="utf-8")


def schema_findings(root: Path):
    return [f for f in findings(root) if f.code.startswith(("DL1", "DL3"))]


# -- clean plugins ------------------------------------------------------------------

def test_example_plugin_is_clean(llm_tool: Path):
    # tools/llm.yaml has `author: Dify`: tool identity authors are free text (SDK and daemon).
    assert schema_findings(llm_tool) == []
    # the manifest's author is not: the same value there is reported
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "author: langgenius", "author: Dify")
    assert [(f.code, f.span) for f in schema_findings(llm_tool)] == [("DL103", span_of(manifest, "Dify"))]


@pytest.mark.parametrize("name", REAL)
def test_real_style_plugins_are_clean(tmp_path: Path, name: str):
    root = copy_fixture(tmp_path, "real_plugins", name)
    manifest = root / "manifest.yaml"
    edit(manifest, "type: plugin\n", "type: plugn\n")
    assert [(f.code, f.span) for f in findings(root)] == [("DL104", span_of(manifest, "plugn"))]  # the checks run
    edit(manifest, "type: plugn\n", "type: plugin\n")
    assert findings(root) == []


# -- DL101 missing required -------------------------------------------------------------

def test_dl101_missing_required_key_at_parent_key(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "  llm: A tool for invoking a large language model\n", "")
    (f,) = findings(llm_tool, "DL101")
    assert f.path == norm(tool)
    assert f.span == span_of(tool, "description")
    assert "`llm`" in f.message and "`description`" in f.message


def test_dl101_missing_parameter_key_points_at_parameter_name(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "    form: form\n", "")
    (f,) = findings(llm_tool, "DL101")
    name_line = span_of(tool, "name: model")
    assert f.span == Span(Pos(name_line.start.line, name_line.start.col + 6), name_line.end)  # the value `model`
    assert "`form`" in f.message and "parameters[1]" in f.message


def test_dl101_missing_root_key_points_at_first_key(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "created_at: 2025-01-08T10:00:00+08:00\n", "")
    (f,) = findings(llm_tool, "DL101")
    assert f.span == span_of(manifest, "version")
    assert "`created_at`" in f.message and "plugin manifest" in f.message


# -- DL102 wrong type --------------------------------------------------------------------

def test_dl102_list_where_mapping_expected(llm_tool: Path):
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "tools:\n", "credentials_for_provider:\n  - name: api_key\ntools:\n")
    (f,) = findings(llm_tool, "DL102")
    assert f.span.start == span_of(provider, "- name: api_key").start
    assert "`credentials_for_provider` must be a mapping of credential name" in f.message


def test_dl102_unquoted_runner_version_number_gets_quote_fix(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, 'version: "3.12"', "version: 3.12")
    (f,) = findings(llm_tool, "DL102")
    assert f.span == span_of(manifest, "3.12")
    assert "meta.runner.version" in f.message and "quote it" in f.message
    apply_fix(manifest, f)
    assert findings(llm_tool, "DL102") == []


def test_dl102_boolean_expected(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "    required: true\n", "    required: yes please\n")
    (f,) = findings(llm_tool, "DL102")
    assert f.span == span_of(tool, "yes please")
    assert "must be a boolean" in f.message


def test_null_parameters_is_accepted(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    text = tool.read_text()
    start, end = text.index("parameters:"), text.index("extra:")
    tool.write_text(text[:start] + "parameters: 3\n" + text[end:])
    line = span_of(tool, "parameters: 3").start.line
    assert [(f.code, f.span) for f in schema_findings(llm_tool)] == [("DL102", Span(Pos(line, 12), Pos(line, 13)))]  # not a list
    tool.write_text(text[:start] + "parameters:\n" + text[end:])
    assert schema_findings(llm_tool) == []


# -- DL103 pattern ---------------------------------------------------------------------

def test_dl103_uppercase_author_with_lowercase_fix(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "author: langgenius", "author: Yeuoly")
    (f,) = findings(llm_tool, "DL103")
    assert f.span == span_of(manifest, "Yeuoly")
    assert "lowercase" in f.message
    assert f.fixes[0].edits[0].new_text == "yeuoly"
    apply_fix(manifest, f)
    assert findings(llm_tool, "DL103") == []


def test_dl103_two_part_version_completed(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "version: 0.0.1\ntype", "version: 1.0\ntype")
    (f,) = findings(llm_tool, "DL103")
    assert f.span == span_of(manifest, "1.0")
    assert "three-part version" in f.message
    assert f.fixes[0].edits[0].new_text == "1.0.0"
    apply_fix(manifest, f)
    assert schema_findings(llm_tool) == []


def test_dl103_plugin_name_and_identity_name(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "name: llm-tool", "name: LLM Tool")
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "  name: llm\n", "  name: llm tool\n")
    got = {(f.path, f.span) for f in findings(llm_tool, "DL103")}
    assert got == {(norm(manifest), span_of(manifest, "LLM Tool")), (norm(tool), span_of(tool, "llm tool"))}


# -- DL104 enum ---------------------------------------------------------------------------

def test_dl104_parameter_type_with_suggestion(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "type: string", "type: strng")
    (f,) = findings(llm_tool, "DL104")
    assert f.span == span_of(tool, "strng")
    assert "did you mean 'string'" in f.message and "model-selector" in f.message
    assert f.fixes[0].edits[0].new_text == "string"


def test_dl104_form_tag_arch_and_language(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "form: llm", "form: user")
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "    - arm64", "    - riscv")
    edit(manifest, "language: python", "language: go")
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "    - utilities", "    - agent")  # a manifest tag, but not a tool tag in the SDK
    got = {(f.path.name, f.span) for f in findings(llm_tool, "DL104")}
    assert got == {
        ("llm.yaml", span_of(tool, "user")),
        ("manifest.yaml", span_of(manifest, "riscv")),
        ("manifest.yaml", span_of(manifest, "go")),
        ("llm.yaml", span_of(provider, "agent")),
    }


# -- DL105 unknown key -----------------------------------------------------------------

def test_dl105_typo_key_with_rename_fix(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "parameters:", "paramters:")
    (f,) = findings(llm_tool, "DL105")
    assert f.severity.label == "warning"
    assert f.span == span_of(tool, "paramters")
    assert "did you mean 'parameters'" in f.message
    apply_fix(tool, f)
    assert schema_findings(llm_tool) == []


def test_dl105_manifest_contact_is_the_marketplace_field_not_an_unknown_key(llm_tool: Path):
    # The SDK and the daemon drop `contact`, but the Marketplace review requires it (DL620): advising to
    # remove it would contradict that rule. A misspelling of it is still an unknown key.
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "version:", "contacts: me@example.com\nversion:")
    (f,) = findings(llm_tool, "DL105")
    assert f.span == span_of(manifest, "contacts")
    edit(manifest, "contacts:", "contact:")
    assert findings(llm_tool, "DL105") == []


def test_dl105_open_mappings_take_any_key(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "extra:\n", "whatever: 1\nextra:\n")
    assert [(f.code, f.span) for f in schema_findings(llm_tool)] == [("DL105", span_of(tool, "whatever"))]  # a closed mapping
    edit(tool, "whatever: 1\nextra:\n", "extra:\n")
    edit(tool, "extra:\n", "output_schema:\n  type: object\n  whatever: 1\nextra:\n")
    edit(tool, "      pt_BR: Model\n", "      pt_BR: Model\n      zh_Hant: 模型\n")
    assert schema_findings(llm_tool) == []


# -- DL106 bounds ------------------------------------------------------------------------

def test_dl106_storage_size_bounds(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "      llm: true\n", "      llm: true\n    storage:\n      enabled: true\n      size: 512\n")
    (f,) = findings(llm_tool, "DL106")
    assert f.span == span_of(manifest, "512")
    assert "between 1024 and 1073741824" in f.message


def test_dl106_icon_path_too_long(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    long_name = "a" * 130 + ".svg"
    edit(manifest, "icon: icon.svg", f"icon: {long_name}")
    (f,) = findings(llm_tool, "DL106")
    assert f.span == span_of(manifest, long_name)
    assert "at most 128" in f.message


# -- DL107 multiple / default ---------------------------------------------------------------

def test_dl107_multiple_on_string(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "    type: string\n", "    type: string\n    multiple: true\n")
    (f,) = findings(llm_tool, "DL107")
    assert f.span == span_of(tool, "multiple")
    assert "only valid for select and dynamic-select" in f.message


def test_dl107_default_must_be_list_when_multiple(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    tool = root / "tools" / "search.yaml"
    edit(tool, "    default:\n      - google\n", "    default: google\n")
    (f,) = findings(root, "DL107")
    assert f.span == span_of(tool, "google", nth=0)
    assert "must be a list because `multiple` is true" in f.message


# -- DL108 plugin kinds -----------------------------------------------------------------------

def test_dl108_model_plugin_cannot_have_tools(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "model_provider")
    manifest = root / "manifest.yaml"
    edit(manifest, "  models:\n", "  tools:\n    - provider/acme.yaml\n  models:\n")
    (f,) = [f for f in findings(root, "DL108")]
    models_line = span_of(manifest, "  models:").start.line
    assert f.span == Span(Pos(models_line, 2), Pos(models_line, 8))
    assert "cannot be combined with tools" in f.message


def test_dl108_no_plugin_kind(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "  tools:\n    - provider/llm.yaml\n", "  tools: []\n")
    (f,) = findings(llm_tool, "DL108")
    assert f.span == span_of(manifest, "plugins")


def test_tools_and_endpoints_combine(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    manifest = root / "manifest.yaml"
    edit(manifest, "  tools:\n", "  models:\n    - provider/search.yaml\n  tools:\n")
    (f,) = findings(root, "DL108")  # models, unlike endpoints, do not combine with tools
    assert f.span == Span(Pos(span_of(manifest, "  models:").start.line, 2), Pos(span_of(manifest, "  models:").start.line, 8))
    edit(manifest, "  models:\n    - provider/search.yaml\n", "")
    edit(manifest, "  tools:\n", "  endpoints: []\n  tools:\n")
    assert findings(root, "DL108") == []


# -- DL109 renamed value ----------------------------------------------------------------------

def test_dl109_date_picker_renamed(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    tool = root / "tools" / "search.yaml"
    edit(tool, "type: date-range", "type: date-picker")
    (f,) = findings(root, "DL109")
    assert f.span == span_of(tool, "date-picker")
    assert "renamed to `date-range` in SDK 0.10.2" in f.message
    apply_fix(tool, f)
    assert findings(root) == []


# -- DL110 en_US ----------------------------------------------------------------------------------

def test_dl110_label_without_en_us(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "  en_US: LLM Tool\n", "")
    (f,) = findings(llm_tool, "DL110")
    assert f.span == span_of(manifest, "label")
    assert "`label` needs an `en_US`" in f.message


# -- DL301-DL304 scopes ------------------------------------------------------------------------------

def test_dl301_unknown_scope_part_with_synonym(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "scope: llm", "scope: tool-call&embedding")
    (f,) = findings(llm_tool, "DL301")
    assert f.span == span_of(tool, "embedding")
    assert "did you mean 'text-embedding'" in f.message
    apply_fix(tool, f)
    assert schema_findings(llm_tool) == []


def test_dl301_speech_to_text_and_app_scope(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    tool = root / "tools" / "search.yaml"
    edit(tool, "scope: tool-call&llm", "scope: speech-to-text")
    edit(tool, "scope: chat", "scope: chatbot")
    got = {(f.span, f.message.split(";")[0]) for f in findings(root, "DL301")}
    assert got == {
        (span_of(tool, "speech-to-text"), "'speech-to-text' is not a model-selector scope (did you mean 'speech2text'?)"),
        (span_of(tool, "chatbot"), "'chatbot' is not a app-selector scope (did you mean 'chat'?)"),
    }


def test_dl301_in_provider_credentials_and_endpoint_settings(tmp_path: Path):
    tool_root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    provider = tool_root / "provider" / "web_search.yaml"
    edit(provider, "    scope: llm", "    scope: chat-model")
    (f,) = findings(tool_root, "DL301")
    assert f.span == span_of(provider, "chat-model")
    ep_root = copy_fixture(tmp_path, "real_plugins", "webhook_endpoint")
    group = ep_root / "group" / "webhook.yaml"
    edit(group, "scope: workflow", "scope: workflows")
    (g,) = findings(ep_root, "DL301")
    assert g.span == span_of(group, "workflows")


def test_dl302_model_selector_without_scope(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "    scope: llm\n", "")
    (f,) = findings(llm_tool, "DL302")
    assert f.severity.label == "warning"
    assert f.span == span_of(tool, "model-selector")


def test_dl303_model_selector_form_llm(tmp_path: Path):
    root = copy_fixture(tmp_path, "real_plugins", "search_tool")
    tool = root / "tools" / "search.yaml"
    text = tool.read_text()
    idx = text.index("form: form", text.index("type: model-selector"))
    tool.write_text(text[:idx] + "form: llm" + text[idx + len("form: form"):])
    (f,) = findings(root, "DL303")
    line = tool.read_text()[:idx].count("\n")
    col = idx - (tool.read_text().rfind("\n", 0, idx) + 1) + len("form: ")
    assert f.span == Span(Pos(line, col), Pos(line, col + 3))
    assert "Model cannot be empty" in f.message
    apply_fix(tool, f)
    assert findings(root) == []


def test_dl304_scope_on_string(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "    type: string\n", "    type: string\n    scope: llm\n")
    (f,) = findings(llm_tool, "DL304")
    assert f.span == span_of(tool, "llm", nth=span_count(tool, "llm", before="scope: llm"))


def span_count(path: Path, needle: str, before: str) -> int:
    text = path.read_text()
    return text[: text.index(before) + len("scope: ")].count(needle)


# -- robustness and speed --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text", "identity: [\n", "parameters:\n  - 3\n  - [x]\n", "? [a]\n: b\n"])
def test_odd_documents_never_raise(text: str):
    doc = parse_yaml(text)
    for kind in ("manifest", "tool", "tool_provider", "agent_strategy", "endpoint_group"):
        validate_document(Path("/x.yaml"), kind, doc)


def test_5000_line_tool_yaml_validates_quickly():
    param = (
        "  - name: p{i}\n    type: select\n    required: false\n    label:\n      en_US: P\n"
        "    human_description:\n      en_US: d\n    form: form\n    options:\n      - value: a\n        label:\n          en_US: A\n"
    )
    text = "identity:\n  name: t\n  author: a\n  label:\n    en_US: T\ndescription:\n  human:\n    en_US: h\n  llm: l\nparameters:\n"
    text += "".join(param.format(i=i) for i in range(420)) + "extra:\n  python:\n    source: t.py\n"
    assert text.count("\n") > 5000
    doc = parse_yaml(text)
    best = min(_timed(lambda: validate_document(Path("/t.yaml"), "tool", doc)) for _ in range(3))
    assert validate_document(Path("/t.yaml"), "tool", doc).findings == []
    assert best < 0.5  # budget 100 ms; generous bound against a loaded CI machine


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_dl111_a_key_indented_under_a_label_that_looks_like_a_language(llm_tool: Path):
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "  label:\n    en_US: LLM\n", "  label:\n    en_US: LLM\n    url: https://example.com\n")
    (f,) = findings(llm_tool, "DL111")
    assert f.span == span_of(provider, "url")
    # a real language code is still accepted
    edit(provider, "    url: https://example.com\n", "    de_DE: LLM\n")
    assert findings(llm_tool, "DL111") == []


def test_dl105_suggests_only_keys_valid_there(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    # a tool's identity.icon is read by nobody (not among the known keys): `icons` gets no "did you mean 'icon'"
    edit(tool, "identity:\n", "identity:\n  icons: x.svg\n")
    (f,) = [f for f in findings(llm_tool, "DL105") if "`icons`" in f.message]
    assert "did you mean" not in f.message and f.fixes == ()
    # a key already present is not suggested either; a misspelt key valid there is
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "  tags:\n", "  tag:\n")
    (f,) = [f for f in findings(llm_tool, "DL105") if "`tag`" in f.message]
    assert "did you mean 'tags'" in f.message

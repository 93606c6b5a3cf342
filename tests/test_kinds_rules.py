"""Rules for every plugin kind: model, endpoint, trigger, datasource and agent-strategy files,
and the YAML side of the SDK's loading (source resolution, duplicate keys, translated texts).
Each rule is triggered at its exact range on a real-style fixture, and the clean fixture gives
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import copy_fixture
from dify_lsp.checker import check_plugin
from dify_lsp.findings import Severity
from dify_lsp.index import PluginIndex, norm
from dify_lsp.textpos import Pos, Span

KINDS = ("model_provider", "endpoint", "agent_strategy", "datasource", "trigger")


def findings(root: Path, code: str | None = None):
    report = check_plugin(PluginIndex(), root)
    assert not report.crashes
    return [f for f in report.findings if code is None or f.code == code]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def span_of(path: Path, needle: str, nth: int = 0, length: int | None = None) -> Span:
    text = path.read_text(encoding="utf-8")
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx)
    col = idx - (text.rfind("\n", 0, idx) + 1)
    return Span(Pos(line, col), Pos(line, col + (len(needle) if length is None else length)))


@pytest.fixture
def kind(tmp_path: Path, request) -> Path:
    return copy_fixture(tmp_path, "kinds", request.param)


# one small mistake per kind fixture: the clean verdict below is shown to come from a check that runs
KIND_MISTAKES = {
    "model_provider": ("models/llm/nimbus-chat-mini.yaml", "model_type: llm", "model_type: lmm", "DL104", "lmm"),
    "endpoint": ("group/webhooks.yaml", "    hidden: true\n", "    hiden: true\n", "DL105", "hiden"),
    "agent_strategy": ("strategies/react.yaml", "type: array[tools]", "type: array[tool]", "DL104", "array[tool]"),
    "datasource": ("provider/notes.yaml", "provider_type: online_document", "provider_type: online_documents", "DL104", "online_documents"),
    "trigger": ("provider/nimbus_trigger.py", '"closed": ["issue_closed"]', '"closed": ["issue_close"]', "DL407", '"issue_close"'),
}


@pytest.mark.parametrize("kind", KINDS, indirect=True)
def test_every_kind_fixture_is_clean(kind: Path, request):
    rel, right, wrong, code, at = KIND_MISTAKES[request.node.callspec.params["kind"]]
    edit(kind / rel, right, wrong)
    (f,) = findings(kind)
    assert f.code == code and f.path == norm(kind / rel) and f.span == span_of(kind / rel, at)
    edit(kind / rel, wrong, right)
    assert findings(kind) == []


def test_model_yamls_are_indexed_through_the_provider_globs(tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    plugin = PluginIndex().plugin_at(root)
    kinds = {plugin.relative(p): yf.kind for p, yf in plugin.yaml_files.items()}
    assert kinds["models/llm/nimbus-chat-large.yaml"] == "model"
    assert kinds["models/llm/_position.yaml"] == "model_position"
    assert kinds["models/text_embedding/nimbus-embed.yaml"] == "model"
    assert [g.type_key for g in plugin.model_globs] == ["llm", "text_embedding"]


# -- schema of model files ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_type_value_is_checked_with_did_you_mean(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "model_type: llm", "model_type: lmm")
    (f,) = findings(kind, "DL104")
    assert f.path == norm(model) and f.span == span_of(model, "lmm")
    assert "did you mean 'llm'" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_properties_keys_are_fixed(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "  context_size: 32000", "  context_window: 32000")
    (f,) = findings(kind, "DL112")
    assert f.span == span_of(model, "context_window")
    assert "did you mean 'context_size'" in f.message and f.severity == Severity.ERROR


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_parameter_rule_without_type_or_template(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "    type: string\n", "")
    (f,) = findings(kind, "DL101")
    assert f.span == span_of(model, "reasoning")
    assert "`type`" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_unknown_parameter_template(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "use_template: temperature", "use_template: temprature")
    (f,) = findings(kind, "DL404")
    assert f.span == span_of(model, "temprature")
    assert "did you mean 'temperature'" in f.message and "use_template temprature not found" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_type_against_folder_and_supported_types(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "model_type: llm", "model_type: rerank")
    (folder,) = findings(kind, "DL401")
    (unsupported,) = findings(kind, "DL402")
    assert folder.span == unsupported.span == span_of(model, "rerank")
    assert "models.llm.predefined" in folder.message and folder.severity == Severity.HINT
    assert "supported_model_types (llm, text-embedding)" in unsupported.message


def _with_position_key(kind: Path) -> None:
    edit(kind / "provider" / "nimbus.yaml", "  llm:\n    predefined:\n", "  llm:\n    position: models/llm/_position.yaml\n    predefined:\n")


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_position_names_existing_models(kind: Path):
    _with_position_key(kind)
    assert findings(kind, "DL403") == []
    position = kind / "models" / "llm" / "_position.yaml"
    edit(position, "- nimbus-chat-mini", "- nimbus-chat-mimi")
    (f,) = findings(kind, "DL403")
    assert f.span == span_of(position, "nimbus-chat-mimi")
    # short: the entry, the close names, the consequence; not every model of the type
    assert f.message == "no llm model named 'nimbus-chat-mimi' (did you mean 'nimbus-chat-mini' or 'nimbus-chat-large'?): this entry orders nothing"


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_position_file_without_the_providers_position_key(kind: Path):
    position = kind / "models" / "llm" / "_position.yaml"
    edit(position, "- nimbus-chat-mini", "- nimbus-chat-mimi\n- nimbus-chat-tiny")
    (f,) = findings(kind, "DL403")  # said once, with the cause, not once per entry
    assert f.span == span_of(position, "nimbus-chat-mimi")
    assert "has no `models.llm.position`" in f.message and "2 of its entries" in f.message
    assert "add `position: models/llm/_position.yaml` under `models.llm`" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_position_entries_folded_by_indentation(kind: Path):
    _with_position_key(kind)
    position = kind / "models" / "llm" / "_position.yaml"
    position.write_text("- nimbus-chat-large\n  - nimbus-chat-mini\n", encoding="utf-8")
    (f,) = findings(kind, "DL403")
    assert f.span.start == span_of(position, "nimbus-chat-large").start and f.span.end.line == 1
    assert "one name made of 2 lines" in f.message and "same indentation" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_in_the_wrong_folder_that_exists_in_the_right_one(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    embed = kind / "models" / "text_embedding" / "nimbus-embed.yaml"
    (kind / "models" / "llm" / "nimbus-embed.yaml").write_text(embed.read_text(encoding="utf-8"), encoding="utf-8")
    (dup,) = findings(kind, "DL401")
    assert dup.path == norm(kind / "models" / "llm" / "nimbus-embed.yaml")
    assert "remove this duplicate" in dup.message and "models/text_embedding/nimbus-embed.yaml" in dup.message
    assert "move it" not in dup.message
    assert model.exists()


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_type_not_offered_when_the_provider_lists_no_type(kind: Path):
    edit(kind / "provider" / "nimbus.yaml", "supported_model_types:\n  - llm\n  - text-embedding\n", "supported_model_types: []\n")
    unsupported = findings(kind, "DL402")
    assert unsupported and all("which lists none" in f.message for f in unsupported)


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_model_type_without_a_model_class(kind: Path):
    provider = kind / "provider" / "nimbus.yaml"
    edit(provider, "      - models/text_embedding/text_embedding.py\n", "")
    (f,) = findings(kind, "DL405")
    assert f.path == norm(provider)
    assert f.span == span_of(provider, "text-embedding")
    assert "TextEmbeddingModel" in f.message


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_a_model_class_through_an_intermediate_class_counts(kind: Path):
    base = kind / "models" / "text_embedding" / "base.py"
    base.write_text("class NimbusEmbeddingBase:\n    pass\n")
    edit(kind / "models" / "text_embedding" / "text_embedding.py", "class NimbusTextEmbeddingModel(TextEmbeddingModel):", "from models.text_embedding.base import NimbusEmbeddingBase\n\n\nclass NimbusTextEmbeddingModel(NimbusEmbeddingBase):")
    provider = kind / "provider" / "nimbus.yaml"
    (f,) = findings(kind, "DL405")  # an intermediate that is no TextEmbeddingModel leaves the type without a class
    assert f.path == norm(provider) and f.span == span_of(provider, "text-embedding")
    base.write_text("from dify_plugin import TextEmbeddingModel\n\n\nclass NimbusEmbeddingBase(TextEmbeddingModel):\n    pass\n")
    assert findings(kind, "DL405") == []


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_pricing_accepts_decimal_text_but_not_words(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-large.yaml"
    edit(model, 'input: "2.50"', 'input: "two"')
    (f,) = findings(kind, "DL102")
    assert f.span == span_of(model, '"two"')


# -- endpoints ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["endpoint"], indirect=True)
def test_inline_endpoints_are_accepted_and_checked(kind: Path):
    group = kind / "group" / "webhooks.yaml"
    edit(group, "    hidden: true\n", "    hiden: true\n")
    (f,) = findings(kind, "DL105")
    assert f.span == span_of(group, "hiden") and "did you mean 'hidden'" in f.message
    assert [x for x in findings(kind) if x.code == "DL102"] == []


@pytest.mark.parametrize("kind", ["endpoint"], indirect=True)
def test_duplicate_endpoint_route(kind: Path):
    group = kind / "group" / "webhooks.yaml"
    edit(group, 'path: "/health"\n    method: GET', 'path: "/deliver/<string:channel>"\n    method: post')
    (f,) = findings(kind, "DL406")
    assert f.path == norm(group) and f.span == span_of(group, '"/deliver/<string:channel>"')
    assert f.related[0].path == norm(kind / "endpoints" / "deliver.yaml")


@pytest.mark.parametrize("kind", ["endpoint"], indirect=True)
def test_endpoint_settings_must_be_a_list(kind: Path):
    group = kind / "group" / "webhooks.yaml"
    text = group.read_text()
    group.write_text("settings:\n  signing_secret:\n    type: secret-input\n    label:\n      en_US: Secret\n" + text[text.index("endpoints:"):])
    (f,) = findings(kind, "DL102")
    assert f.span.start == Pos(1, 2) and "must be a list" in f.message


# -- triggers -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_secret_input_in_a_subscription_parameter(kind: Path):
    provider = kind / "provider" / "nimbus_trigger.yaml"
    edit(provider, "    - name: project\n      type: string", "    - name: project\n      type: secret-input")
    (f,) = findings(kind, "DL104")
    assert f.span == span_of(provider, "secret-input", nth=1)
    assert "cannot be secret" in f.message and "fails to load" in f.message


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_secret_input_in_an_event_parameter(kind: Path):
    event = kind / "events" / "issue_opened.yaml"
    edit(event, "    type: string", "    type: secret-input")
    (f,) = findings(kind, "DL104")
    assert f.path == norm(event) and f.span == span_of(event, "secret-input")


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_dispatched_event_must_exist(kind: Path):
    source = kind / "provider" / "nimbus_trigger.py"
    edit(source, '"closed": ["issue_closed"]', '"closed": ["issue_close"]')
    (f,) = findings(kind, "DL407")
    assert f.path == norm(source) and f.span == span_of(source, '"issue_close"')
    assert "did you mean 'issue_closed'" in f.message


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_event_description_is_a_translated_text(kind: Path):
    event = kind / "events" / "issue_closed.yaml"
    edit(event, "description:\n  en_US: An issue was closed.", "description:\n  human:\n    en_US: An issue was closed.")
    codes = {f.code for f in findings(kind)}
    assert "DL110" in codes  # the SDK loads `description` as an I18nObject: en_US is missing


# -- datasources --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["datasource"], indirect=True)
def test_datasource_provider_type_and_parameter_description(kind: Path):
    provider = kind / "provider" / "notes.yaml"
    edit(provider, "provider_type: online_document", "provider_type: online_documents")
    source = kind / "datasources" / "pages.yaml"
    edit(source, "    description:\n      en_US: How deep to follow sub-pages.\n", "")
    enum = findings(kind, "DL104")
    assert [f.span for f in enum] == [span_of(provider, "online_documents")]
    (missing,) = findings(kind, "DL101")
    assert missing.path == norm(source) and "`description`" in missing.message


@pytest.mark.parametrize("kind", ["datasource"], indirect=True)
def test_null_in_a_list_of_paths(kind: Path):
    provider = kind / "provider" / "notes.yaml"
    edit(provider, "  - datasources/pages.yaml", "  - datasources/pages.yaml\n  -")
    (f,) = findings(kind, "DL102")
    assert f.path == norm(provider) and "empty value" in f.message


# -- agent strategies ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["agent_strategy"], indirect=True)
def test_agent_parameter_type_and_provider_extra_ignored(kind: Path):
    strategy = kind / "strategies" / "react.yaml"
    edit(strategy, "type: array[tools]", "type: array[tool]")
    provider = kind / "provider" / "agent.yaml"
    edit(provider, "    source: provider/agent.py", "    source: provider/missing.py")
    (f,) = [x for x in findings(kind) if x.severity == Severity.ERROR]
    assert f.code == "DL104" and f.span == span_of(strategy, "array[tool]")
    assert "did you mean 'array[tools]'" in f.message


# -- the YAML side of loading: sources, duplicate keys, translated texts -------------------
@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_yaml_suffixed_source_loads_the_py_beside_it(kind: Path):
    event = kind / "events" / "issue_closed.yaml"
    edit(event, "source: events/issue_closed.py", "source: events/issue_closed.yaml")
    (f,) = findings(kind, "DL007")
    assert f.severity == Severity.WARNING and f.span == span_of(event, "events/issue_closed.yaml")
    assert "events.issue_closed" in f.message and "events/issue_closed.py is what runs" in f.message
    assert [x for x in findings(kind) if x.severity == Severity.ERROR] == []


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_non_py_source_without_a_module_is_an_error(kind: Path):
    event = kind / "events" / "issue_closed.yaml"
    edit(event, "source: events/issue_closed.py", "source: events/closed.yaml")
    (f,) = findings(kind, "DL002")
    assert f.span == span_of(event, "events/closed.yaml")
    assert "events.closed" in f.message and "events/closed.py" in f.message


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_duplicate_key_under_extra_is_a_warning(kind: Path):
    event = kind / "events" / "issue_closed.yaml"
    edit(event, "    source: events/issue_closed.py\n", "    source: events/issue_closed.py\n  help:\n    en_US: a\n  help:\n    en_US: b\n")
    (f,) = findings(kind, "DL008")
    assert f.span == span_of(event, "help", nth=1)
    assert "first is lost" in f.message
    assert findings(kind, "DL006") == []


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_duplicate_key_in_a_decoded_mapping_is_an_error(kind: Path):
    event = kind / "events" / "issue_closed.yaml"
    edit(event, "  label:\n    en_US: Issue closed\n", "  label:\n    en_US: Issue closed\n    en_US: Closed\n")
    (f,) = findings(kind, "DL006")
    assert f.span == span_of(event, "en_US", nth=1) and f.severity == Severity.ERROR
    assert findings(kind, "DL008") == []


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_required_indented_under_label(kind: Path):
    event = kind / "events" / "issue_opened.yaml"
    edit(event, "    label:\n      en_US: Only issues with this label\n", "    label:\n      en_US: Only issues with this label\n      required: true\n")
    (f,) = findings(kind, "DL111")
    assert f.span == span_of(event, "required: true", length=len("required"))
    assert "not a language code" in f.message


@pytest.mark.parametrize("kind", ["trigger"], indirect=True)
def test_other_language_codes_are_fine(kind: Path):
    event = kind / "events" / "issue_opened.yaml"
    edit(event, "    label:\n      en_US: Only issues with this label\n", "    label:\n      en_US: Only issues with this label\n      zh_Hant: 標籤\n      url: https://acme.example/labels\n")
    # beside them, a schema key indented one level too deep is no language
    assert [(f.code, f.span) for f in findings(kind)] == [("DL111", span_of(event, "url: https://acme.example/labels", length=3))]
    edit(event, "      zh_Hant: 標籤\n      url: https://acme.example/labels\n", "")
    edit(event, "    label:\n      en_US: Only issues with this label\n", "    label:\n      en_US: Only issues with this label\n      zh_Hant: 標籤\n      de_DE: Nur mit diesem Label\n")
    assert findings(kind) == []


def test_unlisted_tool_yaml_is_schema_checked(llm_tool: Path):
    stray = llm_tool / "tools" / "stray.yaml"
    stray.write_text(
        (llm_tool / "tools" / "llm.yaml").read_text().replace("identity:\n", "identity:\n", 1).replace("  name: llm", "  name: stray").replace("parameters:", "paramters:")
    )
    codes = {(f.code, f.path.name) for f in findings(llm_tool)}
    assert ("DL003", "stray.yaml") in codes and ("DL105", "stray.yaml") in codes


@pytest.mark.parametrize("kind", ["endpoint"], indirect=True)
def test_manifest_version_must_also_be_pep440(kind: Path):
    manifest = kind / "manifest.yaml"
    edit(manifest, "version: 0.1.0\n", "version: 0.1.0-Z\n")
    (f,) = findings(kind, "DL103")
    assert f.span == span_of(manifest, "0.1.0-Z") and "PEP 440" in f.message
    edit(manifest, "version: 0.1.0-Z\n", "version: 0.1.0-beta1\n")
    assert findings(kind, "DL103") == []


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_duplicate_under_models_is_a_warning(kind: Path):
    # The daemon keeps `models` as a raw yaml.Node and walks it by hand: no repeated-key check there.
    provider = kind / "provider" / "nimbus.yaml"
    edit(provider, '      - "models/llm/*.yaml"\n', '      - "models/llm/*.yaml"\n    predefined:\n      - "models/llm/*.yaml"\n')
    (f,) = findings(kind, "DL008")
    assert f.span == span_of(provider, "predefined:", nth=1, length=len("predefined"))
    assert findings(kind, "DL006") == []


@pytest.mark.parametrize("kind", ["model_provider"], indirect=True)
def test_duplicate_in_a_model_yaml_is_an_error(kind: Path):
    model = kind / "models" / "llm" / "nimbus-chat-mini.yaml"
    edit(model, "  context_size: 32000\n", "  context_size: 32000\n  context_size: 64000\n")
    (f,) = findings(kind, "DL006")
    assert f.path == norm(model) and f.span == span_of(model, "context_size", nth=1)


def test_every_key_of_every_kind_has_a_hover_text_and_the_new_keys_a_release():
    from dify_lsp.schema import plugin_files as pf
    from dify_lsp.schema.model import Either, ListOf, MapOf, Obj

    seen: set[int] = set()
    missing: list[str] = []

    def walk(t, where: str) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        if isinstance(t, Obj):
            for f in t.fields:
                if not f.doc.strip():
                    missing.append(f"{where}.{f.name}")
                walk(f.type, f"{where}.{f.name}")
        elif isinstance(t, ListOf):
            walk(t.item, where + "[]")
        elif isinstance(t, MapOf):
            walk(t.value, where + ".*")
        elif isinstance(t, Either):
            for o in t.options:
                walk(o, where)

    for kind, schema in pf.SCHEMAS.items():
        walk(schema, kind)
    assert missing == []
    assert pf.TOOL_PARAMETER.field("show_on").since == "0.10.1"
    assert pf.TRIGGER_PROVIDER_SCHEMA.field("subscription_constructor").since == "0.6.0b2"
    assert pf.MODEL_PROVIDER_SCHEMA.field("icon_small_dark").since == "0.10.0"


@pytest.mark.parametrize("kind", ["endpoint"], indirect=True)
def test_inline_endpoint_source_is_resolved(kind: Path):
    group = kind / "group" / "webhooks.yaml"
    plugin = PluginIndex().plugin_at(kind)
    (ref,) = [r for r in plugin.refs if r.key == ("endpoints", "extra", "python", "source")]
    assert ref.target == norm(kind / "endpoints" / "health.py") and ref.exists
    edit(group, "source: endpoints/health.py", "source: endpoints/healthz.py")
    (f,) = findings(kind, "DL002")
    assert f.path == norm(group) and f.span == span_of(group, "endpoints/healthz.py")

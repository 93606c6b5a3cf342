"""Editor features for every plugin kind through the real server (VS Code and Neovim profiles):
completion of model types and parameter templates, hover on keys of every kind, links,
go-to-definition between model YAML, provider YAML and the model classes, and the outline."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from conftest import copy_fixture
from lsp_session import LspSession, rng

SIX_MODEL_TYPES = {"llm", "text-embedding", "rerank", "speech2text", "moderation", "tts"}
TEMPLATES = {"temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "max_tokens", "response_format", "json_schema"}


def labels(items) -> set[str]:
    return {i.label for i in items}


async def test_model_type_completion_offers_the_six_types(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "llm" / "nimbus-chat-mini.yaml"
    session.open(model, model.read_text().replace("model_type: llm", "model_type: "))
    pos = session.find(model, "model_type: ", offset=len("model_type: "))
    items = await session.completion(model, pos)
    assert labels(items) == SIX_MODEL_TYPES
    (llm,) = [i for i in items if i.label == "llm"]
    assert rng(llm.text_edit.range) == (pos.line, pos.character, pos.line, pos.character)


async def test_use_template_completion_offers_the_sdk_templates(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "llm" / "nimbus-chat-mini.yaml"
    session.open(model, model.read_text().replace("use_template: max_tokens", "use_template: "))
    items = await session.completion(model, session.find(model, "use_template: \n", offset=len("use_template: ")))
    assert labels(items) == TEMPLATES


async def test_key_completion_in_a_parameter_rule(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "llm" / "nimbus-chat-mini.yaml"
    session.open(model, model.read_text().replace("  - name: max_tokens\n    use_template: max_tokens\n", "  - name: max_tokens\n    use_\n"))
    items = await session.completion(model, session.find(model, "    use_\n", offset=8))
    assert "use_template" in labels(items)
    assert "name" not in labels(items)  # already there


async def test_hover_on_keys_of_every_kind(session: LspSession, tmp_path: Path):
    cases = [
        ("model_provider", "provider/nimbus.yaml", "configurate_methods:", "how models are configured"),
        ("model_provider", "provider/nimbus.yaml", "credential_form_schemas:", "the fields the user fills in once"),
        ("model_provider", "provider/nimbus.yaml", "show_on:", "show the field only when"),
        ("model_provider", "models/llm/nimbus-chat-large.yaml", "model_properties:", "context_size"),
        ("model_provider", "models/llm/nimbus-chat-large.yaml", "use_template:", "SDK template"),
        ("model_provider", "models/llm/nimbus-chat-large.yaml", "unit:", "per million tokens"),
        ("endpoint", "group/webhooks.yaml", "hidden:", "hide this endpoint"),
        ("endpoint", "endpoints/deliver.yaml", "method:", "HTTP method"),
        ("agent_strategy", "strategies/react.yaml", "features:", "history-messages"),
        ("datasource", "provider/notes.yaml", "provider_type:", "online_document"),
        ("trigger", "provider/nimbus_trigger.yaml", "subscription_constructor:", "how subscriptions are created"),
        ("trigger", "provider/nimbus_trigger.yaml", "subscription_constructor:", "Since SDK 0.6.0b2."),
        ("model_provider", "provider/nimbus.yaml", "icon_small:", "Since SDK 0.0.1b3."),
        ("trigger", "events/issue_opened.yaml", "output_schema:", "JSON schema of the variables"),
    ]
    for kind, rel, key, expected in cases:
        root = tmp_path / kind
        if not root.exists():
            root = copy_fixture(tmp_path, "kinds", kind)
        path = root / rel
        session.open(path)
        pos = session.find(path, key, offset=1)
        hover = await session.hover(path, pos)
        assert hover is not None, (kind, rel, key)
        assert expected in hover.contents.value, (kind, rel, key, hover.contents.value)
        assert rng(hover.range)[0] == pos.line


async def test_hover_on_a_model_type_value(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "text_embedding" / "nimbus-embed.yaml"
    session.open(model)
    hover = await session.hover(model, session.find(model, "text-embedding", offset=2))
    assert "TextEmbeddingModel" in hover.contents.value


async def test_links_from_a_model_provider(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    provider = root / "provider" / "nimbus.yaml"
    session.open(provider)
    links = await session.client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=types.TextDocumentIdentifier(uri=provider.as_uri()))
    )
    assert {l.target for l in links} == {
        (root / "provider" / "nimbus.py").as_uri(),
        (root / "models" / "llm" / "llm.py").as_uri(),
        (root / "models" / "text_embedding" / "text_embedding.py").as_uri(),
        (root / "_assets" / "icon.svg").as_uri(),
        # a glob that matches one file links to it (models/llm/*.yaml matches three)
        (root / "models" / "text_embedding" / "nimbus-embed.yaml").as_uri(),
    }


async def test_links_from_position_names_to_model_files(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    position = root / "models" / "llm" / "_position.yaml"
    session.open(position)
    links = await session.client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=types.TextDocumentIdentifier(uri=position.as_uri()))
    )
    got = sorted((rng(l.range), l.target) for l in links)
    assert got == [
        ((0, 2, 0, 19), (root / "models" / "llm" / "nimbus-chat-large.yaml").as_uri()),
        ((1, 2, 1, 18), (root / "models" / "llm" / "nimbus-chat-mini.yaml").as_uri()),
    ]


async def test_definition_between_model_yaml_and_model_class(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "text_embedding" / "nimbus-embed.yaml"
    session.open(model)
    (loc,) = await session.definition(model, session.find(model, "text-embedding", offset=1))
    source = root / "models" / "text_embedding" / "text_embedding.py"
    assert loc.uri == source.as_uri()
    line = source.read_text().split("\n").index("class NimbusTextEmbeddingModel(TextEmbeddingModel):")
    assert rng(loc.range)[0] == line
    # and back: the class name -> the provider's model_sources entry
    session.open(source)
    (back,) = await session.definition(source, session.find(source, "NimbusTextEmbeddingModel", offset=2))
    provider = root / "provider" / "nimbus.yaml"
    assert back.uri == provider.as_uri()
    assert rng(back.range)[0] == session.find(provider, "models/text_embedding/text_embedding.py").line
    # provider_source -> the ModelProvider class
    session.open(provider)
    (prov,) = await session.definition(provider, session.find(provider, "provider/nimbus.py", offset=1))
    assert prov.uri == (root / "provider" / "nimbus.py").as_uri()
    assert rng(prov.range)[0] == (root / "provider" / "nimbus.py").read_text().split("\n").index("class NimbusProvider(ModelProvider):")


async def test_definition_from_a_trigger_event_to_its_class(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "trigger")
    event = root / "events" / "issue_opened.yaml"
    session.open(event)
    (loc,) = await session.definition(event, session.find(event, "name: issue_opened", offset=8))
    assert loc.uri == (root / "events" / "issue_opened.py").as_uri()


async def test_outline_of_model_and_trigger_files(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "model_provider")
    model = root / "models" / "llm" / "nimbus-chat-mini.yaml"
    session.open(model)
    (top,) = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=model.as_uri()))
    )
    assert top.name == "nimbus-chat-mini" and top.detail.startswith("model")
    rules = [c for c in top.children if c.name == "parameter_rules"][0]
    assert [c.name for c in rules.children] == ["temperature", "max_tokens", "reasoning"]
    troot = copy_fixture(tmp_path, "kinds", "trigger")
    provider = troot / "provider" / "nimbus_trigger.yaml"
    session.open(provider)
    (ptop,) = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=provider.as_uri()))
    )
    assert ptop.name == "nimbus_trigger" and ptop.detail.startswith("trigger provider")
    assert "subscription_schema" in [c.name for c in ptop.children]


async def test_diagnostics_on_a_trigger_with_a_secret_subscription_parameter(session: LspSession, tmp_path: Path):
    root = copy_fixture(tmp_path, "kinds", "trigger")
    provider = root / "provider" / "nimbus_trigger.yaml"
    text = provider.read_text().replace("    - name: project\n      type: string", "    - name: project\n      type: secret-input")
    session.open(provider, text)
    diags = [d for d in await session.diagnostics(provider) if d.code == "DL104"]
    (d,) = diags
    pos = session.find(provider, "secret-input", nth=1)
    assert rng(d.range) == (pos.line, pos.character, pos.line, pos.character + len("secret-input"))

"""Schemas of a model plugin's files: the model provider YAML, each model YAML
that its ``models.<type>.predefined`` globs match, and ``_position.yaml``.

SDK 0.10.2 ``entities/model/provider.py`` (ProviderEntity,
ModelProviderConfiguration, CredentialFormSchema) and ``entities/model/schema.py``
(AIModelEntity, ParameterRule, PriceConfig, PARAMETER_RULE_TEMPLATE); the
daemon's ``model_declaration.go`` where it is stricter (an unknown
``use_template`` fails its decoding).
"""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema
from dify_lsp.schema.references import MODEL_POSITION, MODEL_TYPE_KEYS

# entities/model/schema.py ModelType.  The SDK loads model YAMLs for the first six only;
# text2img is a valid value but no SDK base class serves it.
MODEL_TYPES = {
    "llm": "large language models (LargeLanguageModel)",
    "text-embedding": "text embedding models (TextEmbeddingModel)",
    "rerank": "rerank models (RerankModel)",
    "speech2text": "speech-to-text models (Speech2TextModel)",
    "moderation": "moderation models (ModerationModel)",
    "tts": "text-to-speech models (TTSModel)",
    "text2img": "image generation models (no SDK model class serves this type)",
}
# The model types completion offers: the six the SDK has a model class and a loader for.
OFFERED_MODEL_TYPES = tuple(MODEL_TYPE_KEYS.values())
# The SDK base class that serves each of them (dify_plugin.interfaces.model.*).
MODEL_CLASS_BASES = {
    "llm": "LargeLanguageModel",
    "text-embedding": "TextEmbeddingModel",
    "rerank": "RerankModel",
    "tts": "TTSModel",
    "speech2text": "Speech2TextModel",
    "moderation": "ModerationModel",
}

CONFIGURATE_METHODS = {
    "predefined-model": "the models listed in model YAMLs under models/",
    "customizable-model": "the user adds models by name (model_credential_schema)",
}
FORM_TYPES = {
    "text-input": "a plain text input",
    "secret-input": "a secret string (API keys), masked in the UI",
    "select": "one value from `options`",
    "radio": "one value from `options`, shown as radio buttons",
    "switch": "an on/off switch (value 'true' / 'false')",
}
MODEL_FEATURES = {
    "tool-call": "calls tools",
    "multi-tool-call": "calls several tools in one turn",
    "agent-thought": "emits its reasoning",
    "vision": "accepts images",
    "stream-tool-call": "streams tool calls",
    "document": "accepts documents",
    "video": "accepts video",
    "audio": "accepts audio",
    "structured-output": "returns output matching a JSON schema",
    "polling": "results are polled",
}
MODEL_PROPERTY_KEYS = {
    "mode": "`chat` or `completion` (llm)",
    "context_size": "context window in tokens",
    "max_chunks": "texts per request (text-embedding)",
    "file_upload_limit": "largest upload in MB (speech2text)",
    "supported_file_extensions": "accepted file extensions (speech2text)",
    "max_characters_per_chunk": "characters per chunk (moderation)",
    "default_voice": "voice used when none is chosen (tts)",
    "voices": "the voices offered (tts)",
    "word_limit": "words per request (tts)",
    "audio_type": "audio format produced (tts)",
    "max_workers": "parallel requests (tts)",
}
PARAMETER_RULE_TYPES = {
    "float": "a decimal number",
    "int": "a whole number",
    "string": "one line of text (or one of `options`)",
    "boolean": "true / false",
    "text": "multi-line text",
}
# entities/model/schema.py PARAMETER_RULE_TEMPLATE: what `use_template` fills in (the daemon has the same eight).
PARAMETER_TEMPLATES = {
    "temperature": "Temperature: float 0-1, default 0.0, precision 2",
    "top_p": "Top P: float 0-1, default 1.0, precision 2",
    "top_k": "Top K: int 1-100, default 50",
    "presence_penalty": "Presence Penalty: float 0-1, default 0.0, precision 2",
    "frequency_penalty": "Frequency Penalty: float 0-1, default 0.0, precision 2",
    "max_tokens": "Max Tokens: int 1-2048, default 64",
    "response_format": "Response Format: string, options JSON / XML",
    "json_schema": "JSON Schema: text",
}

FORM_SHOW_ON = Obj(
    "show-on condition",
    (
        Field("variable", S, True, "the `variable` of another credential field"),
        Field("value", S, True, "the value that field must have"),
    ),
    doc="Show this field (or option) only when another field has the given value.",
)

FORM_OPTION = Obj(
    "option",
    (
        i18n("label", "the text shown for this option", True),
        Field("value", S, True, "the value stored when chosen"),
        Field("show_on", ListOf(FORM_SHOW_ON), False, "conditions that control whether the option is shown"),
    ),
    doc="One choice of a select or radio credential field.",
)

CREDENTIAL_FORM = Obj(
    "credential form field",
    (
        Field("variable", S, True, "the credential name: the key in `credentials` the model code reads"),
        i18n("label", "the field's label", True),
        Field("type", S, True, "the input type", enum=FORM_TYPES),
        Field("required", B, False, "the user must fill it in (default **true** here, unlike tool credentials)"),
        Field("default", S, False, "the default value, as text (quote numbers and booleans)", nullable=True),
        Field("options", ListOf(FORM_OPTION), False, "choices of a select or radio field", nullable=True),
        i18n("placeholder", "placeholder text shown in the empty input", nullable=True),
        Field("max_length", I, False, "longest value accepted (0: no limit)"),
        Field("show_on", ListOf(FORM_SHOW_ON), False, "show the field only when other fields have given values", max_items=16),
        Field("help", A, False, "help text (the SDK ignores it; Dify shows a translated text)", nullable=True),
        Field("url", A, False, "a link for the help text (the SDK ignores it)", nullable=True),
    ),
    doc="One input of a credential form (CredentialFormSchema).",
)

PROVIDER_CREDENTIAL_SCHEMA = Obj(
    "provider credential schema",
    (Field("credential_form_schemas", ListOf(CREDENTIAL_FORM), True, "the fields the user fills in once for the provider"),),
    doc="Credentials entered once per workspace (predefined models).",
)

MODEL_CREDENTIAL_SCHEMA = Obj(
    "model credential schema",
    (
        Field(
            "model",
            Obj("model name field", (i18n("label", "label of the model-name input", True), i18n("placeholder", "placeholder of the model-name input", nullable=True))),
            True,
            "how the model-name input is labelled",
        ),
        Field("credential_form_schemas", ListOf(CREDENTIAL_FORM), True, "the fields the user fills in for each custom model"),
    ),
    doc="Credentials entered for each model the user adds (customizable-model).",
)

MODEL_GLOBS = Obj(
    "model files",
    (
        Field("predefined", ListOf(S), False, "glob patterns (from the plugin root) of this type's model YAMLs; a matched `_position.yaml` sets the order"),
        Field("position", S, False, "path of this type's _position.yaml (read by the daemon)", path_kind=MODEL_POSITION),
    ),
    doc="Where this model type's YAML files are.",
)

MODELS = Obj(
    "models",
    tuple(
        Field(key, MODEL_GLOBS, False, f"the {mtype} model files")
        for key, mtype in MODEL_TYPE_KEYS.items()
    ),
    doc="Per model type (llm, text_embedding, ...; underscores here), the globs of its model YAML files.",
)

MODEL_POSITION_OBJ = Obj(
    "model position",
    tuple(Field(key, ListOf(S), False, f"{mtype} model names in display order", nullable=True) for key, mtype in MODEL_TYPE_KEYS.items()),
    doc="Model display order per type.",
)

MODEL_PROVIDER_SCHEMA = Obj(
    "model provider",
    (
        Field("provider", S, True, "the provider name, unique in the plugin (Dify shows it as author/plugin/provider)"),
        i18n("label", "display name", True),
        i18n("description", "what the provider offers", nullable=True),
        i18n("icon_small", "small icon per language (a file in _assets/; the daemon checks it exists)", nullable=True),
        i18n("icon_large", "large icon per language (a file in _assets/)", nullable=True),
        i18n("icon_small_dark", "small icon for dark mode", nullable=True),
        i18n("icon_large_dark", "large icon for dark mode", nullable=True),
        Field("background", S, False, "background colour of the provider card, e.g. \"#E5E7EB\" (quote it)", nullable=True),
        Field("help", Obj("help", (i18n("title", "link text", True), i18n("url", "link target", True)), doc="Where to get credentials."), False, "a link telling the user where to get credentials", nullable=True),
        Field("supported_model_types", ListOf(S), True, "the model types this provider offers", enum=MODEL_TYPES, offered=OFFERED_MODEL_TYPES),
        Field("configurate_methods", ListOf(S), True, "how models are configured", enum=CONFIGURATE_METHODS),
        Field("models", MODELS, False, "per model type, the glob patterns of its model YAML files"),
        Field("provider_credential_schema", PROVIDER_CREDENTIAL_SCHEMA, False, "credentials of the provider (predefined models)", nullable=True),
        Field("model_credential_schema", MODEL_CREDENTIAL_SCHEMA, False, "credentials of each custom model (customizable-model)", nullable=True),
        Field("position", MODEL_POSITION_OBJ, False, "model display order per type (usually a _position.yaml instead)", nullable=True),
        Field(
            "extra",
            Obj(
                "extra",
                (
                    Field(
                        "python",
                        Obj(
                            "python",
                            (
                                Field("provider_source", S, True, "the Python file of the ModelProvider subclass", path_kind=PYTHON),
                                Field("model_sources", ListOf(S), False, "Python files holding the model classes (LargeLanguageModel, TextEmbeddingModel, ... subclasses)", path_kind=PYTHON),
                            ),
                            doc="The Python implementation.",
                        ),
                        True,
                        "the Python implementation",
                    ),
                ),
                doc="Where the Python classes live.",
            ),
            True,
            "where the Python classes live",
        ),
    ),
    doc="A model provider: identity, model types, credential forms and where its models and classes are.",
)

PARAMETER_RULE = Obj(
    "parameter rule",
    (
        Field("name", S, True, "the parameter name sent in `model_parameters` (e.g. temperature)"),
        Field("use_template", S, False, "fill label, type, help, default, min, max and precision from an SDK template; keys given here win", enum=PARAMETER_TEMPLATES, suggest_only=True),
        i18n("label", "the label shown (default: the name or the template's)", nullable=True, empty_is_default=True),
        Field("type", S, False, "the value type (required unless use_template names a template)", enum=PARAMETER_RULE_TYPES),
        i18n("help", "help text", nullable=True),
        Field("required", B, False, "the user must set it (default false)"),
        Field("default", A, False, "the default value", nullable=True),
        Field("min", N, False, "smallest value", nullable=True),
        Field("max", N, False, "largest value", nullable=True),
        Field("precision", I, False, "decimal places", nullable=True),
        Field("options", ListOf(S), False, "allowed values (a string parameter becomes a select)"),
    ),
    doc="One tunable parameter of the model (ParameterRule).",
    role="parameter_rule",
)

PRICING = Obj(
    "pricing",
    (
        Field("input", DEC, True, "price of `unit` input tokens (a decimal)"),
        Field("output", DEC, False, "price of `unit` output tokens", nullable=True),
        Field("unit", DEC, True, "the token count a price is for, as a fraction: 0.000001 means per million tokens"),
        Field("currency", S, True, "the currency, e.g. USD"),
    ),
    doc="What the model costs (PriceConfig).",
)

MODEL_SCHEMA = Obj(
    "model",
    (
        Field("model", S, True, "the model name sent to the provider's API"),
        i18n("label", "display name (default: the model name)", nullable=True, empty_is_default=True),
        Field("model_type", S, True, "the model type; must match the folder and the provider's supported_model_types", enum=MODEL_TYPES, offered=OFFERED_MODEL_TYPES),
        Field("features", ListOf(S), False, "what the model supports", enum=MODEL_FEATURES, nullable=True),
        Field("fetch_from", S, False, "where the model is defined (default predefined-model)", enum=CONFIGURATE_METHODS),
        Field("model_properties", Obj("model properties", tuple(Field(k, A, False, d) for k, d in MODEL_PROPERTY_KEYS.items()), doc="Facts about the model (mode, context size, ...).", rejects_unknown="the SDK accepts only ModelPropertyKey names here and fails to load the model"), True, "facts about the model: mode, context_size, ..."),
        Field("deprecated", B, False, "hidden from new configurations"),
        Field("parameter_rules", ListOf(PARAMETER_RULE), False, "the parameters the user can tune"),
        Field("pricing", PRICING, False, "prices per token unit", nullable=True),
    ),
    doc="A predefined model (AIModelEntity), loaded through the provider's `models.<type>.predefined` globs.",
)

# _position.yaml is a plain list of model names.
MODEL_POSITION_SCHEMA = ListOf(S)

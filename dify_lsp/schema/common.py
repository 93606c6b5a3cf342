"""Pieces shared by the schemas of every plugin file kind: scalar types,
patterns, parameter types and scopes, translated texts, options, credential
and setting fields, the `extra.python` block and provider identities.

Taken from the SDK ``dify-plugin`` 0.10.2 (``entities/*.py``) and the plugin
daemon's declarations (``pkg/entities/plugin_entities/*.go``), which add
stricter rules at packaging and install time.
"""

from __future__ import annotations

from dify_lsp.schema.model import (
    ANY,
    BOOLEAN,
    DATETIME,
    DECIMAL,
    INTEGER,
    NUMBER,
    SCALAR,
    STRING,
    Either,
    Field,
    ListOf,
    MapOf,
    Obj,
    Scalar,
    SchemaType,
)
from dify_lsp.schema.references import (
    AGENT_PROVIDER,
    AGENT_STRATEGY,
    DATASOURCE,
    DATASOURCE_PROVIDER,
    ENDPOINT,
    ENDPOINT_GROUP,
    ICON,
    MANIFEST,
    MODEL_PROVIDER,
    PYTHON,
    TOOL,
    TOOL_PROVIDER,
    TRIGGER_EVENT,
    TRIGGER_PROVIDER,
)

SDK_VERSION = "0.10.2"

S = Scalar(STRING)
I = Scalar(INTEGER)
N = Scalar(NUMBER)
B = Scalar(BOOLEAN)
DT = Scalar(DATETIME)
A = Scalar(ANY)
SC = Scalar(SCALAR)
DEC = Scalar(DECIMAL)

# --- patterns -------------------------------------------------------------
VERSION_PATTERN = r"^\d{1,4}(\.\d{1,4}){2}(-\w{1,16})?$"
VERSION_DOC = "a three-part version like 0.0.1 (MAJOR.MINOR.PATCH, optional -suffix)"
AUTHOR_PATTERN = r"^[a-z0-9_-]{1,64}$"
AUTHOR_DOC = "1-64 lowercase letters, digits, '_' or '-' (the daemon rejects uppercase)"
PLUGIN_NAME_PATTERN = r"^[a-z0-9_-]{1,128}$"
PLUGIN_NAME_DOC = "1-128 lowercase letters, digits, '_' or '-'"
IDENTITY_NAME_PATTERN = r"^[a-zA-Z0-9_-]+$"
IDENTITY_NAME_DOC = "letters, digits, '_' or '-' only"
PEP440_PATTERN = r"^\s*v?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?\s*$"
PEP440_DOC = "a version like 1.0.0"

# en_US, zh_Hant, de_DE, en_us (the SDK also takes field names), id, ...
LANGUAGE_CODE_PATTERN = r"^[a-z]{2,3}([_-]([A-Za-z]{4}|[A-Za-z]{2}))?([_-][A-Z]{2})?$"

# --- enums ----------------------------------------------------------------
PLUGIN_TAGS = {t: f"marketplace category '{t}'" for t in (
    "search", "image", "videos", "weather", "finance", "design", "travel", "social", "news", "medical",
    "productivity", "education", "business", "entertainment", "utilities", "agent", "rag", "other", "trigger",
)}
# entities/tool.py ToolLabelEnum (the SDK validates provider tags against it).
TOOL_TAGS = {t: f"tool category '{t}'" for t in (
    "search", "image", "videos", "weather", "finance", "design", "travel", "social", "news", "medical",
    "productivity", "education", "business", "entertainment", "utilities", "rag", "other",
)}
DATASOURCE_TAGS = {k: v for k, v in TOOL_TAGS.items() if k != "rag"}

TOOL_PARAMETER_TYPES = {
    "string": "free text",
    "number": "a number (use min, max, precision)",
    "boolean": "true / false switch",
    "select": "one value from `options` (several when `multiple: true`)",
    "secret-input": "a secret string, masked in the UI",
    "file": "one file",
    "files": "a list of files",
    "model-selector": "a model picked by the user; `scope` restricts the model type; value is a dict with provider, model, model_type",
    "app-selector": "a Dify app picked by the user; `scope` restricts the app mode",
    "checkbox": "a checkbox",
    "any": "any value (`scope` narrows it: string, number, object, array[...])",
    "object": "a JSON object (MCP-style; describe it in `input_schema`)",
    "array": "a JSON array (MCP-style; describe it in `input_schema`)",
    "dynamic-select": "options fetched at run time from the provider",
    "date": "a date",
    "date-range": "a start and end date (renamed from date-picker in SDK 0.10.2)",
}
PARAMETER_TYPE_RENAMES = {"date-picker": "date-range"}
PARAMETER_TYPE_RENAMED_IN = {"date-picker": SDK_VERSION}

AGENT_PARAMETER_TYPES = {k: TOOL_PARAMETER_TYPES[k] for k in (
    "string", "number", "boolean", "select", "secret-input", "file", "files", "model-selector", "app-selector",
)}
AGENT_PARAMETER_TYPES["array[tools]"] = "a list of tools picked by the user (agent strategies)"
AGENT_PARAMETER_TYPES["any"] = TOOL_PARAMETER_TYPES["any"]
AGENT_PARAMETER_TYPES["object"] = TOOL_PARAMETER_TYPES["object"]
AGENT_PARAMETER_TYPES["array"] = TOOL_PARAMETER_TYPES["array"]

CONFIG_TYPES = {
    "secret-input": "a secret string (API keys), masked in the UI and never logged",
    "text-input": "a plain text input",
    "select": "one value from `options`",
    "boolean": "true / false switch",
    "model-selector": "a model picked by the user; `scope` restricts the model type",
    "app-selector": "a Dify app picked by the user; `scope` restricts the app mode",
    "array[tools]": "a list of tools picked by the user",
}
TOOL_PARAMETER_FORMS = {
    "llm": "filled in by the LLM at run time (describe it in llm_description)",
    "form": "set by the user in the node's form before the tool runs",
    "schema": "set when the tool is added",
}

# Scopes per parameter type (daemon validators; `&` joins several).
SCOPES: dict[str, dict[str, str]] = {
    "model-selector": {
        "llm": "large language models",
        "text-embedding": "text embedding models",
        "rerank": "rerank models (value also has score_threshold, top_n)",
        "tts": "text-to-speech models (value also has voice)",
        "speech2text": "speech-to-text models",
        "moderation": "moderation models",
        "vision": "LLMs that accept images",
        "document": "LLMs that accept documents",
        "tool-call": "LLMs that support tool calling (combine: tool-call&llm)",
    },
    "app-selector": {
        "all": "any app",
        "chat": "chat apps",
        "workflow": "workflow apps",
        "completion": "completion apps",
    },
    "any": {
        "string": "a string",
        "number": "a number",
        "object": "an object",
        "array[number]": "a list of numbers",
        "array[string]": "a list of strings",
        "array[object]": "a list of objects",
        "array[file]": "a list of files",
    },
}
# The model type a model-selector scope part lets the user pick (vision, document and
# tool-call narrow LLMs down by feature).
SCOPE_MODEL_TYPE: dict[str, str] = {
    "llm": "llm",
    "vision": "llm",
    "document": "llm",
    "tool-call": "llm",
    "text-embedding": "text-embedding",
    "rerank": "rerank",
    "tts": "tts",
    "speech2text": "speech2text",
    "moderation": "moderation",
}

# Common wrong spellings -> the right scope (besides edit-distance suggestions).
SCOPE_SYNONYMS = {
    "embedding": "text-embedding",
    "text_embedding": "text-embedding",
    "embeddings": "text-embedding",
    "speech-to-text": "speech2text",
    "speech_to_text": "speech2text",
    "stt": "speech2text",
    "text-to-speech": "tts",
    "text2speech": "tts",
    "tool_call": "tool-call",
    "function-call": "tool-call",
    "reranker": "rerank",
    "rerank-model": "rerank",
}
MULTIPLE_TYPES = ("select", "dynamic-select")
MODEL_SELECTOR = "model-selector"

PLUGIN_ARCH = {"amd64": "x86-64", "arm64": "64-bit ARM"}
RUNNER_LANGUAGES = {"python": "Python (the only runner)"}

# Plugin kinds (manifest `plugins` keys) and how they combine (daemon ManifestValidate).
PLUGIN_KINDS = ("tools", "models", "endpoints", "agent_strategies", "datasources", "triggers")
EXCLUSIVE_PLUGIN_KINDS = ("models", "agent_strategies", "datasources", "triggers")

STORAGE_MIN = 1024
STORAGE_MAX = 1073741824

# --- shared objects ---------------------------------------------------------


def i18n(name: str, doc: str, required: bool = False, **kw) -> Field:
    return Field(name, I18N, required, doc, **kw)


I18N = Obj(
    "I18n object",
    (
        Field("en_US", S, True, "English text (required; used when a translation is missing)", max_length=1023),
        Field("zh_Hans", S, False, "Simplified Chinese (empty: falls back to en_US)", nullable=True),
        Field("ja_JP", S, False, "Japanese (empty: falls back to en_US)", nullable=True),
        Field("pt_BR", S, False, "Brazilian Portuguese (empty: falls back to en_US)", nullable=True),
    ),
    doc="Text in several languages: `en_US` is required, other languages fall back to it.",
    # Other languages are ignored by the SDK and the daemon; anything that is not a language
    # code (e.g. `required: true` indented one level too deep) is silently lost.
    tolerated_keys=LANGUAGE_CODE_PATTERN,
)

SHOW_ON = Obj(
    "show-on condition",
    (
        Field("variable", S, True, "name of another parameter"),
        Field("value", S, True, "the value that parameter must have"),
    ),
    doc="Show this only when another parameter has the given value.",
)

OPTION = Obj(
    "option",
    (
        Field("value", SC, True, "the value passed to the plugin when chosen (kept as a string)", max_length=127, nullable=True),
        i18n("label", "the text shown for this option", True),
        Field("icon", S, False, "an icon: a URL or a base64 string", nullable=True),
        Field("show_on", ListOf(SHOW_ON), False, "conditions that control whether the option is shown", max_items=16),
    ),
    doc="One choice of a select parameter.",
)

CONFIG_OPTION = Obj(
    "option",
    (
        Field("value", S, True, "the value stored when chosen (text: quote numbers)", max_length=127),
        i18n("label", "the text shown for this option", True),
    ),
    doc="One choice of a select credential or setting.",
)

AUTO_GENERATE = Obj(
    "auto_generate",
    (Field("type", S, True, "what to generate", enum={"prompt_instruction": "generate a prompt instruction"}),),
    doc="Lets Dify generate the value (e.g. an instruction prompt).",
)
TEMPLATE = Obj(
    "template",
    (Field("enabled", B, True, "whether the value is a Jinja template"),),
    doc="Jinja template support for the value.",
)


def config_fields(name_required: bool) -> tuple[Field, ...]:
    return (
        Field("name", S, name_required, "the credential / setting name (the mapping key when written as a mapping)"),
        Field("type", S, True, "the input type", enum=CONFIG_TYPES),
        Field("scope", S, False, "restricts what can be picked (model-selector: model types; app-selector: app modes); join with &", nullable=True),
        Field("required", B, False, "the user must fill it in (default false)"),
        Field("default", Either((SC, ListOf(A))), False, "default value (a string, number or boolean; the SDK also takes a list)", nullable=True),
        Field("options", ListOf(CONFIG_OPTION), False, "choices of a select (fewer than 128)", max_items=127, nullable=True),
        Field("multiple", B, False, "allow several values", nullable=True),
        i18n("label", "the field's label", True),
        i18n("help", "help text shown under the field", nullable=True),
        Field("url", S, False, "a link to where the user gets this value (e.g. the API key page)", nullable=True),
        i18n("placeholder", "placeholder text shown in the empty input", nullable=True),
    )


PROVIDER_CONFIG_NAMED = Obj("credential / setting", config_fields(True), doc="A credential or setting field.", role="config")
PROVIDER_CONFIG = Obj("credential / setting", config_fields(False), doc="A credential or setting field.", role="config")

CREDENTIALS_MAP = MapOf(PROVIDER_CONFIG, key_doc="credential name")
CREDENTIALS_EITHER = Either((CREDENTIALS_MAP, ListOf(PROVIDER_CONFIG_NAMED)))

OAUTH_SCHEMA = Obj(
    "oauth_schema",
    (
        Field("client_schema", ListOf(PROVIDER_CONFIG_NAMED), False, "fields of the OAuth client (client id, secret, ...)"),
        Field("credentials_schema", ListOf(PROVIDER_CONFIG_NAMED), False, "fields of the OAuth credentials (tokens)"),
    ),
    doc="The OAuth schema of the provider if OAuth is supported.",
)


def python_extra(source_doc: str) -> Obj:
    return Obj(
        "extra",
        (
            Field(
                "python",
                Obj("python", (Field("source", S, True, source_doc, path_kind=PYTHON),), doc="The Python implementation."),
                True,
                "the Python implementation",
            ),
        ),
        doc="Where the implementation lives.",
    )


def provider_identity(tags: dict[str, str], description_required: bool = True) -> Obj:
    return Obj(
        "provider identity",
        (
            Field("author", S, True, "the author (organization or user)"),
            Field("name", S, True, "the provider name, unique in the plugin", pattern=IDENTITY_NAME_PATTERN, pattern_doc=IDENTITY_NAME_DOC),
            i18n("label", "the provider's display name", True),
            i18n("description", "what the provider does", description_required),
            Field("icon", S, True, "icon file name in _assets/", path_kind=ICON),
            Field("icon_dark", S, False, "dark-mode icon file name in _assets/", path_kind=ICON, nullable=True),
            Field("tags", ListOf(S), False, "categories", enum=tags),
        ),
        doc="Who and what the provider is.",
    )


TOOL_LIKE_IDENTITY = Obj(
    "identity",
    (
        Field("name", S, True, "the name, unique within the provider", pattern=IDENTITY_NAME_PATTERN, pattern_doc=IDENTITY_NAME_DOC),
        Field("author", S, True, "the author (not checked against the manifest's author)"),
        i18n("label", "the display name", True),
        Field("icon", S, False, "an icon (read by neither the SDK nor the daemon)", ignored=True),
    ),
    doc="The name, author and label.",
)


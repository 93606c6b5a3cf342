"""The schemas of Dify plugin YAML files, as data.

Faithful to the Python SDK ``dify-plugin`` 0.10.2 (its pydantic models in
``core/entities/plugin/setup.py`` and ``entities/*.py``) and to the plugin
daemon, which adds stricter rules at packaging/install time (lowercase
author, three-part versions, icon size limits, plugin-kind combinations).
Every rule, completion item and hover text is derived from these tables.
"""

from __future__ import annotations

from dify_lsp.schema.model import (
    ANY,
    BOOLEAN,
    DATETIME,
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
        Field("zh_Hans", S, False, "Simplified Chinese"),
        Field("ja_JP", S, False, "Japanese"),
        Field("pt_BR", S, False, "Brazilian Portuguese"),
    ),
    doc="Text in several languages: `en_US` is required, other languages fall back to it.",
    open=True,  # the daemon and SDK ignore other languages
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
        Field("value", SC, True, "the value passed to the plugin when chosen (kept as a string)", max_length=127),
        i18n("label", "the text shown for this option", True),
        Field("icon", S, False, "an icon: a URL or a base64 string"),
        Field("show_on", ListOf(SHOW_ON), False, "conditions that control whether the option is shown", max_items=16),
    ),
    doc="One choice of a select parameter.",
)

CONFIG_OPTION = Obj(
    "option",
    (
        Field("value", SC, True, "the value stored when chosen", max_length=127),
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


def _config_fields(name_required: bool) -> tuple[Field, ...]:
    return (
        Field("name", S, name_required, "the credential / setting name (the mapping key when written as a mapping)"),
        Field("type", S, True, "the input type", enum=CONFIG_TYPES),
        Field("scope", S, False, "restricts what can be picked (model-selector: model types; app-selector: app modes); join with &"),
        Field("required", B, False, "the user must fill it in (default false)"),
        Field("default", SC, False, "default value (a basic type: string, number or boolean)"),
        Field("options", ListOf(CONFIG_OPTION), False, "choices of a select (fewer than 128)", max_items=127),
        Field("multiple", B, False, "allow several values"),
        i18n("label", "the field's label", True),
        i18n("help", "help text shown under the field"),
        Field("url", S, False, "a link to where the user gets this value (e.g. the API key page)"),
        i18n("placeholder", "placeholder text shown in the empty input"),
    )


PROVIDER_CONFIG_NAMED = Obj("credential / setting", _config_fields(True), doc="A credential or setting field.", role="config")
PROVIDER_CONFIG = Obj("credential / setting", _config_fields(False), doc="A credential or setting field.", role="config")

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


def _python_extra(source_doc: str) -> Obj:
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


def _provider_identity(tags: dict[str, str], description_required: bool = True) -> Obj:
    return Obj(
        "provider identity",
        (
            Field("author", S, True, "the author (organization or user)"),
            Field("name", S, True, "the provider name, unique in the plugin", pattern=IDENTITY_NAME_PATTERN, pattern_doc=IDENTITY_NAME_DOC),
            i18n("label", "the provider's display name", True),
            i18n("description", "what the provider does", description_required),
            Field("icon", S, True, "icon file name in _assets/", path_kind=ICON),
            Field("icon_dark", S, False, "dark-mode icon file name in _assets/", path_kind=ICON),
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

# --- manifest.yaml ------------------------------------------------------------

PERMISSION = Obj(
    "permission",
    (
        Field("tool", Obj("tool permission", (Field("enabled", B, False, "allow invoking tools (session.tool)"),)), False, "invoking other tools"),
        Field(
            "model",
            Obj(
                "model permission",
                (
                    Field("enabled", B, False, "allow invoking models at all (needed with any model flag)"),
                    Field("llm", B, False, "allow session.model.llm"),
                    Field("text_embedding", B, False, "allow session.model.text_embedding"),
                    Field("rerank", B, False, "allow session.model.rerank"),
                    Field("tts", B, False, "allow session.model.tts"),
                    Field("speech2text", B, False, "allow session.model.speech2text"),
                    Field("moderation", B, False, "allow session.model.moderation"),
                ),
            ),
            False,
            "invoking the workspace's models",
        ),
        Field("node", Obj("node permission", (Field("enabled", B, False, "allow invoking workflow nodes (session.workflow_node)"),)), False, "invoking workflow nodes"),
        Field("endpoint", Obj("endpoint permission", (Field("enabled", B, False, "allow registering endpoints"),)), False, "registering endpoints"),
        Field("app", Obj("app permission", (Field("enabled", B, False, "allow invoking apps (session.app)"),)), False, "invoking Dify apps"),
        Field(
            "storage",
            Obj(
                "storage permission",
                (
                    Field("enabled", B, False, "allow the persistent key-value storage (session.storage)"),
                    Field("size", I, False, f"storage size in bytes ({STORAGE_MIN} to {STORAGE_MAX}; default 1048576)", minimum=STORAGE_MIN, maximum=STORAGE_MAX),
                ),
            ),
            False,
            "persistent storage",
        ),
    ),
    doc="What the plugin may call back into Dify; the daemon refuses anything not granted.",
)

MANIFEST_SCHEMA = Obj(
    "plugin manifest",
    (
        Field("version", S, True, "the plugin version", pattern=VERSION_PATTERN, pattern_doc=VERSION_DOC),
        Field("type", S, True, "always `plugin`", enum={"plugin": "a Dify plugin"}),
        Field("author", S, True, "the author / organization id; part of the plugin id author/name", pattern=AUTHOR_PATTERN, pattern_doc=AUTHOR_DOC),
        Field("name", S, True, "the plugin name; part of the plugin id author/name", pattern=PLUGIN_NAME_PATTERN, pattern_doc=PLUGIN_NAME_DOC),
        i18n("label", "the plugin's display name", True),
        i18n("description", "what the plugin does", True),
        Field("icon", S, True, "icon file name in _assets/ (packaging fails with \"plugin icon not found\")", max_length=128, path_kind=ICON),
        Field("icon_dark", S, False, "dark-mode icon file name in _assets/", max_length=128, path_kind=ICON),
        Field(
            "resource",
            Obj(
                "resource",
                (
                    Field("memory", I, True, "memory the plugin needs, in bytes"),
                    Field("permission", PERMISSION, False, "what the plugin may invoke"),
                ),
                doc="Resources and permissions.",
            ),
            True,
            "resource requirements and permissions",
        ),
        Field(
            "plugins",
            Obj(
                "plugins",
                (
                    Field("tools", ListOf(S), False, "tool provider YAML files", path_kind=TOOL_PROVIDER, max_length=128),
                    Field("models", ListOf(S), False, "model provider YAML files (a model plugin cannot declare anything else)", path_kind=MODEL_PROVIDER, max_length=128),
                    Field("endpoints", ListOf(S), False, "endpoint group YAML files", path_kind=ENDPOINT_GROUP, max_length=128),
                    Field("agent_strategies", ListOf(S), False, "agent strategy provider YAML files (cannot be combined with other kinds)", path_kind=AGENT_PROVIDER, max_length=128),
                    Field("datasources", ListOf(S), False, "datasource provider YAML files (cannot be combined with other kinds)", path_kind=DATASOURCE_PROVIDER, max_length=128),
                    Field("triggers", ListOf(S), False, "trigger provider YAML files (cannot be combined with other kinds)", path_kind=TRIGGER_PROVIDER, max_length=128),
                ),
                doc="The extensions the plugin provides: at least one kind; tools + endpoints may be combined, the others stand alone.",
            ),
            True,
            "the providers this plugin declares",
        ),
        Field(
            "meta",
            Obj(
                "meta",
                (
                    Field("version", S, True, "version of the manifest format", pattern=VERSION_PATTERN, pattern_doc=VERSION_DOC),
                    Field("arch", ListOf(S), True, "CPU architectures the plugin runs on", enum=PLUGIN_ARCH),
                    Field(
                        "runner",
                        Obj(
                            "runner",
                            (
                                Field("language", S, True, "the runtime language", enum=RUNNER_LANGUAGES),
                                Field("version", S, True, "the language version, e.g. \"3.12\" (quote it)", max_length=128),
                                Field("entrypoint", S, True, "the module started by the runner, e.g. main", max_length=256),
                            ),
                            doc="How the plugin is started.",
                        ),
                        True,
                        "how the plugin is started",
                    ),
                    Field("minimum_dify_version", S, False, "the oldest Dify version that can run the plugin", pattern=PEP440_PATTERN, pattern_doc=PEP440_DOC, nullable=True),
                ),
                doc="Manifest format and runtime.",
            ),
            True,
            "manifest format version, architectures and runner",
        ),
        Field("created_at", DT, True, "creation time, RFC 3339 (e.g. 2025-01-08T10:00:00+08:00)"),
        Field("privacy", S, False, "path or URL of the privacy policy", nullable=True),
        Field("repo", S, False, "URL of the source repository", nullable=True),
        Field("verified", B, False, "set by the marketplace"),
        Field("tags", ListOf(S), False, "marketplace categories", enum=PLUGIN_TAGS),
    ),
    doc="The plugin manifest: identity, resources, permissions and the providers it declares.",
)

# --- tool provider / tool ---------------------------------------------------------

TOOL_PROVIDER_SCHEMA = Obj(
    "tool provider",
    (
        Field("identity", _provider_identity(TOOL_TAGS), True, "who and what the provider is"),
        Field("credentials_for_provider", CREDENTIALS_MAP, False, "credentials the user enters once per workspace: a mapping name -> field"),
        Field("credentials_schema", CREDENTIALS_EITHER, False, "another spelling of credentials_for_provider accepted by the daemon (mapping or list)"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth client and credential fields"),
        Field("tools", ListOf(S), False, "tool YAML files of this provider", path_kind=TOOL),
        Field("extra", _python_extra("the Python file holding the ToolProvider subclass"), True, "where the provider's Python class lives"),
    ),
    doc="A tool provider: identity, credentials and the tools it offers.",
)

TOOL_PARAMETER = Obj(
    "tool parameter",
    (
        Field("name", S, True, "the parameter name: the key in tool_parameters", max_length=1023),
        i18n("label", "the label shown to the user", True),
        i18n("human_description", "the description shown to the user", True),
        Field("type", S, True, "the value type", enum=TOOL_PARAMETER_TYPES, renamed_values=PARAMETER_TYPE_RENAMES, removed_in=PARAMETER_TYPE_RENAMED_IN),
        Field("form", S, True, "who fills in the value", enum=TOOL_PARAMETER_FORMS),
        Field("scope", S, False, "restricts what can be picked (model-selector: model types; app-selector: app modes; any: value types); join with &", max_length=1024),
        Field("llm_description", S, False, "the description given to the LLM (for form: llm)", nullable=True),
        Field("required", B, False, "a value must be given (default false)"),
        Field("multiple", B, False, "accept several values; only for select and dynamic-select (then `default` must be a list)"),
        Field("default", A, False, "the default value (a list exactly when multiple is true)", nullable=True),
        Field("min", N, False, "smallest number allowed", nullable=True),
        Field("max", N, False, "largest number allowed", nullable=True),
        Field("precision", I, False, "decimal places of a number", nullable=True),
        Field("options", ListOf(OPTION), False, "choices of a select", nullable=True),
        Field("auto_generate", AUTO_GENERATE, False, "let Dify generate the value", nullable=True),
        Field("template", TEMPLATE, False, "Jinja template support", nullable=True),
        Field("input_schema", Obj("JSON schema", (), open=True), False, "JSON schema of an object / array parameter", nullable=True),
        Field("show_on", ListOf(SHOW_ON), False, "show the parameter only when other parameters have given values", max_items=16),
        i18n("placeholder", "placeholder text (not read by the SDK's model)", ignored=True),
    ),
    doc="One input of the tool.",
    role="parameter",
)

TOOL_SCHEMA = Obj(
    "tool",
    (
        Field("identity", TOOL_LIKE_IDENTITY, True, "the tool's name, author and label"),
        Field(
            "description",
            Obj(
                "tool description",
                (
                    i18n("human", "the description shown to the user", True),
                    Field("llm", S, True, "the description given to the LLM that decides whether to call the tool"),
                ),
                doc="Descriptions for people and for the LLM.",
            ),
            True,
            "descriptions for the user and the LLM",
        ),
        Field("parameters", ListOf(TOOL_PARAMETER), False, "the tool's inputs (may be empty or left blank)", nullable=True),
        Field("output_schema", Obj("JSON schema", (), open=True), False, "JSON schema of the tool's variable outputs", nullable=True),
        Field("extra", _python_extra("the Python file holding the Tool subclass"), True, "where the tool's Python class lives"),
        Field("has_runtime_parameters", B, False, "the tool computes parameters at run time (ignored by the SDK's loader)"),
    ),
    doc="A tool: identity, descriptions, parameters and its Python class.",
)

# --- agent strategies ------------------------------------------------------------

AGENT_PARAMETER = Obj(
    "agent strategy parameter",
    (
        Field("name", S, True, "the parameter name", max_length=1023),
        i18n("label", "the label shown to the user", True),
        i18n("help", "help text"),
        Field("type", S, True, "the value type", enum=AGENT_PARAMETER_TYPES),
        Field("auto_generate", AUTO_GENERATE, False, "let Dify generate the value"),
        Field("template", TEMPLATE, False, "Jinja template support"),
        Field("scope", S, False, "restricts what can be picked; join with & (e.g. tool-call&llm)", max_length=1024),
        Field("required", B, False, "a value must be given"),
        Field("default", SC, False, "the default value (a basic type)", nullable=True),
        Field("min", N, False, "smallest number allowed", nullable=True),
        Field("max", N, False, "largest number allowed", nullable=True),
        Field("precision", I, False, "decimal places", nullable=True),
        Field("options", ListOf(OPTION), False, "choices of a select", nullable=True),
        Field("reset_on_change", ListOf(S), False, "parameters reset when this one changes", max_items=16),
    ),
    doc="One input of the agent strategy.",
    role="parameter",
)

AGENT_PROVIDER_SCHEMA = Obj(
    "agent strategy provider",
    (
        Field("identity", _provider_identity(TOOL_TAGS), True, "who and what the provider is"),
        Field("strategies", ListOf(S), True, "agent strategy YAML files", path_kind=AGENT_STRATEGY),
        Field("extra", _python_extra("the Python file of the provider"), False, "where the provider's Python class lives"),
    ),
    doc="An agent strategy provider.",
)

AGENT_STRATEGY_SCHEMA = Obj(
    "agent strategy",
    (
        Field("identity", TOOL_LIKE_IDENTITY, True, "the strategy's name, author and label"),
        i18n("description", "what the strategy does", True),
        Field("parameters", ListOf(AGENT_PARAMETER), False, "the strategy's inputs", nullable=True),
        Field("output_schema", Obj("JSON schema", (), open=True), False, "JSON schema of the outputs", nullable=True),
        Field("extra", _python_extra("the Python file holding the AgentStrategy subclass"), True, "where the strategy's class lives"),
        Field("has_runtime_parameters", B, False, "computes parameters at run time"),
        Field("features", ListOf(S), False, "optional features", enum={"history-messages": "receives the conversation history"}),
    ),
    doc="An agent strategy.",
)

# --- endpoints ------------------------------------------------------------------

ENDPOINT_GROUP_SCHEMA = Obj(
    "endpoint group",
    (
        Field("settings", Either((ListOf(PROVIDER_CONFIG_NAMED), MapOf(PROVIDER_CONFIG, "setting name"))), False, "fields the user fills in when creating the endpoint", nullable=True),
        Field("endpoints", ListOf(S), False, "endpoint YAML files", path_kind=ENDPOINT),
    ),
    doc="A group of HTTP endpoints sharing settings.",
)

ENDPOINT_SCHEMA = Obj(
    "endpoint",
    (
        Field("path", S, True, "the URL path, e.g. /webhook/{id}"),
        Field("method", S, True, "the HTTP method", suggest_only=True, enum={m: f"HTTP {m}" for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}),
        Field("hidden", B, False, "hide this endpoint in the UI"),
        Field("extra", _python_extra("the Python file holding the Endpoint subclass"), True, "where the endpoint's class lives"),
    ),
    doc="One HTTP endpoint.",
)

# --- model provider (top level; model YAMLs are globbed) ------------------------------

MODEL_TYPES = {
    "llm": "large language models",
    "text-embedding": "text embedding models",
    "rerank": "rerank models",
    "speech2text": "speech-to-text models",
    "moderation": "moderation models",
    "tts": "text-to-speech models",
    "text2img": "image generation models",
}

MODEL_PROVIDER_SCHEMA = Obj(
    "model provider",
    (
        Field("provider", S, True, "the provider name"),
        i18n("label", "display name", True),
        i18n("description", "what the provider offers"),
        i18n("icon_small", "small icon per language (file in _assets/)"),
        i18n("icon_large", "large icon per language (file in _assets/)"),
        i18n("icon_small_dark", "dark small icon"),
        i18n("icon_large_dark", "dark large icon"),
        Field("background", S, False, "background colour"),
        Field("help", Obj("help", (i18n("title", "link text", True), i18n("url", "link target", True))), False, "where to get credentials"),
        Field("supported_model_types", ListOf(S), True, "model types offered", enum=MODEL_TYPES),
        Field("configurate_methods", ListOf(S), True, "how models are configured", enum={"predefined-model": "models listed in YAML", "customizable-model": "the user adds models"}),
        Field("models", Obj("models", (), open=True), False, "per model type, glob paths of model YAMLs"),
        Field("provider_credential_schema", Obj("credential schema", (), open=True), False, "credentials of the provider"),
        Field("model_credential_schema", Obj("credential schema", (), open=True), False, "credentials of each custom model"),
        Field("position", Obj("position", (), open=True), False, "model ordering"),
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
                                Field("model_sources", ListOf(S), False, "Python files of the model classes", path_kind=PYTHON),
                            ),
                        ),
                        True,
                        "the Python implementation",
                    ),
                ),
            ),
            True,
            "where the Python classes live",
        ),
    ),
    doc="A model provider.",
    open=True,  # model provider files carry many optional keys; only the known ones are checked
)

# Datasource and trigger files: checked for their reference fields only (open schemas).
DATASOURCE_PROVIDER_SCHEMA = Obj(
    "datasource provider",
    (
        Field("identity", _provider_identity(DATASOURCE_TAGS), True, "who and what the provider is"),
        Field("provider_type", S, True, "the kind of datasource", enum={"online_document": "online documents", "website_crawl": "website crawling", "online_drive": "online drives"}),
        Field("credentials_schema", ListOf(PROVIDER_CONFIG_NAMED), False, "credential fields"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth support"),
        Field("datasources", ListOf(S), False, "datasource YAML files", path_kind=DATASOURCE),
        Field("extra", _python_extra("the Python file of the provider"), True, "where the provider's class lives"),
    ),
    open=True,
)
DATASOURCE_SCHEMA = Obj(
    "datasource",
    (Field("extra", _python_extra("the Python file of the datasource"), True, "where the class lives"),),
    open=True,
)
TRIGGER_PROVIDER_SCHEMA = Obj(
    "trigger provider",
    (
        Field("events", ListOf(S), False, "trigger event YAML files", path_kind=TRIGGER_EVENT),
        Field("extra", _python_extra("the Python file of the provider"), True, "where the provider's class lives"),
    ),
    open=True,
)
TRIGGER_EVENT_SCHEMA = Obj(
    "trigger event",
    (Field("extra", _python_extra("the Python file of the event"), True, "where the class lives"),),
    open=True,
)

SCHEMAS: dict[str, Obj] = {
    MANIFEST: MANIFEST_SCHEMA,
    TOOL_PROVIDER: TOOL_PROVIDER_SCHEMA,
    TOOL: TOOL_SCHEMA,
    AGENT_PROVIDER: AGENT_PROVIDER_SCHEMA,
    AGENT_STRATEGY: AGENT_STRATEGY_SCHEMA,
    ENDPOINT_GROUP: ENDPOINT_GROUP_SCHEMA,
    ENDPOINT: ENDPOINT_SCHEMA,
    MODEL_PROVIDER: MODEL_PROVIDER_SCHEMA,
    DATASOURCE_PROVIDER: DATASOURCE_PROVIDER_SCHEMA,
    DATASOURCE: DATASOURCE_SCHEMA,
    TRIGGER_PROVIDER: TRIGGER_PROVIDER_SCHEMA,
    TRIGGER_EVENT: TRIGGER_EVENT_SCHEMA,
}


def schema_for(kind: str | None) -> Obj | None:
    return SCHEMAS.get(kind) if kind else None


def resolve(kind: str | None, path: list[str | int]) -> tuple[SchemaType | None, Field | None]:
    """The schema type (and the field that declared it) at a key path.

    ``path`` holds mapping keys (str) and list indices (int); a key under a
    :class:`MapOf` is any name.
    """
    t: SchemaType | None = schema_for(kind)
    fld: Field | None = None
    for step in path:
        if t is None:
            return None, None
        t, found = step_into(t, step)
        # A list item keeps the list's field (its enum, path kind and docs apply to each item).
        fld = found if (found is not None or not isinstance(step, int)) else fld
    return t, fld


def step_into(t: SchemaType, step: str | int) -> tuple[SchemaType | None, Field | None]:
    if isinstance(t, Either):
        for opt in t.options:
            got = step_into(opt, step)
            if got[0] is not None:
                return got
        return None, None
    if isinstance(step, int):
        return (t.item, None) if isinstance(t, ListOf) else (None, None)
    if isinstance(t, Obj):
        f = t.field(step) or (t.field(t.aliases[step]) if step in t.aliases else None)
        return (f.type, f) if f else (None, None)
    if isinstance(t, MapOf):
        return t.value, None
    return None, None

"""Schemas of tool provider and tool YAML (SDK ``entities/tool.py``; daemon ``tool_declaration.go``)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

# --- tool provider / tool ---------------------------------------------------------

TOOL_PROVIDER_SCHEMA = Obj(
    "tool provider",
    (
        Field("identity", provider_identity(TOOL_TAGS), True, "who and what the provider is"),
        Field("credentials_for_provider", CREDENTIALS_MAP, False, "credentials the user enters once per workspace: a mapping name -> field"),
        Field("credentials_schema", CREDENTIALS_EITHER, False, "another spelling of credentials_for_provider accepted by the daemon (mapping or list)"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth client and credential fields"),
        Field("tools", ListOf(S), False, "tool YAML files of this provider", path_kind=TOOL),
        Field("extra", python_extra("the Python file holding the ToolProvider subclass"), True, "where the provider's Python class lives"),
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
        Field("scope", S, False, "restricts what can be picked (model-selector: model types; app-selector: app modes; any: value types); join with &", max_length=1024, nullable=True),
        Field("llm_description", S, False, "the description given to the LLM (for form: llm)", nullable=True),
        Field("required", B, False, "a value must be given (default false)", nullable=True),
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
        Field("extra", python_extra("the Python file holding the Tool subclass"), True, "where the tool's Python class lives"),
        Field("has_runtime_parameters", B, False, "the tool computes parameters at run time (ignored by the SDK's loader)"),
    ),
    doc="A tool: identity, descriptions, parameters and its Python class.",
)

"""Schemas of datasource provider and datasource YAML (SDK ``entities/datasource_manifest.py``:
DatasourceProviderManifest, DatasourceEntity, DatasourceParameter)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

DATASOURCE_PROVIDER_TYPES = {
    "online_document": "online documents (OnlineDocumentDatasource)",
    "website_crawl": "website crawling (WebsiteCrawlDatasource)",
    "online_drive": "online drives (OnlineDriveDatasource)",
}
DATASOURCE_PARAMETER_TYPES = {k: TOOL_PARAMETER_TYPES[k] for k in ("string", "number", "boolean", "select", "secret-input", "file", "files")}

DATASOURCE_PARAMETER = Obj(
    "datasource parameter",
    (
        Field("name", S, True, "the parameter name"),
        i18n("label", "the label shown to the user", True),
        Field("type", S, True, "the value type", enum=DATASOURCE_PARAMETER_TYPES),
        i18n("description", "what the parameter is for (required)", True),
        i18n("placeholder", "placeholder text", nullable=True),
        Field("scope", S, False, "restricts what can be picked", nullable=True),
        Field("auto_generate", AUTO_GENERATE, False, "let Dify generate the value", nullable=True),
        Field("template", TEMPLATE, False, "Jinja template support", nullable=True),
        Field("required", B, False, "a value must be given (default false)"),
        Field("default", SC, False, "the default value (a number or text)", nullable=True),
        Field("min", N, False, "smallest number allowed", nullable=True),
        Field("max", N, False, "largest number allowed", nullable=True),
        Field("precision", I, False, "decimal places", nullable=True),
        Field("options", ListOf(OPTION), False, "choices of a select"),
    ),
    doc="One input of the datasource.",
    role="parameter",
)

DATASOURCE_IDENTITY = Obj(
    "datasource identity",
    (
        Field("author", S, True, "the author"),
        Field("name", S, True, "the datasource name, unique within the provider"),
        i18n("label", "the display name", True),
        Field("icon", S, False, "an icon", nullable=True),
    ),
    doc="The datasource's name, author and label.",
)

DATASOURCE_PROVIDER_IDENTITY = Obj(
    "datasource provider identity",
    (
        Field("author", S, True, "the author (organization or user)"),
        Field("name", S, True, "the provider name, unique in the plugin"),
        i18n("label", "the provider's display name", True),
        i18n("description", "what the provider does", True),
        Field("icon", S, True, "icon file name in _assets/", path_kind=ICON),
        Field("icon_dark", S, False, "dark-mode icon (not read by the SDK)", path_kind=ICON),
        Field("tags", ListOf(S), False, "categories", enum=DATASOURCE_TAGS, nullable=True),
    ),
    doc="Who and what the provider is.",
)

DATASOURCE_PROVIDER_SCHEMA = Obj(
    "datasource provider",
    (
        Field("identity", DATASOURCE_PROVIDER_IDENTITY, True, "who and what the provider is"),
        Field("provider_type", S, True, "the kind of datasource; decides the base class of its datasources", enum=DATASOURCE_PROVIDER_TYPES),
        Field("credentials_schema", ListOf(PROVIDER_CONFIG_NAMED), False, "credential fields (a list; each has a name)"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth client and credential fields", nullable=True),
        Field("datasources", ListOf(S), False, "datasource YAML files", path_kind=DATASOURCE),
        Field("extra", python_extra("the Python file holding the DatasourceProvider subclass"), True, "where the provider's class lives"),
    ),
    doc="A datasource provider: identity, kind, credentials and its datasources.",
)

DATASOURCE_SCHEMA = Obj(
    "datasource",
    (
        Field("identity", DATASOURCE_IDENTITY, True, "the datasource's name, author and label"),
        i18n("description", "what the datasource does", True),
        Field("parameters", ListOf(DATASOURCE_PARAMETER), False, "the datasource's inputs (may be left blank)", nullable=True),
        Field("output_schema", Obj("JSON schema", (), open=True), False, "JSON schema of what the datasource returns"),
        Field("extra", python_extra("the Python file holding the datasource class (OnlineDocumentDatasource, ... subclass)"), True, "where the class lives"),
    ),
    doc="A datasource: identity, description, parameters, output schema and its class.",
)

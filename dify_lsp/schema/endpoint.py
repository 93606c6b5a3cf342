"""Schemas of endpoint group and endpoint YAML (SDK ``entities/endpoint.py``:
EndpointProviderConfiguration, EndpointConfiguration; daemon ``endpoint_declaration.go``)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

HTTP_METHODS = {m: f"HTTP {m}" for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}

ENDPOINT_SCHEMA = Obj(
    "endpoint",
    (
        Field("path", S, True, "the URL path below the endpoint's base URL, e.g. /webhook/<id> (werkzeug rule syntax)"),
        Field("method", S, True, "the HTTP method", suggest_only=True, enum=HTTP_METHODS),
        Field("hidden", B, False, "hide this endpoint in the UI"),
        Field("extra", python_extra("the Python file holding the Endpoint subclass"), True, "where the endpoint's class lives"),
    ),
    doc="One HTTP endpoint: a path, a method and its Endpoint class.",
)

ENDPOINT_GROUP_SCHEMA = Obj(
    "endpoint group",
    (
        Field("settings", ListOf(PROVIDER_CONFIG_NAMED), False, "fields the user fills in when creating the endpoint (a list; each has a name)"),
        # Items are paths of endpoint YAMLs, or endpoint mappings written inline (SDK and daemon both accept them).
        Field("endpoints", ListOf(Either((S, ENDPOINT_SCHEMA))), False, "endpoint YAML files, or endpoints written inline", path_kind=ENDPOINT),
    ),
    doc="A group of HTTP endpoints sharing settings.",
)

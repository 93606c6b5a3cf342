"""The schemas of Dify plugin YAML files, as data: one registry over the
per-kind schema modules.

Faithful to the Python SDK ``dify-plugin`` 0.10.2 (its pydantic models in
``core/entities/plugin/setup.py`` and ``entities/*.py``) and to the plugin
daemon, which adds stricter rules at packaging/install time (lowercase
author, three-part versions, icon size limits, plugin-kind combinations).
Every rule, completion item and hover text is derived from these tables.
The shared vocabulary lives in :mod:`dify_lsp.schema.common`; each file kind
has its module (manifest, tool, model_provider, endpoint, agent_strategy,
datasource, trigger).  The names are re-exported here.
"""

from __future__ import annotations

from dify_lsp.schema.agent_strategy import *  # noqa: F403
from dify_lsp.schema.common import *  # noqa: F403
from dify_lsp.schema.datasource import *  # noqa: F403
from dify_lsp.schema.endpoint import *  # noqa: F403
from dify_lsp.schema.manifest import *  # noqa: F403
from dify_lsp.schema.model_provider import *  # noqa: F403
from dify_lsp.schema.references import MODEL, MODEL_POSITION
from dify_lsp.schema.tool import *  # noqa: F403
from dify_lsp.schema.trigger import *  # noqa: F403

SCHEMAS: dict[str, SchemaType] = {
    MANIFEST: MANIFEST_SCHEMA,
    TOOL_PROVIDER: TOOL_PROVIDER_SCHEMA,
    TOOL: TOOL_SCHEMA,
    AGENT_PROVIDER: AGENT_PROVIDER_SCHEMA,
    AGENT_STRATEGY: AGENT_STRATEGY_SCHEMA,
    ENDPOINT_GROUP: ENDPOINT_GROUP_SCHEMA,
    ENDPOINT: ENDPOINT_SCHEMA,
    MODEL_PROVIDER: MODEL_PROVIDER_SCHEMA,
    MODEL: MODEL_SCHEMA,
    MODEL_POSITION: MODEL_POSITION_SCHEMA,
    DATASOURCE_PROVIDER: DATASOURCE_PROVIDER_SCHEMA,
    DATASOURCE: DATASOURCE_SCHEMA,
    TRIGGER_PROVIDER: TRIGGER_PROVIDER_SCHEMA,
    TRIGGER_EVENT: TRIGGER_EVENT_SCHEMA,
}


# The top-level keys the daemon decodes into its Go structs (pkg/entities/plugin_entities/*_declaration.go,
# read by pkg/plugin_packager/decoder/helper.go with yaml.v3, which rejects a repeated key in every mapping
# it decodes).  No declaration has `extra`; a model provider's `models` is kept as a raw yaml.Node.
# None: every key of the schema.
DAEMON_DECODED_KEYS: dict[str, frozenset[str] | None] = {
    MANIFEST: None,
    TOOL_PROVIDER: frozenset({"identity", "credentials_for_provider", "credentials_schema", "oauth_schema", "tools"}),
    TOOL: frozenset({"identity", "description", "parameters", "output_schema", "has_runtime_parameters"}),
    ENDPOINT_GROUP: frozenset({"settings", "endpoints"}),
    ENDPOINT: frozenset({"path", "method", "hidden"}),
    AGENT_PROVIDER: frozenset({"identity", "strategies"}),
    AGENT_STRATEGY: frozenset({"identity", "description", "parameters", "output_schema", "features"}),
    DATASOURCE_PROVIDER: frozenset({"identity", "credentials_schema", "oauth_schema", "provider_type", "datasources"}),
    DATASOURCE: frozenset({"identity", "parameters", "description", "output_schema"}),
    TRIGGER_PROVIDER: frozenset({"identity", "subscription_schema", "subscription_constructor", "events"}),
    TRIGGER_EVENT: frozenset({"identity", "parameters", "description", "output_schema"}),
    MODEL_PROVIDER: frozenset({
        "provider", "label", "description", "icon_small", "icon_large", "icon_small_dark", "icon_large_dark", "background",
        "help", "supported_model_types", "configurate_methods", "provider_credential_schema", "model_credential_schema", "position",
    }),
    MODEL: frozenset({"model", "label", "model_type", "features", "fetch_from", "model_properties", "deprecated", "parameter_rules", "pricing"}),
    MODEL_POSITION: None,
}


def _stamp_since() -> None:
    """Give every key of the schemas the SDK release that introduced it (schema.since)."""
    from dify_lsp.schema.since import SINCE

    for obj_name, (_sdk_class, keys) in SINCE.items():
        obj = globals().get(obj_name)
        if not isinstance(obj, Obj):
            continue
        for fld in obj.fields:
            if fld.since is None and fld.name in keys:
                object.__setattr__(fld, "since", keys[fld.name])


_stamp_since()


def daemon_decodes(kind: str | None, path: list[str | int]) -> bool:
    """Does the daemon decode the mapping at ``path`` (so yaml.v3 checks it for repeated keys)?

    A mapping is decoded when every key on the way is one its structs know: a key the
    schema does not define, or `extra`, is skipped whole.  JSON-schema-like values
    (``output_schema``) are Go maps: everything under them is decoded.
    """
    if kind not in DAEMON_DECODED_KEYS:
        return False
    top = DAEMON_DECODED_KEYS[kind]
    if path and top is not None and path[0] not in top:
        return False
    t: SchemaType | None = schema_for(kind)
    for step in path:
        if t is None:
            return False
        if isinstance(t, Obj) and t.open and not t.fields:
            return True
        if isinstance(t, Obj) and isinstance(step, str) and t.field(step) is None and step not in t.aliases:
            return False
        t, _ = step_into(t, step)
    return t is not None


def schema_for(kind: str | None) -> SchemaType | None:
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


def all_fields() -> list[Field]:
    """Every field of every plugin file schema, each schema type visited once (shared types are walked
    once, so a field reachable from several kinds appears once)."""
    seen: set[int] = set()
    fields: list[Field] = []

    def walk(t: SchemaType) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        if isinstance(t, Obj):
            for f in t.fields:
                fields.append(f)
                walk(f.type)
        elif isinstance(t, ListOf):
            walk(t.item)
        elif isinstance(t, MapOf):
            walk(t.value)
        elif isinstance(t, Either):
            for option in t.options:
                walk(option)

    for schema in SCHEMAS.values():
        walk(schema)
    return fields

"""JSON Schemas of the plugin YAML files, generated from dify-lsp's own schema data.

For editors that use yaml-language-server (`dify-lsp schema --out DIR`) and for the benchmark, which gives
yaml-language-server the same knowledge dify-lsp has (keys, required keys, enums with their meanings,
patterns, bounds, docs).  The source of truth is :mod:`dify_lsp.schema.plugin_files`; nothing here is
hand-written per key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dify_lsp.schema.model import ANY, BOOLEAN, DATETIME, INTEGER, NUMBER, SCALAR, STRING, Either, Field, ListOf, MapOf, Obj, Scalar

_SCALAR_TYPES = {
    STRING: "string",
    INTEGER: "integer",
    NUMBER: "number",
    BOOLEAN: "boolean",
    DATETIME: "string",
}


def _type(t: Any, depth: int = 0) -> dict[str, Any]:
    if depth > 30:
        return {}
    if isinstance(t, Scalar):
        if t.kind == ANY:
            return {}
        if t.kind == SCALAR:
            return {"type": ["string", "number", "boolean"]}
        return {"type": _SCALAR_TYPES.get(t.kind, "string")}
    if isinstance(t, Obj):
        out: dict[str, Any] = {"type": "object", "properties": {f.name: _field(f, depth + 1) for f in t.fields}}
        if t.doc:
            out["description"] = t.doc
        required = [f.name for f in t.fields if f.required]
        if required:
            out["required"] = required
        if not t.open:
            out["additionalProperties"] = False
        return out
    if isinstance(t, ListOf):
        return {"type": "array", "items": _type(t.item, depth + 1)}
    if isinstance(t, MapOf):
        return {"type": "object", "additionalProperties": _type(t.value, depth + 1), "description": f"mapping of {t.key_doc}"}
    if isinstance(t, Either):
        return {"anyOf": [_type(o, depth + 1) for o in t.options]}
    return {}


def _field(f: Field, depth: int) -> dict[str, Any]:
    out = _type(f.type, depth)
    if f.doc:
        out["description"] = f.doc
    target = out.get("items") if isinstance(f.type, ListOf) and isinstance(out.get("items"), dict) else out
    if f.enum and not f.suggest_only:
        target["enum"] = list(f.enum)
        target["markdownEnumDescriptions"] = list(f.enum.values())
    elif f.enum:
        target["examples"] = list(f.enum)
    if f.pattern:
        target["pattern"] = f.pattern
        if f.pattern_doc:
            target["patternErrorMessage"] = f.pattern_doc
    if f.minimum is not None:
        target["minimum"] = f.minimum
    if f.maximum is not None:
        target["maximum"] = f.maximum
    if f.max_length is not None:
        target["maxLength"] = f.max_length
    if f.max_items is not None:
        out["maxItems"] = f.max_items
    if f.nullable and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    return out


def kinds() -> list[str]:
    """Every plugin YAML kind with a schema (manifest, tool_provider, tool, ...)."""
    from dify_lsp.schema.plugin_files import SCHEMAS

    return list(SCHEMAS)


def json_schema(kind: str) -> dict[str, Any]:
    from dify_lsp.schema.plugin_files import SCHEMAS

    schema = _type(SCHEMAS[kind])
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": f"Dify plugin {kind}", **schema}


# Where files of a kind are found in a plugin (for yaml-language-server's `yaml.schemas`); other kinds
# live wherever their provider YAML points, so they are used with a modeline instead.
GLOBS = {
    "manifest": ["**/manifest.yaml"],
    "tool_provider": ["**/provider/*.yaml"],
    "tool": ["**/tools/*.yaml"],
}


def schema_file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def write_schemas(folder: Path) -> list[Path]:
    """Write one ``<kind>.schema.json`` per kind into ``folder`` (created if missing); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds():
        path = folder / schema_file_name(kind)
        path.write_text(json.dumps(json_schema(kind), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def yaml_schemas_setting(folder: Path) -> dict[str, list[str]]:
    """yaml-language-server's `yaml.schemas` for the schemas in ``folder`` that have a fixed place."""
    return {(folder / schema_file_name(kind)).as_uri(): globs for kind, globs in GLOBS.items()}



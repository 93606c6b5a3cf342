"""JSON schemas for yaml-language-server in the benchmark: the ones `dify-lsp schema` writes
(:mod:`dify_lsp.schema_export`), limited to the kinds that have a fixed place in a plugin."""

from __future__ import annotations

from pathlib import Path

from dify_lsp.schema_export import GLOBS, json_schema, schema_file_name, yaml_schemas_setting

__all__ = ["json_schema", "write_schemas"]


def write_schemas(folder: Path) -> dict[str, list[str]]:
    """Write manifest, tool provider and tool schemas; return yaml-language-server's `yaml.schemas` setting."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    for kind in GLOBS:
        (folder / schema_file_name(kind)).write_text(json.dumps(json_schema(kind), indent=1), encoding="utf-8")
    return yaml_schemas_setting(folder)

"""Write the settings docs and editor configurations from dify_lsp.settings (the one list of settings).

    python scripts/update_settings_docs.py          # rewrite README.md, vscode-client/package.json, the Neovim config
    python scripts/update_settings_docs.py --check  # exit 1 when any of them is not what the model gives
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from dify_lsp.settings import DiagnosticsSettings, ServerSettings

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PACKAGE_JSON = REPO / "vscode-client" / "package.json"
NEOVIM = REPO / "editors" / "neovim" / "lsp" / "dify_lsp.lua"
CLIENT_FIRST = ("dify.server.path",)  # VS Code-only keys, kept where they are
NEOVIM_START = "  -- settings:start (generated from dify_lsp/settings.py by scripts/update_settings_docs.py)\n"
NEOVIM_END = "  -- settings:end\n"


def leaves(model: type[BaseModel] = ServerSettings, prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """(dotted camelCase key, field) of every setting; a nested settings object is walked into."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from leaves(field.annotation, key + ".")
        else:
            yield key, field


def default_of(field: FieldInfo) -> Any:
    return field.get_default(call_default_factory=True)


def extra(field: FieldInfo) -> dict[str, Any]:
    return dict(field.json_schema_extra or {}) if isinstance(field.json_schema_extra, dict) else {}


def _cell_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# -- README -------------------------------------------------------------------------------------------------------


def readme_rows() -> list[str]:
    rows = ["| key | default | meaning |", "|---|---|---|"]
    families = [f.alias or n for n, f in DiagnosticsSettings.model_fields.items()]
    family_done = False
    for key, field in leaves():
        if key.startswith("diagnostics."):
            if not family_done:
                names = ", ".join(f"`{f}`" for f in families)
                rows.append(f"| `diagnostics.<family>` | `true` | `false` turns a rule family off: {names} (the marketplace family has the `marketplace` setting) |")
                family_done = True
            continue
        unset = extra(field).get("unset")
        default = f"unset: {unset}" if unset else f"`{_cell_value(default_of(field))}`"
        rows.append(f"| `{key}` | {default} | {field.description} |")
    return rows


def render_readme(text: str) -> str:
    head, rest = text.split("\n### Settings\n", 1)
    section, tail = rest.split("\n## ", 1)
    lines = section.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| key |"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = readme_rows()
    return head + "\n### Settings\n" + "\n".join(lines) + "\n## " + tail


# -- VS Code --------------------------------------------------------------------------------------------------------


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return _json_type(args[0])
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": {"type": "string"}}
    if origin is dict:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    return {bool: {"type": "boolean"}, int: {"type": "number"}, float: {"type": "number"}, str: {"type": "string"}}[annotation]


def vscode_property(field: FieldInfo) -> dict[str, Any]:
    prop = _json_type(field.annotation)
    default = default_of(field)
    prop["default"] = "" if default is None and prop["type"] == "string" else default
    for meta in field.metadata:
        if getattr(meta, "ge", None) is not None:
            prop["minimum"] = meta.ge
        if getattr(meta, "le", None) is not None:
            prop["maximum"] = meta.le
    description = field.description or ""
    unset = extra(field).get("unset")
    if unset:
        description += f" Unset: {unset}."
    vscode = dict(extra(field).get("vscode", {}))
    note = vscode.pop("note", None)  # what the VS Code client itself does with the value
    prop["markdownDescription"] = f"{description} {note}" if note else description
    prop.update(vscode)
    order = ("type", "enum", "enumDescriptions", "items", "additionalProperties", "default", "minimum", "maximum", "scope", "markdownDescription")
    return {k: prop[k] for k in order if k in prop}


def render_package_json(text: str) -> str:
    data = json.loads(text)
    props: dict[str, Any] = data["contributes"]["configuration"]["properties"]
    server_keys = {f"dify.{key}" for key, _ in leaves()}
    first = {k: v for k, v in props.items() if k in CLIENT_FIRST}
    last = {k: v for k, v in props.items() if k not in CLIENT_FIRST and k not in server_keys and not _is_server_key(k)}
    data["contributes"]["configuration"]["properties"] = {
        **first,
        **{f"dify.{key}": vscode_property(field) for key, field in leaves()},
        **last,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _is_server_key(key: str) -> bool:
    top = key.removeprefix("dify.").split(".")[0]
    return top in {f.alias or n for n, f in ServerSettings.model_fields.items()}


# -- Neovim ---------------------------------------------------------------------------------------------------------


def _lua(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "{ " + ", ".join(_lua(v) for v in value) + " }" if value else "{}"
    if isinstance(value, dict):
        items = [f"{k if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', k) else '[' + _lua(k) + ']'} = {_lua(v)}" for k, v in value.items()]
        return "{ " + ", ".join(items) + " }"
    raise TypeError(value)


def _lua_table(model: type[BaseModel], indent: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out.append(f"{indent}{key} = {{")
            out.extend(_lua_table(field.annotation, indent + "  "))
            out.append(f"{indent}}},")
            continue
        default = default_of(field)
        if default is None:
            out.append(f"{indent}-- {key} = nil, -- unset: {extra(field).get('unset')}")
        else:
            out.append(f"{indent}{key} = {_lua(default)},")
    return out


def neovim_block() -> str:
    lines = ["  settings = {", "    dify = {", *_lua_table(ServerSettings, "      "), "    },", "  },"]
    return NEOVIM_START + "\n".join(lines) + "\n" + NEOVIM_END


def render_neovim(text: str) -> str:
    if NEOVIM_START in text:
        head, rest = text.split(NEOVIM_START, 1)
        _, tail = rest.split(NEOVIM_END, 1)
    else:  # the first time: the hand-written settings table is replaced
        head, rest = text.split("  settings = {\n", 1)
        tail = rest.split("\n  },\n", 1)[1]
    return head + neovim_block() + tail


TARGETS = ((README, render_readme), (PACKAGE_JSON, render_package_json), (NEOVIM, render_neovim))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, render in TARGETS:
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            stale.append(path.relative_to(REPO).as_posix())
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print("not generated from dify_lsp/settings.py: " + ", ".join(stale) + " (run python scripts/update_settings_docs.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Tool declarations and saved invocation files.

Reads a plugin's manifest -> tool provider YAMLs -> tool YAMLs through
:class:`~dify_lsp.index.PluginIndex` (no plugin code).  The values of a run are filled and converted in one place
for every kind: :mod:`dify_lsp.invocation.forms`, called by :func:`dify_lsp.invocation.kinds.prepare`.

A saved invocation file ``<plugin>/.dify/invocations/<tool>.yaml`` makes a run
repeatable::

    parameters: {prompt: "Hello"}
    credentials: {api_key: "sk-..."}        # provider credentials
    models: {model: {provider: openai, model: gpt-4o-mini}}   # model-selector choices
    responses:                              # canned answers of the mock backend
      app: {answer: "..."}
      tool: [{type: text, message: {text: "..."}}]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from dify_lsp.index import CONTENTS, Plugin, PluginIndex
from dify_lsp.schema.references import PYTHON, TOOL, TOOL_PROVIDER

INVOCATIONS_DIR = Path(".dify") / "invocations"
SECRET_TYPE = "secret-input"


class InvocationError(Exception):
    """A usage problem: unknown tool, invalid parameters, unreadable files."""


@dataclass
class ToolInfo:
    provider: str
    tool: str
    yaml_path: Path
    python_path: Path | None
    provider_yaml: Path
    parameters: list[dict[str, Any]] = field(default_factory=list)
    credentials_schema: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parameter(self, name: str) -> dict[str, Any] | None:
        for p in self.parameters:
            if p.get("name") == name:
                return p
        return None

    def describe(self) -> dict[str, Any]:
        out = []
        for p in self.parameters:
            row: dict[str, Any] = {
                "name": p.get("name"),
                "type": p.get("type"),
                "required": bool(p.get("required")),
                "form": p.get("form"),
            }
            if p.get("scope") is not None:
                row["scope"] = p.get("scope")
            if p.get("options"):
                row["options"] = [o.get("value") for o in p["options"] if isinstance(o, Mapping)]
            if p.get("default") is not None:
                row["default"] = p.get("default")
            out.append(row)
        return {
            "provider": self.provider,
            "tool": self.tool,
            "yaml_uri": self.yaml_path.as_uri(),
            "python_uri": self.python_path.as_uri() if self.python_path else None,
            "parameters": out,
        }


def yaml_data(yf: Any) -> Any:
    """A YAML file of the index as plain Python data (None when unreadable)."""
    if yf is None or CONTENTS.doc(yf) is None or CONTENTS.root(yf) is None:
        return None
    try:
        return CONTENTS.doc(yf).to_python()
    except ValueError:
        return None


def read_plugin(plugin_root: Path, index: PluginIndex | None = None) -> Plugin:
    """The plugin as :class:`PluginIndex` reads it (the same reading the checker and the editor use).

    A fresh index reads the files on disk: a run executes the code on disk, not unsaved editor text.
    """
    return (index or PluginIndex()).plugin_at(plugin_root)


def load_manifest(plugin_root: Path, plugin: Plugin | None = None) -> dict[str, Any]:
    plugin = plugin or read_plugin(plugin_root)
    data = yaml_data(plugin.manifest)
    if not isinstance(data, dict):
        raise InvocationError(f"{plugin_root}: manifest.yaml is missing or not a YAML mapping")
    return data


def entrypoint(manifest: Mapping[str, Any]) -> str:
    try:
        value = manifest["meta"]["runner"]["entrypoint"]
    except (KeyError, TypeError):
        value = None
    return value if isinstance(value, str) and value else "main"


def discover_tools(plugin_root: Path, manifest: Mapping[str, Any] | None = None, plugin: Plugin | None = None) -> list[ToolInfo]:
    """Every tool of every tool provider the manifest lists, in the manifest's order (unreadable files skipped).

    ``manifest`` is accepted for callers that already hold it; the plugin is read through :class:`PluginIndex`.
    """
    del manifest
    plugin = plugin or read_plugin(plugin_root)
    if CONTENTS.doc(plugin.manifest) is None:
        raise InvocationError(f"{plugin_root}: manifest.yaml is missing or not a YAML mapping")
    found: list[ToolInfo] = []
    for pref in plugin.refs_from(plugin.manifest.path):
        if pref.target_kind != TOOL_PROVIDER or pref.target is None or pref.escapes:
            continue
        pdata = yaml_data(plugin.yaml_files.get(pref.target))
        if not isinstance(pdata, Mapping):
            continue
        identity = pdata.get("identity") if isinstance(pdata.get("identity"), Mapping) else {}
        provider = identity.get("name") or pref.target.stem
        creds = pdata.get("credentials_for_provider") or pdata.get("credentials_schema") or {}
        if isinstance(creds, list):  # list form: [{name: ..., type: ...}]
            creds = {c.get("name"): c for c in creds if isinstance(c, Mapping) and c.get("name")}
        for tref in plugin.refs_from(pref.target):
            if tref.target_kind != TOOL or tref.target is None or tref.escapes:
                continue
            tdata = yaml_data(plugin.yaml_files.get(tref.target))
            if not isinstance(tdata, Mapping):
                continue
            tid = tdata.get("identity") if isinstance(tdata.get("identity"), Mapping) else {}
            name = tid.get("name") or tref.target.stem
            params = tdata.get("parameters") or []
            source = next((r.target for r in plugin.refs_from(tref.target)
                           if r.target_kind == PYTHON and r.target is not None and not r.escapes), None)
            found.append(
                ToolInfo(
                    provider=str(provider),
                    tool=str(name),
                    yaml_path=tref.target,
                    python_path=source,
                    provider_yaml=pref.target,
                    parameters=[p for p in params if isinstance(p, dict)] if isinstance(params, list) else [],
                    credentials_schema={str(k): v for k, v in creds.items() if isinstance(v, Mapping)}
                    if isinstance(creds, Mapping)
                    else {},
                )
            )
    return found


def select_tool(
    tools: list[ToolInfo], tool: str | None = None, provider: str | None = None, path: Path | None = None
) -> ToolInfo:
    """The tool a run is about: by name (and provider), or by its YAML / Python file."""
    cands = tools
    if provider:
        cands = [t for t in cands if t.provider == provider]
    if tool:
        cands = [t for t in cands if t.tool == tool]
    elif path is not None:
        rp = path.resolve()
        cands = [t for t in cands if rp in (t.yaml_path, t.python_path)]
    names = ", ".join(f"{t.provider}/{t.tool}" for t in tools) or "none"
    if not cands:
        what = f"tool `{tool}`" if tool else (f"a tool for {path}" if path else "a tool")
        raise InvocationError(f"{what} not found{' in provider `' + provider + '`' if provider else ''}; tools: {names}")
    if len(cands) > 1:
        raise InvocationError(f"several tools match, pass --tool/--provider: {', '.join(f'{t.provider}/{t.tool}' for t in cands)}")
    return cands[0]


# -- invocation files -----------------------------------------------------------

INVOCATION_KEYS = ("parameters", "credentials", "models", "responses", "backend", "timeout")


@dataclass
class InvocationFile:
    parameters: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None
    timeout: float | None = None
    path: Path | None = None

    def merged(self, other: "InvocationFile") -> "InvocationFile":
        """``other`` over ``self``."""
        return InvocationFile(
            parameters={**self.parameters, **other.parameters},
            credentials={**self.credentials, **other.credentials},
            models={**self.models, **other.models},
            responses={**self.responses, **other.responses},
            backend=other.backend or self.backend,
            timeout=other.timeout if other.timeout is not None else self.timeout,
            path=other.path or self.path,
        )


def invocation_path(plugin_root: Path, tool: str) -> Path:
    return plugin_root / INVOCATIONS_DIR / f"{tool}.yaml"


def parse_invocation(data: Any, path: Path | None = None, plain_parameters: bool = False) -> InvocationFile:
    """An invocation mapping; with ``plain_parameters`` a mapping without known keys is the parameters."""
    if data is None:
        return InvocationFile(path=path)
    if not isinstance(data, Mapping):
        raise InvocationError(f"{path or 'parameters'}: expected a mapping, got {type(data).__name__}")
    if plain_parameters and not any(k in data for k in INVOCATION_KEYS):
        return InvocationFile(parameters=dict(data), path=path)
    unknown = [k for k in data if k not in INVOCATION_KEYS]
    if unknown:
        raise InvocationError(f"{path or 'invocation'}: unknown keys {', '.join(map(str, unknown))} (known: {', '.join(INVOCATION_KEYS)})")
    out = InvocationFile(path=path)
    for key in ("parameters", "credentials", "models", "responses"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise InvocationError(f"{path or 'invocation'}: `{key}` must be a mapping")
        setattr(out, key, dict(value))
    if data.get("backend") is not None:
        out.backend = str(data["backend"])
    if data.get("timeout") is not None:
        try:
            out.timeout = float(data["timeout"])
        except (TypeError, ValueError):
            raise InvocationError(f"{path or 'invocation'}: `timeout` must be a number") from None
    return out


def read_invocation_file(path: Path, plain_parameters: bool = False) -> InvocationFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvocationError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvocationError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    return parse_invocation(data, path, plain_parameters)


def load_saved_invocation(plugin_root: Path, tool: str) -> InvocationFile:
    path = invocation_path(plugin_root, tool)
    return read_invocation_file(path) if path.is_file() else InvocationFile()


CREDENTIAL_TYPES = {"api-key": "api-key", "api_key": "api-key", "oauth": "oauth2", "oauth2": "oauth2"}


class MissingCredentialsError(InvocationError):
    """Required provider credentials were not given; ``missing`` describes each (for an editor to ask)."""

    def __init__(self, message: str, missing: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.missing = missing

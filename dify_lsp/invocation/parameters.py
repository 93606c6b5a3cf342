"""Tool declarations, parameter validation and saved invocation files.

Reads a plugin's manifest -> tool provider YAMLs -> tool YAMLs (plain YAML, no
plugin code), validates the parameters of a run against the tool YAML and
fills the gaps the way Dify's UI would (declared defaults; an empty
model-selector gets the backend's default model for its scope).

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


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def load_manifest(plugin_root: Path) -> dict[str, Any]:
    data = _load_yaml(plugin_root / "manifest.yaml")
    if not isinstance(data, dict):
        raise InvocationError(f"{plugin_root}: manifest.yaml is missing or not a YAML mapping")
    return data


def entrypoint(manifest: Mapping[str, Any]) -> str:
    try:
        value = manifest["meta"]["runner"]["entrypoint"]
    except (KeyError, TypeError):
        value = None
    return value if isinstance(value, str) and value else "main"


def discover_tools(plugin_root: Path, manifest: Mapping[str, Any] | None = None) -> list[ToolInfo]:
    """Every tool of every tool provider the manifest lists (unreadable files are skipped)."""
    manifest = manifest if manifest is not None else load_manifest(plugin_root)
    plugins = manifest.get("plugins") if isinstance(manifest, Mapping) else None
    providers = plugins.get("tools") if isinstance(plugins, Mapping) else None
    found: list[ToolInfo] = []
    for rel in providers if isinstance(providers, list) else []:
        if not isinstance(rel, str):
            continue
        provider_yaml = plugin_root / rel
        pdata = _load_yaml(provider_yaml)
        if not isinstance(pdata, Mapping):
            continue
        identity = pdata.get("identity") if isinstance(pdata.get("identity"), Mapping) else {}
        provider = identity.get("name") or provider_yaml.stem
        creds = pdata.get("credentials_for_provider") or pdata.get("credentials_schema") or {}
        if isinstance(creds, list):  # list form: [{name: ..., type: ...}]
            creds = {c.get("name"): c for c in creds if isinstance(c, Mapping) and c.get("name")}
        for trel in pdata.get("tools") or []:
            if not isinstance(trel, str):
                continue
            tool_yaml = plugin_root / trel
            tdata = _load_yaml(tool_yaml)
            if not isinstance(tdata, Mapping):
                continue
            tid = tdata.get("identity") if isinstance(tdata.get("identity"), Mapping) else {}
            name = tid.get("name") or tool_yaml.stem
            params = tdata.get("parameters") or []
            source = None
            extra = tdata.get("extra")
            if isinstance(extra, Mapping) and isinstance(extra.get("python"), Mapping):
                src = extra["python"].get("source")
                if isinstance(src, str):
                    source = plugin_root / src
            found.append(
                ToolInfo(
                    provider=str(provider),
                    tool=str(name),
                    yaml_path=tool_yaml.resolve(),
                    python_path=source.resolve() if source else None,
                    provider_yaml=provider_yaml.resolve(),
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


# -- parameter values -------------------------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_LLM_SCOPES = {"llm", "tool-call", "vision", "document"}


def model_type_for_scope(scope: str | None) -> str:
    """The model type a model-selector scope asks for (``tool-call&llm`` -> llm)."""
    parts = [p.strip() for p in (scope or "llm").split("&") if p.strip()]
    for p in parts:
        if p in ("text-embedding", "rerank", "tts", "speech2text", "moderation"):
            return p
    return "llm"


def _coerce(param: Mapping[str, Any], value: Any) -> Any:
    """A CLI/JSON value as the declared type expects; raises ValueError with a reason."""
    ptype = param.get("type")
    if ptype == "number":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        if isinstance(value, (int, float)):
            number = value
        else:
            text = str(value).strip()
            try:
                number = int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    raise ValueError(f"expected a number, got {value!r}") from None
        lo, hi = param.get("min"), param.get("max")
        if isinstance(lo, (int, float)) and number < lo:
            raise ValueError(f"{number} is below the minimum {lo}")
        if isinstance(hi, (int, float)) and number > hi:
            raise ValueError(f"{number} is above the maximum {hi}")
        return number
    if ptype in ("boolean", "checkbox"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if ptype in ("select", "dynamic-select"):
        multiple = bool(param.get("multiple"))
        values = value if isinstance(value, list) else ([v.strip() for v in str(value).split(",")] if multiple else [value])
        options = [o.get("value") for o in param.get("options") or [] if isinstance(o, Mapping)]
        if options and ptype == "select":
            for v in values:
                if str(v) not in [str(o) for o in options]:
                    raise ValueError(f"{v!r} is not one of the options: {', '.join(map(str, options))}")
        return values if multiple else values[0]
    if ptype in ("object", "array", "file", "files", "app-selector", "model-selector", "any") and isinstance(value, str):
        text = value.strip()
        if ptype == "model-selector" and text and text[0] not in "{[":
            provider, _, model = text.partition("/")
            if not model:
                raise ValueError("expected provider/model or a JSON object")
            return {"provider": provider, "model": model}
        if ptype == "any" and (not text or text[0] not in "{[\""):
            return value
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"expected JSON, got {value!r}") from None
    if ptype in ("string", "secret-input", "date", "text-input") and not isinstance(value, str):
        return value if value is None else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    return value


@dataclass
class PreparedParameters:
    values: dict[str, Any]
    secrets: list[str]
    warnings: list[str]


def prepare_parameters(
    tool: ToolInfo,
    given: Mapping[str, Any],
    models: Mapping[str, Any] | None = None,
    default_model=None,
) -> PreparedParameters:
    """Validate ``given`` against the tool YAML and complete it.

    ``default_model(model_type) -> dict`` supplies the backend's model for a
    model-selector left empty.  Raises InvocationError listing every problem.
    """
    errors: list[str] = []
    warnings: list[str] = []
    secrets: list[str] = []
    values: dict[str, Any] = {}
    declared = {p.get("name"): p for p in tool.parameters if p.get("name")}
    for name in given:
        if name not in declared:
            warnings.append(
                f"parameter `{name}` is not declared in {tool.yaml_path.name}; it is passed on, but Dify only sends declared parameters"
            )
            values[name] = given[name]
    for name, param in declared.items():
        raw = given.get(name)
        if raw is None and models and name in models:
            raw = models[name]
        if raw is None or raw == "":
            raw = param.get("default")
        ptype = param.get("type")
        if (raw is None or raw == "" or raw == {}) and ptype == "model-selector" and default_model is not None:
            raw = default_model(model_type_for_scope(param.get("scope")))
        if raw is None or raw == "":
            if param.get("required"):
                errors.append(f"parameter `{name}` ({ptype}) is required")
            continue
        try:
            value = _coerce(param, raw)
        except ValueError as exc:
            errors.append(f"parameter `{name}` ({ptype}): {exc}")
            continue
        if ptype == "model-selector" and isinstance(value, Mapping) and default_model is not None:
            # complete a partial choice ({provider, model}) with the fields the SDK's configs need
            base = default_model(model_type_for_scope(param.get("scope")))
            value = {**base, **value}
        if ptype == SECRET_TYPE and isinstance(value, str) and value:
            secrets.append(value)
        values[name] = value
    if errors:
        raise InvocationError("; ".join(errors))
    return PreparedParameters(values, secrets, warnings)


def credential_secrets(tool: ToolInfo, credentials: Mapping[str, Any]) -> list[str]:
    """Credential values to mask: all of them (a credential is a secret even when typed text-input)."""
    out = []
    for value in credentials.values():
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(str(value))
    return out

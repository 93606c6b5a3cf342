"""Tool declarations, parameter validation and saved invocation files.

Reads a plugin's manifest -> tool provider YAMLs -> tool YAMLs through
:class:`~dify_lsp.index.PluginIndex` (no plugin code), validates the parameters of a run against the tool YAML and
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

from dify_lsp.index import Plugin, PluginIndex
from dify_lsp.schema.references import ICON, KIND_TITLES, PYTHON, TOOL, TOOL_PROVIDER

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


def _plain(yf: Any) -> Any:
    """A YAML file of the index as plain Python data (None when unreadable)."""
    if yf is None or yf.doc is None or yf.root is None:
        return None
    try:
        return yf.doc.to_python()
    except ValueError:
        return None


def read_plugin(plugin_root: Path, index: PluginIndex | None = None) -> Plugin:
    """The plugin as :class:`PluginIndex` reads it (the same reading the checker and the editor use).

    A fresh index reads the files on disk: a run executes the code on disk, not unsaved editor text.
    """
    return (index or PluginIndex()).plugin_at(plugin_root)


def load_manifest(plugin_root: Path, plugin: Plugin | None = None) -> dict[str, Any]:
    plugin = plugin or read_plugin(plugin_root)
    data = _plain(plugin.manifest)
    if not isinstance(data, dict):
        raise InvocationError(f"{plugin_root}: manifest.yaml is missing or not a YAML mapping")
    return data


def entrypoint(manifest: Mapping[str, Any]) -> str:
    try:
        value = manifest["meta"]["runner"]["entrypoint"]
    except (KeyError, TypeError):
        value = None
    return value if isinstance(value, str) and value else "main"


def declared_kinds(plugin: Plugin) -> list[str]:
    """The kinds of provider the manifest lists (tool_provider, model_provider, endpoint_group, ...), in order."""
    out: list[str] = []
    for ref in plugin.refs_from(plugin.manifest.path):
        if ref.target_kind != ICON and ref.target_kind not in out:
            out.append(ref.target_kind)
    return out


def unsupported_kinds_message(plugin: Plugin) -> str | None:
    """Why ``run`` has nothing to run in a plugin without tools, or None when it has tools."""
    kinds = declared_kinds(plugin)
    if TOOL_PROVIDER in kinds:
        return None
    if not kinds:
        return "the manifest lists no plugins (plugins.tools, models, endpoints, ...): there is nothing to run"
    titles = ", ".join(KIND_TITLES.get(k, k) + "s" for k in kinds)
    return f"this plugin declares {titles} and no tools; `run` does not run that kind of plugin yet"


def discover_tools(plugin_root: Path, manifest: Mapping[str, Any] | None = None, plugin: Plugin | None = None) -> list[ToolInfo]:
    """Every tool of every tool provider the manifest lists, in the manifest's order (unreadable files skipped).

    ``manifest`` is accepted for callers that already hold it; the plugin is read through :class:`PluginIndex`.
    """
    del manifest
    plugin = plugin or read_plugin(plugin_root)
    if plugin.manifest.doc is None:
        raise InvocationError(f"{plugin_root}: manifest.yaml is missing or not a YAML mapping")
    found: list[ToolInfo] = []
    for pref in plugin.refs_from(plugin.manifest.path):
        if pref.target_kind != TOOL_PROVIDER or pref.target is None or pref.escapes:
            continue
        pdata = _plain(plugin.yaml_files.get(pref.target))
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
            tdata = _plain(plugin.yaml_files.get(tref.target))
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


@dataclass(frozen=True)
class LocalFile:
    """A file parameter given as a local path; the run serves it and hands the plugin a Dify file object."""

    path: Path


def _local_file(value: Any, base: Path | None = None) -> LocalFile:
    """A local path: as given (relative to the working directory), else relative to ``base`` (the plugin root,
    where an invocation file's or an editor's relative paths point)."""
    if isinstance(value, LocalFile):
        return value
    path = Path(str(value)).expanduser()
    if not path.is_file() and base is not None and not path.is_absolute() and (base / path).is_file():
        path = base / path
    if not path.is_file():
        raise ValueError(f"{value!r} is not a file (give a local path; it is served to the plugin for the run)")
    return LocalFile(path.resolve())


def _is_path_text(value: Any) -> bool:
    return isinstance(value, (str, Path)) and not str(value).strip().startswith(("{", "["))


def _coerce(param: Mapping[str, Any], value: Any, file_base: Path | None = None) -> Any:
    """A CLI/JSON value as the declared type expects; raises ValueError with a reason."""
    ptype = param.get("type")
    if ptype == "file" and (_is_path_text(value) or isinstance(value, LocalFile)):
        return _local_file(value, file_base)
    if ptype == "files" and (_is_path_text(value) or isinstance(value, LocalFile)):
        return [_local_file(value, file_base)]
    if ptype == "files" and isinstance(value, list) and value and all(_is_path_text(v) or isinstance(v, LocalFile) for v in value):
        return [_local_file(v, file_base) for v in value]
    if ptype == "file" and isinstance(value, list):
        raise ValueError("takes one file (the parameter type is `file`, not `files`)")
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
    file_base: Path | None = None,
) -> PreparedParameters:
    """Validate ``given`` against the tool YAML and complete it.

    ``default_model(model_type) -> dict`` supplies the backend's model for a
    model-selector left empty.  A ``file``/``files`` value given as a path becomes a
    :class:`LocalFile` (relative paths: the working directory, else ``file_base``).
    Raises InvocationError listing every problem.
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
            value = _coerce(param, raw, file_base)
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


CREDENTIAL_TYPES = {"api-key": "api-key", "api_key": "api-key", "oauth": "oauth2", "oauth2": "oauth2"}


class MissingCredentialsError(InvocationError):
    """Required provider credentials were not given; ``missing`` describes each (for an editor to ask)."""

    def __init__(self, message: str, missing: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class PreparedCredentials:
    values: dict[str, Any]
    secrets: list[str]
    warnings: list[str]


def _label(field_schema: Mapping[str, Any], name: str) -> str:
    label = field_schema.get("label")
    if isinstance(label, Mapping):
        return str(label.get("en_US") or next(iter(label.values()), name))
    return str(label or name)


def prepare_credentials(tool: ToolInfo, given: Mapping[str, Any], credential_type: str = "api-key") -> PreparedCredentials:
    """Provider credentials as Dify stores them: declared ``default:`` values filled in, required ones enforced.

    Dify will not save a provider's credentials while a required one is empty, so a run without it is refused
    (:class:`MissingCredentialsError`).  Undeclared names are passed on with a warning (Dify's form only holds
    declared fields).  With OAuth credentials (``credential_type`` oauth2) the provider's
    ``oauth_schema.credentials_schema`` applies instead, which dify-lsp does not model: nothing is enforced.
    """
    values: dict[str, Any] = {}
    warnings: list[str] = []
    schema = tool.credentials_schema
    for name, value in given.items():
        if name not in schema:
            declared = ", ".join(schema) or "none"
            warnings.append(f"credential `{name}` is not declared in {tool.provider_yaml.name} "
                            f"(credentials_for_provider: {declared}); it is passed on, but Dify only stores declared ones")
        values[name] = value
    missing: list[dict[str, Any]] = []
    enforce = CREDENTIAL_TYPES.get(credential_type, credential_type) == "api-key"
    for name, field_schema in schema.items():
        value = values.get(name)
        if (value is None or value == "") and field_schema.get("default") not in (None, ""):
            value = values[name] = field_schema["default"]
        if (value is None or value == "") and field_schema.get("required") and enforce:
            missing.append({"name": name, "type": field_schema.get("type"), "label": _label(field_schema, name),
                            "secret": field_schema.get("type") == SECRET_TYPE})
    if missing:
        names = ", ".join(f"`{m['name']}` ({m['type']})" for m in missing)
        flags = " ".join(f"--credential {m['name']}=..." for m in missing)
        raise MissingCredentialsError(
            f"missing required credential{'s' if len(missing) > 1 else ''} of provider `{tool.provider}`: {names}; "
            f"Dify does not let a provider be used without them. Pass {flags}", missing)
    return PreparedCredentials(values, credential_secrets(tool, values), warnings)


def credential_secrets(tool: ToolInfo, credentials: Mapping[str, Any]) -> list[str]:
    """The values of ``secret-input`` credentials (the only credentials masked: a region is not a secret)."""
    out = []
    for name, value in credentials.items():
        schema = tool.credentials_schema.get(name)
        if schema is not None and schema.get("type") != SECRET_TYPE:
            continue
        if schema is None and not isinstance(value, str):
            continue
        # an undeclared credential counts as secret: nothing says it is not
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(str(value))
    return out

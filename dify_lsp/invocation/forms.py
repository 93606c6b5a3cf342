"""Declared forms filled and converted as Dify fills them: parameters, settings and credentials of every kind.

One path for every form a run takes values for: a tool's parameters and its provider's ``credentials_for_provider``,
an endpoint group's ``settings``, an agent strategy's, datasource's or trigger event's ``parameters``, a model
provider's ``provider_credential_schema`` / ``model_credential_schema``, a datasource provider's
``credentials_schema`` and a trigger's ``subscription_constructor`` (``credentials_schema``, ``parameters``) and
``subscription_schema``.

:func:`fill` does what Dify's form does before the plugin ever sees the values:

- a value left out (or empty) gets the field's declared ``default`` (Dify's ``_validate_credential_form_schema``
  fills model credentials the same way: ``mode: chat``, ``context_size: 4096``...);
- a required field still empty is *missing*; the caller stops before the plugin starts (exit 2);
- a field whose ``show_on`` conditions do not hold is neither filled nor required (Dify hides it);
- a value is converted to its declared type (:func:`convert`); one that cannot be is an error naming the field;
- a name the form does not declare is passed on with a warning;
- ``secret-input`` values are collected so every output can mask them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from dify_lsp.i18n import Message, msg

SECRET = "secret-input"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
MODEL_TYPES = ("llm", "text-embedding", "rerank", "tts", "speech2text", "moderation")

DefaultModel = Callable[[str], dict[str, Any]]
ToolLookup = Callable[[str], dict[str, Any]]  # "provider/tool" -> the tool's YAML data and provider name


class FormError(Exception):
    """Values that cannot be used: conversion errors (``errors``) and missing required fields (``missing``)."""

    def __init__(self, message: str, errors: list[str], missing: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors
        self.missing = missing


@dataclass(frozen=True)
class LocalFile:
    """A file parameter given as a local path; the run serves it and hands the plugin a Dify file object."""

    path: Path


@dataclass
class Converters:
    """What conversions need from the run: the backend's models, the plugin folder, local tool declarations."""

    default_model: DefaultModel | None = None
    file_base: Path | None = None
    tool_lookup: ToolLookup | None = None


@dataclass
class Filled:
    values: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)  # {"name", "label", "type", "secret", "form"}

    def merge(self, other: "Filled") -> "Filled":
        self.secrets += other.secrets
        self.warnings += other.warnings
        self.errors += other.errors
        self.missing += other.missing
        return self


def fields_of(schema: Any) -> list[dict[str, Any]]:
    """A form's fields, each with ``name``: from a list of fields (``name`` or ``variable``) or a name mapping."""
    out: list[dict[str, Any]] = []
    if isinstance(schema, Mapping):
        if isinstance(schema.get("credential_form_schemas"), list):
            return fields_of(schema["credential_form_schemas"])
        for name, f in schema.items():
            if isinstance(f, Mapping):
                out.append({**f, "name": str(f.get("name") or name)})
    elif isinstance(schema, list):
        for f in schema:
            if isinstance(f, Mapping) and (f.get("name") or f.get("variable")):
                out.append({**f, "name": str(f.get("name") or f.get("variable"))})
    return out


def label_of(f: Mapping[str, Any]) -> str:
    label = f.get("label")
    if isinstance(label, Mapping):
        return str(label.get("en_US") or next(iter(label.values()), f.get("name")))
    return str(label or f.get("name"))


def model_type_for_scope(scope: str | None) -> str:
    """The model type a model-selector scope asks for (``tool-call&llm`` -> llm)."""
    for part in (p.strip() for p in str(scope or "llm").split("&")):
        if part in MODEL_TYPES[1:]:
            return part
    return "llm"


def _shown(f: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    conditions = f.get("show_on")
    if not isinstance(conditions, list):
        return True
    for cond in conditions:
        if isinstance(cond, Mapping) and cond.get("variable") and str(values.get(cond["variable"])) != str(cond.get("value")):
            return False
    return True


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def fill(form: Any, given: Mapping[str, Any], *, what: Message, where: str, conv: Converters | None = None,
         context: Mapping[str, Any] | None = None, models: Mapping[str, Any] | None = None,
         fill_models: bool = True) -> Filled:
    """``given`` completed and converted against the declared ``form``.

    ``what`` names a field for people (``parameter``, ``setting``, ``credential``...), ``where`` the file that
    declares them (for warnings).  ``context`` holds values ``show_on`` conditions may name that are not fields of
    this form (a model's ``__model_type``).  Nothing raises: problems are in ``errors`` and ``missing``.
    """
    conv = conv or Converters()
    what = what if isinstance(what, Message) else Message(what)
    fields = fields_of(form)
    declared = {f["name"]: f for f in fields}
    out = Filled()
    for name, value in given.items():
        if name not in declared:
            out.warnings.append(msg("{what} `{name}` is not declared in {where}; it is passed on, but Dify only "
                                    "sends declared ones", what=what, name=name, where=where))
            out.values[name] = value
    seen: dict[str, Any] = {**(context or {}), **given}
    for f in fields:
        name, ftype = f["name"], str(f.get("type") or "string")
        if not _shown(f, seen):
            continue
        raw = given.get(name)
        if _empty(raw) and models and name in models:
            raw = models[name]
        if _empty(raw) and not _empty(f.get("default")):
            raw = f["default"]
        if _empty(raw) and ftype == "model-selector" and fill_models and conv.default_model is not None:
            raw = conv.default_model(model_type_for_scope(f.get("scope")))
        if _empty(raw):
            if f.get("required") and ftype != "array[tools]":
                out.missing.append({"name": name, "label": label_of(f), "type": ftype, "secret": ftype == SECRET})
            continue
        try:
            value = convert(f, raw, conv)
        except ValueError as exc:
            out.errors.append(msg("{what} `{name}` ({type}): {reason}", what=what, name=name, type=ftype,
                                  reason=exc.args[0] if exc.args else str(exc)))
            continue
        seen[name] = value
        out.values[name] = value
        if ftype == SECRET and isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            out.secrets.append(str(value))
    return out


def raise_problems(filled: Filled, *, what_missing: Message) -> None:
    """Stop with a usage error when values could not be converted or required ones are missing."""
    if filled.errors:
        raise FormError("; ".join(filled.errors), filled.errors, filled.missing)
    if filled.missing:
        names = ", ".join(f"`{m['name']}` ({m['type']})" for m in filled.missing)
        raise FormError(msg("{what}: {names}", what=what_missing, names=names), [], filled.missing)


# -- conversion ----------------------------------------------------------------------------------------------


def local_file(value: Any, base: Path | None = None) -> LocalFile:
    """A local path: as given (relative to the working directory), else relative to ``base`` (the plugin folder,
    where an invocation file's or an editor's relative paths point)."""
    if isinstance(value, LocalFile):
        return value
    path = Path(str(value)).expanduser()
    if not path.is_file() and base is not None and not path.is_absolute() and (base / path).is_file():
        path = base / path
    if not path.is_file():
        raise ValueError(msg("{value} is not a file (give a local path; it is served to the plugin for the run)",
                             value=repr(value)))
    return LocalFile(path.resolve())


def _path_text(value: Any) -> bool:
    return isinstance(value, (str, Path)) and not str(value).strip().startswith(("{", "["))


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(msg("expected JSON, got {value}", value=repr(value))) from None


def _number(f: Mapping[str, Any], value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(msg("expected a number, got {value}", value=repr(value)))
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(msg("expected a number, got {value}", value=repr(value))) from None
    lo, hi = f.get("min"), f.get("max")
    if isinstance(lo, (int, float)) and number < lo:
        raise ValueError(msg("{number} is below the minimum {minimum}", number=number, minimum=lo))
    if isinstance(hi, (int, float)) and number > hi:
        raise ValueError(msg("{number} is above the maximum {maximum}", number=number, maximum=hi))
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(msg("expected true or false, got {value}", value=repr(value)))


def _select(f: Mapping[str, Any], value: Any, checked: bool) -> Any:
    multiple = bool(f.get("multiple"))
    if isinstance(value, str) and multiple and value.strip().startswith("["):
        value = _json(value)
    values = value if isinstance(value, list) else ([v.strip() for v in str(value).split(",")] if multiple else [value])
    options = [o.get("value") for o in f.get("options") or [] if isinstance(o, Mapping)]
    if options and checked:
        for v in values:
            if str(v) not in [str(o) for o in options]:
                raise ValueError(msg("{value} is not one of the options: {options}", value=repr(v),
                                     options=", ".join(map(str, options))))
    return values if multiple else values[0]


def _model_selector(f: Mapping[str, Any], value: Any, conv: Converters) -> dict[str, Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            value = _json(text)
        else:
            provider, _, model = text.rpartition("/")
            if not provider or not model:
                raise ValueError(msg("expected provider/model or a JSON object, got {value}", value=repr(value)))
            value = {"provider": provider, "model": model}
    if not isinstance(value, Mapping):
        raise ValueError(msg("expected provider/model or a JSON object, got {value}", value=repr(value)))
    mtype = model_type_for_scope(f.get("scope"))
    from dify_lsp.invocation.backends import model_selector_value

    base = conv.default_model(mtype) if conv.default_model is not None else {}
    if value.get("provider") and value.get("model"):
        # the fields each SDK config needs, for the model chosen
        base = {**base, **model_selector_value(str(value["provider"]), str(value["model"]), mtype)}
    return {**base, **value}


def _app_selector(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        text = value.strip()
        value = _json(text) if text.startswith("{") else {"app_id": text}
    if not isinstance(value, Mapping) or not value.get("app_id"):
        raise ValueError(msg("expected an app id or a JSON object with app_id, got {value}", value=repr(value)))
    return {"inputs": {}, "files": [], **value}


def _tool_names(value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            value = _json(text)
        else:
            return [v.strip() for v in text.split(",") if v.strip()]
    return value if isinstance(value, list) else [value]


def _tool_selector(ref: Any, conv: Converters) -> Any:
    """``provider/tool`` -> the ToolSelector Dify sends (the tool's llm-form parameters), from the tool's YAML."""
    if isinstance(ref, Mapping):
        return dict(ref)
    if conv.tool_lookup is None:
        raise ValueError(msg("expected a JSON object, got {value}", value=repr(ref)))
    found = conv.tool_lookup(str(ref))
    decl, provider = found["yaml"], found["provider"]
    description = decl.get("description") if isinstance(decl.get("description"), Mapping) else {}
    params = {}
    for p in decl.get("parameters") or []:
        if isinstance(p, Mapping) and p.get("form") == "llm":
            params[str(p.get("name"))] = {
                "name": p.get("name"), "type": p.get("type") or "string", "required": bool(p.get("required")),
                "description": str(p.get("llm_description") or ""), "default": p.get("default"),
                "options": p.get("options")}
    return {"provider_id": provider, "tool_name": str((decl.get("identity") or {}).get("name") or ref).rsplit("/", 1)[-1],
            "tool_description": str(description.get("llm") or ""), "tool_configuration": {}, "tool_parameters": params,
            "credential_id": None, "type": "builtin"}


def _tool_entity(ref: Any, conv: Converters) -> Any:
    """``provider/tool`` -> the tool as Dify hands it to an agent strategy (``ToolEntity``), from its YAML."""
    if isinstance(ref, Mapping):
        return dict(ref)
    if conv.tool_lookup is None:
        raise ValueError(msg("expected a JSON list of tools, got {value}", value=repr(ref)))
    found = conv.tool_lookup(str(ref))
    decl, provider = found["yaml"], found["provider"]
    identity = {**(decl.get("identity") or {}), "provider": provider}
    description = decl.get("description") if isinstance(decl.get("description"), Mapping) else {}
    params = [{**p, "label": p.get("label") or {"en_US": p.get("name")},
               "human_description": p.get("human_description") or {"en_US": p.get("llm_description") or ""}}
              for p in decl.get("parameters") or [] if isinstance(p, Mapping)]
    return {"identity": identity, "parameters": params,
            "description": {"human": description.get("human") or {"en_US": ""}, "llm": description.get("llm") or ""},
            "provider_type": "builtin", "runtime_parameters": {}}


def convert(f: Mapping[str, Any], value: Any, conv: Converters | None = None) -> Any:
    """A flag, JSON or YAML value as the declared type expects it; raises ValueError saying why it cannot be."""
    conv = conv or Converters()
    ftype = str(f.get("type") or "string")
    if ftype == "file":
        if isinstance(value, list):
            raise ValueError(msg("takes one file (the parameter type is `file`, not `files`)"))
        return local_file(value, conv.file_base) if _path_text(value) or isinstance(value, LocalFile) else \
            (_json(value) if isinstance(value, str) else value)
    if ftype == "files":
        items = value if isinstance(value, list) else [value]
        if all(_path_text(v) or isinstance(v, LocalFile) for v in items):
            return [local_file(v, conv.file_base) for v in items]
        return _json(value) if isinstance(value, str) else value
    if ftype in ("number", "integer", "float"):
        return _number(f, value)
    if ftype in ("boolean", "checkbox", "switch", "bool"):
        return _boolean(value)
    if ftype in ("select", "radio", "dynamic-select"):
        return _select(f, value, checked=ftype != "dynamic-select")
    if ftype == "model-selector":
        return _model_selector(f, value, conv)
    if ftype == "app-selector":
        return _app_selector(value)
    if ftype == "tool-selector":
        return _tool_selector(value, conv) if not isinstance(value, str) or not value.strip().startswith("{") \
            else _json(value)
    if ftype in ("array[tools]", "tools-selector"):
        names = _tool_names(value)
        return [_tool_entity(r, conv) if ftype == "array[tools]" else _tool_selector(r, conv) for r in names]
    if ftype in ("object", "array") and isinstance(value, str):
        return _json(value.strip())
    if ftype == "any" and isinstance(value, str):
        text = value.strip()
        return _json(text) if text[:1] in ("{", "[", '"') else value
    if ftype in ("string", "secret-input", "text-input", "textarea", "text-area", "paragraph", "date") \
            and value is not None and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return value


def secrets_of(form: Any, values: Mapping[str, Any], undeclared_secret: bool = False) -> list[str]:
    """The values of ``secret-input`` fields (and, with ``undeclared_secret``, of names the form does not declare:
    nothing says they are not secret)."""
    declared = {f["name"]: f for f in fields_of(form)}
    out = []
    for name, value in values.items():
        f = declared.get(name)
        secret = (f.get("type") == SECRET) if f is not None else undeclared_secret
        if secret and isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            out.append(str(value))
    return out


def masked_values(form: Any, values: Mapping[str, Any], mask: str) -> dict[str, Any]:
    declared = {f["name"]: f for f in fields_of(form)}
    return {k: (mask if (declared.get(k) or {}).get("type") == SECRET and not _empty(v) else v) for k, v in values.items()}


def describe_files(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values with local files shown as their paths (for results and logs)."""
    def one(v: Any) -> Any:
        return str(v.path) if isinstance(v, LocalFile) else v

    return {k: ([one(x) for x in v] if isinstance(v, list) else one(v)) for k, v in values.items()}


def iter_local_files(values: Mapping[str, Any]) -> Iterable[LocalFile]:
    for v in values.values():
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, LocalFile):
                yield item

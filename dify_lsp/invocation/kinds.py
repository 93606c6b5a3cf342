"""Runs of every plugin kind that is not a tool: endpoints, agent strategies, models, datasources, triggers.

Each kind turns a few friendly inputs (``--endpoint 'POST /ask' --header ... --body ...``,
``--strategy NAME --param ... --agent-tool provider/tool``, ``--model llm/NAME --prompt ...``,
``--datasource NAME --param ...``, ``--trigger dispatch|subscribe|validate ...``) into the request the daemon
would send (the SDK's ``core/entities/plugin/request.py``), reads the plugin through :class:`PluginIndex`, runs it
on a :class:`PluginHost` and summarises what came back for people (an endpoint's status, headers and body; an
agent's messages and the tool calls it made; a model's answer; a crawl's pages; a trigger's events and the
variables each event produced).  Saved inputs live in ``<plugin>/.dify/invocations/<kind>-<name>.yaml``
(the same file format as a tool's).
"""

from __future__ import annotations

import asyncio
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dify_lsp import i18n
from dify_lsp.i18n import N_, msg
from dify_lsp.index import Plugin
from dify_lsp.invocation.backends import create_backend, model_selector_value
from dify_lsp.invocation.masking import SecretMasker
from dify_lsp.invocation.parameters import (
    InvocationError,
    InvocationFile,
    _plain,
    invocation_path,
    load_saved_invocation,
    model_type_for_scope,
    read_plugin,
)
from dify_lsp.schema import references as refkinds

KINDS = ("endpoint", "strategy", "model", "datasource", "trigger")
KIND_OF_PROVIDER = {
    refkinds.ENDPOINT_GROUP: "endpoint", refkinds.AGENT_PROVIDER: "strategy", refkinds.MODEL_PROVIDER: "model",
    refkinds.DATASOURCE_PROVIDER: "datasource", refkinds.TRIGGER_PROVIDER: "trigger",
}
MODEL_ACTIONS = {
    "llm": "invoke_llm", "text-embedding": "invoke_text_embedding", "rerank": "invoke_rerank", "tts": "invoke_tts",
    "speech2text": "invoke_speech2text", "moderation": "invoke_moderation",
}
DATASOURCE_ACTIONS = {
    "website_crawl": "invoke_website_datasource_get_crawl",
    "online_document": "invoke_online_document_datasource_get_pages",
    "online_drive": "invoke_online_drive_browse_files",
}
DEFAULT_TIMEOUT = 60.0


@dataclass
class KindRun:
    """What to run: the kind, the target's name and the inputs (from flags, the saved file, the editor)."""

    plugin_root: Path
    kind: str
    name: str | None = None  # endpoint "METHOD /path", strategy, "type/model", datasource, trigger action
    provider: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # strategy/datasource/event params, endpoint settings
    credentials: dict[str, Any] = field(default_factory=dict)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    prompt: str | None = None
    action: str | None = None  # an access action other than the kind's default
    request_line: str | None = None  # trigger dispatch: "METHOD /path" of the webhook request
    subscription: dict[str, Any] = field(default_factory=dict)  # trigger: the subscription's properties
    agent_tools: list[str] = field(default_factory=list)  # strategy: "provider/tool" entries
    tool_plugins: list[Path] = field(default_factory=list)
    backend: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the "run" settings section
    timeout: float | None = None
    python: str | None = None
    configured_python: str | None = None
    use_saved: bool = True
    invocation: InvocationFile | None = None


@dataclass
class KindResult:
    status: str
    kind: str
    action: str | None
    target: str | None
    chunks: list[Any] = field(default_factory=list)
    summary: Any = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    startup_ms: float | None = None
    python: str | None = None
    backend: str | None = None
    invocation_file: str | None = None  # where this run's inputs are saved (.dify/invocations/<kind>-<name>.yaml)

    def panel_messages(self) -> list[dict[str, Any]]:
        """The result as message entries, for a client's run panel that lists a tool's messages."""
        if self.kind == "strategy":
            return [c for c in self.chunks if isinstance(c, dict)]
        if self.summary is None:
            return []
        label = {"endpoint": "http_response", "model": "model_result", "datasource": "datasource_result",
                 "trigger": "trigger_result"}.get(self.kind, "result")
        return [{"type": label, **self.summary} if isinstance(self.summary, dict) else {"type": label, "value": self.summary}]

    def to_json(self) -> dict[str, Any]:
        text = self.summary.get("text") if isinstance(self.summary, dict) and isinstance(self.summary.get("text"), str) else ""
        return {"status": self.status, "kind": self.kind, "action": self.action, "target": self.target,
                # the fields a tool run's result has, so the same run panel shows every kind
                "tool": self.target, "provider": None, "messages": self.panel_messages(), "text": text,
                "summary": self.summary, "chunks": self.chunks, "transcript": self.transcript, "warnings": self.warnings,
                "logs": self.logs, "error": self.error, "duration_ms": self.duration_ms, "startup_ms": self.startup_ms,
                "python": self.python, "backend": self.backend, "invocation_file": self.invocation_file}


# -- reading the plugin ------------------------------------------------------------------------------


def plugin_kinds(plugin: Plugin) -> list[str]:
    """The run kinds this plugin offers (tools are run by the tool runner)."""
    out = []
    for ref in plugin.refs_from(plugin.manifest.path):
        kind = KIND_OF_PROVIDER.get(ref.target_kind)
        if kind and kind not in out:
            out.append(kind)
    return out


def _declarations(plugin: Plugin, kind: str) -> list[tuple[dict[str, Any], dict[str, Any], Path]]:
    """(provider declaration, item declaration, item path) for every item of a provider kind."""
    out = []
    for yf in plugin.yaml_of_kind(kind):
        data = _plain(yf)
        if not isinstance(data, dict):
            continue
        owners = [r.owner for r in plugin.refs_to(yf.path) if r.owner != plugin.manifest.path]
        owner_yf = plugin.yaml_files.get(owners[0]) if owners else None
        owner = _plain(owner_yf) if owner_yf is not None else {}
        out.append((owner if isinstance(owner, dict) else {}, data, yf.path))
    return out


def _providers(plugin: Plugin, kind: str) -> list[dict[str, Any]]:
    out = []
    for yf in plugin.yaml_of_kind(kind):
        data = _plain(yf)
        if isinstance(data, dict):
            out.append(data)
    return out


def _name(decl: Mapping[str, Any]) -> str:
    identity = decl.get("identity") if isinstance(decl.get("identity"), dict) else {}
    return str(identity.get("name") or decl.get("provider") or decl.get("model") or "")


def _pick(items: list[Any], wanted: str | None, label: str, names: Callable[[Any], str]) -> Any:
    if wanted is None:
        if len(items) == 1:
            return items[0]
        raise InvocationError(f"the plugin has {len(items)} {label}s; name one ({', '.join(sorted(map(names, items)))})")
    found = [i for i in items if names(i) == wanted]
    if not found:
        known = ", ".join(sorted(map(names, items))) or "none"
        raise InvocationError(f"no {label} {wanted!r} in this plugin (it has: {known})")
    return found[0]


# -- values ------------------------------------------------------------------------------------------


def _coerce(param: Mapping[str, Any], value: Any, default_model: Callable[[str], dict[str, Any]]) -> Any:
    ptype = str(param.get("type") or "string")
    if ptype == "model-selector":
        if isinstance(value, dict):
            return value
        mtype = model_type_for_scope(str(param.get("scope") or "llm").split("&")[-1])
        if isinstance(value, str) and "/" in value:  # provider/model
            provider, _, model = value.rpartition("/")
            return model_selector_value(provider, model, mtype)
        return default_model(mtype)
    if not isinstance(value, str):
        return value
    if ptype in ("number", "integer"):
        try:
            return int(value) if re.fullmatch(r"-?\d+", value.strip()) else float(value)
        except ValueError:
            raise InvocationError(f"{param.get('name')}: {value!r} is not a number") from None
    if ptype in ("boolean", "bool"):
        if value.lower() in ("true", "1", "yes", "on"):
            return True
        if value.lower() in ("false", "0", "no", "off", ""):
            return False
        raise InvocationError(f"{param.get('name')}: {value!r} is not true or false")
    if ptype in ("object", "array", "array[tools]") or (param.get("multiple") and value.strip().startswith("[")):
        try:
            return json.loads(value)
        except ValueError:
            raise InvocationError(f"{param.get('name')}: expected JSON, got {value!r}") from None
    if param.get("multiple"):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def prepare_values(params: list[Any], given: Mapping[str, Any], default_model: Callable[[str], dict[str, Any]],
                   what: str, fill_models: bool = True, require: bool = True) -> tuple[dict[str, Any], list[str], list[str]]:
    """Declared parameters/settings with defaults applied, values converted; (values, secrets, warnings)."""
    declared = {str(p.get("name")): p for p in params if isinstance(p, dict) and p.get("name")}
    values: dict[str, Any] = {}
    secrets: list[str] = []
    warnings: list[str] = []
    missing = []
    for name, param in declared.items():
        if name in given:
            values[name] = _coerce(param, given[name], default_model)
        elif param.get("default") is not None:
            values[name] = _coerce(param, param["default"], default_model)
        elif param.get("type") == "model-selector" and fill_models:
            values[name] = _coerce(param, None, default_model)
        elif param.get("required") and param.get("type") != "array[tools]":
            missing.append(name)
        if param.get("type") == "secret-input" and isinstance(values.get(name), str):
            secrets.append(values[name])
    for name, value in given.items():
        if name not in declared:
            values[name] = value
            warnings.append(f"{what} {name!r} is not declared in the YAML")
    if missing and require:
        raise InvocationError(f"missing required {what}{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return values, secrets, warnings


def endpoint_settings(plugin: Plugin, given: Mapping[str, Any], default_model: Callable[[str], dict[str, Any]],
                      require: bool = True) -> tuple[dict[str, Any], list[str], list[str]]:
    """The endpoint settings of a plugin: given values converted, defaults and model-selectors filled."""
    declared = [s for g in _providers(plugin, refkinds.ENDPOINT_GROUP) for s in g.get("settings") or []]
    return prepare_values(declared, given, default_model, "setting", require=require)


def raw_http_request(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> str:
    """A request as the daemon forwards it to an endpoint: HTTP/1.1 bytes, hex-encoded (with Host and length)."""
    names = {k.lower() for k, _ in headers}
    lines = [f"{method.upper()} {path} HTTP/1.1"]
    if "host" not in names:
        lines.append("Host: localhost")
    lines += [f"{k}: {v}" for k, v in headers]
    if body and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return (("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body).hex()


def parse_request_line(text: str) -> tuple[str, str]:
    method, _, path = text.strip().partition(" ")
    if not path:
        method, path = "GET", method
    if not path.startswith("/"):
        raise InvocationError(f"--endpoint {text!r}: expected 'METHOD /path'")
    return method.upper(), path.strip()


def decode_http_response(raw: bytes) -> dict[str, Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if len(lines[0].split(" ")) > 1 else 0
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return {"status": status, "headers": headers, "body": _body_text(body)}


def _body_text(body: bytes) -> Any:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": len(body), "base64": binascii.b2a_base64(body[:1024 * 1024], newline=False).decode()}


# -- building requests ---------------------------------------------------------------------------------


@dataclass
class Prepared:
    data: dict[str, Any]
    target: str
    saved_name: str
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    then: Callable[..., Any] | None = None  # trigger dispatch: the follow-up event invocations


def prepare(run: KindRun, plugin: Plugin, invocation: InvocationFile, default_model: Callable[[str], dict[str, Any]],
            local_tool_decls: Callable[[str], dict[str, Any]]) -> Prepared:
    params = {**invocation.parameters, **run.parameters}
    credentials = {**invocation.credentials, **run.credentials}
    base = {"user_id": "dify-lsp"}
    if run.kind == "endpoint":
        endpoints = _declarations(plugin, refkinds.ENDPOINT)
        if not endpoints:
            raise InvocationError("the plugin declares no endpoints")
        method, path = parse_request_line(run.name or "")
        settings, secrets, warnings = endpoint_settings(plugin, params, default_model)
        if not any(_route_matches(str(d.get("path") or ""), path) and str(d.get("method") or "").upper() == method
                   for _, d, _ in endpoints):
            routes = ", ".join(f"{d.get('method')} {d.get('path')}" for _, d, _ in endpoints)
            warnings.append(f"no endpoint declares {method} {path} (declared: {routes}); the SDK answers 404")
        return Prepared({**base, "type": "endpoint", "action": "invoke_endpoint", "settings": settings,
                         "raw_http_request": raw_http_request(method, path, run.headers, run.body)},
                        f"{method} {path}", f"endpoint-{method.lower()}-{_slug(path)}", secrets, warnings)
    if run.kind == "strategy":
        strategies = _declarations(plugin, refkinds.AGENT_STRATEGY)
        provider, decl, _ = _pick(strategies, run.name, "strategy", lambda s: _name(s[1]))
        declared = decl.get("parameters") or []
        values, secrets, warnings = prepare_values(declared, params, default_model, "parameter")
        tools_params = [p.get("name") for p in declared if isinstance(p, dict) and p.get("type") == "array[tools]"]
        if run.agent_tools:
            if not tools_params:
                raise InvocationError(f"strategy {_name(decl)} has no array[tools] parameter for --agent-tool")
            values[tools_params[0]] = [local_tool_decls(ref) for ref in run.agent_tools]
        for name in tools_params:
            values.setdefault(name, [])
        return Prepared({**base, "type": "agent_strategy", "action": "invoke_agent_strategy",
                         "agent_strategy_provider": run.provider or _name(provider), "agent_strategy": _name(decl),
                         "agent_strategy_params": values},
                        _name(decl), f"strategy-{_name(decl)}", secrets, warnings)
    if run.kind == "model":
        providers = _providers(plugin, refkinds.MODEL_PROVIDER)
        provider = _pick(providers, run.provider, "model provider", lambda p: str(p.get("provider")))
        if not run.name:
            models = sorted(f"{d.get('model_type')}/{d.get('model')}" for _, d, _ in _declarations(plugin, refkinds.MODEL))
            raise InvocationError("this plugin declares model providers; name the model with --model TYPE/NAME"
                                  + (f" (predefined: {', '.join(models)})" if models else ""))
        mtype, _, model = run.name.partition("/")
        if mtype not in MODEL_ACTIONS:
            raise InvocationError(f"--model {run.name!r}: expected TYPE/NAME with TYPE one of {', '.join(MODEL_ACTIONS)}")
        secrets = [str(v) for k, v in credentials.items() if _secret_credential(provider, k) and isinstance(v, str)]
        request: dict[str, Any] = {**base, "type": "model", "provider": str(provider.get("provider")),
                                   "model_type": mtype, "model": model, "credentials": credentials}
        action = run.action or MODEL_ACTIONS[mtype]
        text = run.prompt if run.prompt is not None else str(params.get("prompt") or params.get("text") or "")
        if action in ("invoke_llm", "get_llm_num_tokens"):
            request.update(prompt_messages=[{"role": "user", "content": text}],
                           model_parameters={k: v for k, v in params.items() if k not in ("prompt", "text")},
                           stop=None, tools=None, stream=True)
        elif action in ("invoke_text_embedding", "get_text_embedding_num_tokens"):
            request.update(texts=[text], input_type="query")
        elif action == "invoke_rerank":
            docs = params.get("docs") or []
            request.update(query=text, docs=docs if isinstance(docs, list) else json.loads(str(docs)),
                           score_threshold=params.get("score_threshold"), top_n=params.get("top_n"))
        elif action == "invoke_tts":
            request.update(content_text=text, voice=str(params.get("voice") or "default"), tenant_id="dify-lsp")
        elif action == "invoke_speech2text":
            request.update(file=Path(text).read_bytes().hex() if text and Path(text).is_file() else text)
        elif action == "invoke_moderation":
            request.update(text=text)
        elif action == "validate_provider_credentials":
            request = {**base, "type": "model", "provider": request["provider"], "credentials": credentials}
        request["action"] = action
        return Prepared(request, f"{mtype}/{model}", f"model-{mtype}-{_slug(model)}", secrets, [])
    if run.kind == "datasource":
        providers = _providers(plugin, refkinds.DATASOURCE_PROVIDER)
        provider = _pick(providers, run.provider, "datasource provider", _name)
        items = [(p, d, path) for p, d, path in _declarations(plugin, refkinds.DATASOURCE) if _name(p) == _name(provider)]
        _, decl, _ = _pick(items, run.name, "datasource", lambda s: _name(s[1]))
        values, secrets, warnings = prepare_values(decl.get("parameters") or [], params, default_model, "parameter")
        secrets += schema_secrets(provider.get("credentials_schema"), credentials)
        ptype = str(provider.get("provider_type") or "website_crawl")
        action = run.action or DATASOURCE_ACTIONS.get(ptype, "invoke_website_datasource_get_crawl")
        request = {**base, "type": "datasource", "action": action, "provider": _name(provider),
                   "datasource": _name(decl), "credentials": credentials}
        if action == "invoke_online_drive_browse_files":
            request["request"] = {"bucket": values.pop("bucket", None), "prefix": values.pop("prefix", ""),
                                  "max_keys": int(values.pop("max_keys", 100)), "next_page_parameters": None}
        elif action == "validate_datasource_credentials":
            request = {**base, "type": "datasource", "action": action, "provider": _name(provider), "credentials": credentials}
        else:
            request["datasource_parameters"] = values
        return Prepared(request, f"{_name(provider)}/{_name(decl)}", f"datasource-{_name(decl)}", secrets, warnings)
    if run.kind == "trigger":
        providers = _providers(plugin, refkinds.TRIGGER_PROVIDER)
        provider = _pick(providers, run.provider, "trigger provider", _name)
        action = run.name or "dispatch"
        constructor_decl = provider.get("subscription_constructor") if isinstance(provider.get("subscription_constructor"), dict) else {}
        secrets = (schema_secrets(constructor_decl.get("credentials_schema"), credentials)
                   + schema_secrets(provider.get("subscription_schema"), run.subscription))
        if action == "validate":
            return Prepared({**base, "type": "trigger", "action": "validate_trigger_credentials", "provider": _name(provider),
                             "credentials": credentials}, f"{_name(provider)} credentials", f"trigger-{_name(provider)}", secrets)
        if action == "subscribe":
            constructor = provider.get("subscription_constructor") or {}
            values, more, warnings = prepare_values(constructor.get("parameters") or [], params, default_model, "parameter")
            return Prepared({**base, "type": "trigger", "action": "subscribe_trigger", "provider": _name(provider),
                             "credentials": credentials, "credential_type": "api-key",
                             "endpoint": str(run.subscription.get("endpoint") or "http://127.0.0.1/triggers/dify-lsp"),
                             "parameters": values}, f"{_name(provider)} subscribe", f"trigger-{_name(provider)}",
                            secrets + more, warnings)
        if action != "dispatch":
            raise InvocationError(f"--trigger {action!r}: expected dispatch, subscribe or validate")
        method, path = parse_request_line(run.request_line or "POST /webhook")
        subscription = {"expires_at": -1, "endpoint": f"http://localhost{path}", "parameters": {},
                        "properties": dict(run.subscription)}
        raw = raw_http_request(method, path, run.headers, run.body)
        events = {_name(d): d for _, d, _ in _declarations(plugin, refkinds.TRIGGER_EVENT)}

        def then(dispatched: Mapping[str, Any]) -> list[dict[str, Any]]:
            follow = []
            for event in dispatched.get("events") or []:
                decl = events.get(str(event), {})
                values, _, _ = prepare_values(decl.get("parameters") or [], params, default_model, "parameter")
                follow.append({**base, "type": "trigger", "action": "invoke_trigger_event", "provider": _name(provider),
                               "event": event, "credentials": credentials, "credential_type": "api-key",
                               "subscription": subscription, "raw_http_request": raw, "parameters": values,
                               "payload": dispatched.get("payload") or {}})
            return follow

        return Prepared({**base, "type": "trigger", "action": "dispatch_trigger_event", "provider": _name(provider),
                         "subscription": subscription, "credentials": credentials, "credential_type": "api-key",
                         "raw_http_request": raw}, f"{_name(provider)} {method} {path}", f"trigger-{_name(provider)}",
                        secrets, [], then)
    raise InvocationError(f"unknown kind {run.kind!r} (one of: {', '.join(KINDS)})")


def saved_name(run: KindRun, plugin: Plugin) -> str:
    """The saved invocation file's name (without .yaml) for this run: ``<kind>-<target>``."""
    name = run.name
    if run.kind == "endpoint":
        try:
            method, path = parse_request_line(run.name or "")
        except InvocationError:
            return "endpoint"
        return f"endpoint-{method.lower()}-{_slug(path)}"
    if name is None:
        kind = {"strategy": refkinds.AGENT_STRATEGY, "datasource": refkinds.DATASOURCE}.get(run.kind)
        items = [_name(d) for _, d, _ in _declarations(plugin, kind)] if kind else []
        if run.kind == "trigger":
            items = [_name(p) for p in _providers(plugin, refkinds.TRIGGER_PROVIDER)]
        name = items[0] if len(items) == 1 else "default"
    elif run.kind == "trigger":
        items = [_name(p) for p in _providers(plugin, refkinds.TRIGGER_PROVIDER)]
        name = items[0] if len(items) == 1 else (run.provider or "default")
    return f"{run.kind}-{_slug(name.replace('/', '-'))}"


def _route_matches(pattern: str, path: str) -> bool:
    regex = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "[^/]+", re.escape(pattern).replace(r"\<", "<").replace(r"\>", ">"))
    return re.fullmatch(regex, path.split("?", 1)[0]) is not None


def _secret_credential(provider: Mapping[str, Any], name: str) -> bool:
    schema = provider.get("provider_credential_schema") or {}
    forms = schema.get("credential_form_schemas") or [] if isinstance(schema, dict) else []
    return any(isinstance(f, dict) and f.get("variable") == name and f.get("type") == "secret-input" for f in forms)


def schema_secrets(schema: Any, values: Mapping[str, Any]) -> list[str]:
    """The values of ``secret-input`` fields of a credentials/settings schema (a list of fields or a name mapping)."""
    fields: dict[str, Any] = {}
    if isinstance(schema, dict):
        fields = {str(k): v for k, v in schema.items() if isinstance(v, dict)}
    elif isinstance(schema, list):
        fields = {str(f.get("name") or f.get("variable")): f for f in schema if isinstance(f, dict)}
    return [str(values[k]) for k, f in fields.items() if f.get("type") == "secret-input" and isinstance(values.get(k), str)]


def json_value(text: str) -> Any:
    """A flag value: JSON when it looks like a list or an object, else the text."""
    if text.strip()[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "root"


def tool_entity(tool_yaml: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """A tool as Dify hands it to an agent strategy (``ToolEntity``), from the tool's YAML."""
    identity = dict(tool_yaml.get("identity") or {})
    identity["provider"] = provider
    description = tool_yaml.get("description") if isinstance(tool_yaml.get("description"), dict) else {}
    params = []
    for p in tool_yaml.get("parameters") or []:
        if not isinstance(p, dict):
            continue
        params.append({**p, "label": p.get("label") or {"en_US": p.get("name")},
                       "human_description": p.get("human_description") or {"en_US": p.get("llm_description") or ""}})
    return {"identity": identity, "parameters": params,
            "description": {"human": description.get("human") or {"en_US": ""}, "llm": description.get("llm") or ""},
            "provider_type": "builtin", "runtime_parameters": {}}


# -- summaries -------------------------------------------------------------------------------------------


def summarize(kind: str, action: str, chunks: list[dict[str, Any]]) -> Any:
    if kind == "endpoint":
        head = next((c for c in chunks if "status" in c), {})
        body = b"".join(bytes.fromhex(str(c.get("result") or "")) for c in chunks if c.get("result"))
        return {"status": head.get("status"), "headers": head.get("headers") or {}, "body": _body_text(body)}
    if kind == "model" and action == "invoke_llm":
        text = "".join(str(((c.get("delta") or {}).get("message") or {}).get("content") or "") for c in chunks)
        last = (chunks[-1].get("delta") or {}) if chunks else {}
        return {"text": text, "chunks": len(chunks), "finish_reason": last.get("finish_reason"), "usage": last.get("usage")}
    if kind == "model" and action == "invoke_text_embedding" and chunks:
        vectors = chunks[0].get("embeddings") or []
        return {"count": len(vectors), "dims": sorted({len(v) for v in vectors}), "first": vectors[0][:4] if vectors else None}
    if kind == "model" and action == "invoke_tts":
        return {"chunks": len(chunks), "bytes": sum(len(str(c.get("result") or "")) // 2 for c in chunks)}
    if kind == "strategy":
        texts = "".join(str((c.get("message") or {}).get("text") or "") for c in chunks if c.get("type") == "text")
        logs = [(c.get("message") or {}).get("label") for c in chunks if c.get("type") == "log"]
        return {"text": texts, "logs": logs, "messages": len(chunks)}
    if kind == "datasource" and chunks:
        result = chunks[-1].get("result") if isinstance(chunks[-1].get("result"), dict) else chunks[-1]
        return result
    if kind == "trigger" and action == "dispatch_trigger_event" and chunks:
        out = dict(chunks[0])
        try:
            out["response"] = decode_http_response(bytes.fromhex(str(out.get("response") or "")))
        except ValueError:
            pass
        return out
    return chunks[-1] if len(chunks) == 1 else chunks


# -- running ------------------------------------------------------------------------------------------------


async def run_kind(run: KindRun, progress: Callable[[str, str], None] | None = None,
                   cancel: asyncio.Event | None = None) -> KindResult:
    """Run one request of a non-tool kind end to end; raises InvocationError for usage problems."""
    from dify_lsp.invocation.access import PluginHost, access_problem
    from dify_lsp.invocation.engine import PluginStartError

    t0 = time.perf_counter()
    root = run.plugin_root.resolve()
    plugin = await asyncio.to_thread(read_plugin, root)
    settings = run.settings or {}
    tool_roots = [*run.tool_plugins, *[Path(p) for p in settings.get("toolPlugins") or []]]

    def report(kind: str, text: str) -> None:
        if progress is not None:
            progress(kind, masker.text(text))

    masker = SecretMasker([])
    invocation = InvocationFile()
    result = KindResult(status="error", kind=run.kind, action=None, target=None)
    backend_name = run.backend or settings.get("backend") or "mock"
    try:
        backend = create_backend(backend_name, settings, root)
    except ValueError as exc:
        raise InvocationError(str(exc)) from None
    result.backend = backend.name
    host: PluginHost | None = None
    try:
        def local_tool(ref: str) -> dict[str, Any]:
            from dify_lsp.invocation.parameters import discover_tools

            provider, _, tool = ref.rpartition("/")
            for r in [root, *tool_roots]:
                if not (Path(r) / "manifest.yaml").is_file():
                    continue
                for info in discover_tools(Path(r).resolve()):
                    if info.tool == tool and (not provider or info.provider == provider.rsplit("/", 1)[-1]):
                        decl = _plain(read_plugin(Path(r).resolve()).yaml_files.get(info.yaml_path))
                        return tool_entity(decl or {}, info.provider)
            raise InvocationError(f"--agent-tool {ref}: no tool {ref!r} in the plugin or the tool plugins "
                                  f"({', '.join(str(p) for p in tool_roots) or 'none given: pass --tool-plugin DIR'})")

        def build() -> Prepared:
            nonlocal invocation
            if run.use_saved:
                invocation = load_saved_invocation(root, saved_name(run, plugin))
            if run.invocation is not None:
                invocation = invocation.merged(run.invocation)
            return prepare(run, plugin, invocation, backend.default_model, local_tool)

        prepared = await asyncio.to_thread(build)
        masker.add(prepared.secrets)
        result.action = str(prepared.data.get("action"))
        result.target = prepared.target
        result.invocation_file = str(invocation_path(root, prepared.saved_name))
        result.warnings.extend(prepared.warnings)
        problem = access_problem(prepared.data.get("type"), prepared.data.get("action"))
        if problem:
            raise InvocationError(problem)
        timeout = float(run.timeout or invocation.timeout or settings.get("timeout") or DEFAULT_TIMEOUT)
        host = PluginHost(root, backend, python=run.python, configured_python=run.configured_python,
                          responses=invocation.responses, tool_plugins=tool_roots,
                          on_log=lambda line: (result.logs.append(masker.text(line)), report("log", line)),
                          on_warning=lambda w: report("warning", w), progress=report)
        report("status", f"starting {run.kind} {prepared.target}")
        try:
            if run.kind == "strategy" and run.agent_tools:
                # the agent's tool plugins start beside it, not on the model's first tool call
                await asyncio.gather(host.start(timeout), host.local_tools.prestart(run.agent_tools))
            else:
                await host.start(timeout)
        except PluginStartError as exc:
            result.error = {"type": "PluginStartError", "message": str(exc),
                            "traceback": (host.process.stderr_text[-8000:] if host.process else None) or None}
            return result
        result.startup_ms = host.startup_ms
        result.python = str(host.python)
        report("status", f"plugin ready in {host.startup_ms or 0:.0f} ms; sending {result.action}")

        def on_chunk(chunk: dict[str, Any]) -> None:
            if run.kind in ("model", "strategy"):
                text = ((chunk.get("delta") or {}).get("message") or {}).get("content") if run.kind == "model" else \
                    (chunk.get("message") or {}).get("text") if chunk.get("type") == "text" else None
                if isinstance(text, str):
                    report("text", text)
                    return
            report("message", json.dumps(chunk, ensure_ascii=False, default=str)[:1000])

        outcome = await host.invoke(prepared.data, on_chunk, timeout=timeout, cancel=cancel)
        result.chunks = outcome.chunks
        result.transcript = outcome.transcript
        result.status = outcome.status
        result.error = outcome.error
        result.summary = summarize(run.kind, result.action or "", outcome.chunks)
        if outcome.ok and prepared.then is not None and outcome.chunks:
            events = []
            for follow in prepared.then(outcome.chunks[0]):
                report("status", f"invoking event {follow['event']}")
                more = await host.invoke(follow, timeout=timeout, cancel=cancel)
                result.transcript.extend(more.transcript)
                events.append({"event": follow["event"], "status": more.status,
                               "result": more.chunks[-1] if more.chunks else None, "error": more.error})
                if not more.ok:
                    result.status, result.error = more.status, more.error
            result.summary = {**(result.summary or {}), "invoked": events}
        result.warnings.extend(w for w in host.warnings if w not in result.warnings)
    finally:
        if host is not None:
            await host.close()
        await backend.aclose()
        result.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
    for attr in ("chunks", "summary", "transcript", "warnings", "logs", "error"):
        setattr(result, attr, masker(getattr(result, attr)))
    return result


# -- command line ----------------------------------------------------------------------------------------


def add_arguments(parser: Any) -> None:
    """The ``run`` flags of the non-tool kinds (the tool flags stay with the tool runner)."""
    group = parser.add_argument_group("endpoints, agent strategies, models, datasources and triggers")
    group.add_argument("--endpoint", metavar="'METHOD /path'", help="call an endpoint with this request line")
    group.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="a request header (repeatable)")
    group.add_argument("--body", metavar="TEXT|@FILE", help="the request body (@FILE reads a file)")
    group.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                       help="an endpoint setting (repeatable; model-selectors default to the backend's model)")
    group.add_argument("--serve", type=int, metavar="PORT",
                       help="serve the plugin's endpoints (or trigger webhooks) on 127.0.0.1:PORT until Ctrl-C (0: any port)")
    group.add_argument("--strategy", metavar="NAME", help="run an agent strategy")
    group.add_argument("--agent-tool", dest="agent_tools", action="append", default=[], metavar="PROVIDER/TOOL",
                       help="a tool the agent may call (repeatable); found in the plugin or a --tool-plugin folder")
    group.add_argument("--tool-plugin", dest="tool_plugins", action="append", default=[], metavar="DIR",
                       help="a plugin folder whose tools answer session.tool.invoke (repeatable)")
    group.add_argument("--prompt", help="model runs: the prompt (llm), text (embedding, moderation, tts) or query (rerank)")
    group.add_argument("--datasource", metavar="NAME", help="run a datasource")
    group.add_argument("--trigger", choices=["dispatch", "subscribe", "validate"],
                       help="trigger plugins: dispatch a webhook request (--request/--header/--body), subscribe, or validate credentials")
    group.add_argument("--request", dest="request_line", metavar="'METHOD /path'", help="trigger dispatch: the webhook's request line")
    group.add_argument("--subscription", action="append", default=[], metavar="NAME=VALUE",
                       help="trigger: a property of the subscription (repeatable), e.g. a signing secret")
    group.add_argument("--action", dest="access_action", metavar="ACTION",
                       help="an access action other than the kind's default (e.g. validate_provider_credentials, get_ai_model_schemas)")


def _model_selection(args: Any) -> str | None:
    picks = [m for m in getattr(args, "model", []) or [] if "/" in m and "=" not in m]
    return picks[0] if picks else None


def wants(args: Any) -> bool:
    """This ``run`` is for a non-tool kind: a kind flag is given, or the plugin has no tools."""
    if any(getattr(args, a, None) for a in ("endpoint", "strategy", "datasource", "trigger", "serve")) \
            or getattr(args, "serve", None) == 0 or _model_selection(args):
        return True
    root = Path(args.plugin_dir)
    if not (root / "manifest.yaml").is_file():
        return False
    plugin = read_plugin(root.resolve())
    return refkinds.TOOL_PROVIDER not in [r.target_kind for r in plugin.refs_from(plugin.manifest.path)] \
        and bool(plugin_kinds(plugin))


def _pairs(values: list[str], flag: str, sep: str = "=") -> list[tuple[str, str]]:
    out = []
    for pair in values:
        name, found, value = pair.partition(sep)
        if not found or not name.strip():
            raise InvocationError(f"{flag} {pair!r}: expected NAME{sep}VALUE")
        out.append((name.strip(), value.strip() if sep == ":" else value))
    return out


def build_run(args: Any) -> KindRun:
    from dify_lsp.invocation.parameters import read_invocation_file

    root = Path(args.plugin_dir)
    if not (root / "manifest.yaml").is_file():
        raise InvocationError(f"{args.plugin_dir}: no manifest.yaml (not a Dify plugin folder)")
    plugin = read_plugin(root.resolve())
    offered = plugin_kinds(plugin)
    model = _model_selection(args)
    kind = ("endpoint" if args.endpoint or args.serve is not None else "strategy" if args.strategy else
            "model" if model else "datasource" if args.datasource else "trigger" if args.trigger else None)
    if kind is None:
        if len(offered) != 1:
            raise InvocationError(f"this plugin offers {', '.join(offered) or 'nothing to run'}; say which with "
                                  "--endpoint, --strategy, --model TYPE/NAME, --datasource or --trigger")
        kind = offered[0]
    if kind not in offered and not (kind == "endpoint" and args.serve is not None and "trigger" in offered):
        raise InvocationError(f"this plugin declares no {kind}s (it offers: {', '.join(offered) or 'tools only'})")
    body = b""
    if args.body:
        body = Path(args.body[1:]).read_bytes() if args.body.startswith("@") else args.body.encode("utf-8")
    invocation = read_invocation_file(Path(args.params_file), plain_parameters=True) if args.params_file else None
    params = dict(_pairs(args.param, "--param"))
    params.update(_pairs(args.setting, "--setting"))
    name = {"endpoint": args.endpoint, "strategy": args.strategy, "model": model, "datasource": args.datasource,
            "trigger": args.trigger}.get(kind)
    settings: dict[str, Any] = {}
    openai: dict[str, Any] = {}
    if getattr(args, "openai_base_url", None):
        openai["baseUrl"] = args.openai_base_url
    if getattr(args, "openai_api_key_env", None):
        openai["apiKeyEnv"] = args.openai_api_key_env
    mapping = [m for m in args.model if "=" in m]
    if mapping:
        openai["models"] = dict(_pairs(mapping, "--model"))
    if openai:
        settings["openai"] = openai
    return KindRun(
        plugin_root=root, kind=kind, name=name, provider=args.provider, parameters=params,
        credentials=dict(_pairs(args.credential, "--credential")), headers=_pairs(args.header, "--header", ":"),
        body=body, prompt=args.prompt, action=args.access_action, request_line=args.request_line,
        subscription={k: json_value(v) for k, v in _pairs(args.subscription, "--subscription")},
        # with --strategy, `--tool provider/tool` names an agent tool too
        agent_tools=[*args.agent_tools, *([args.tool] if kind == "strategy" and getattr(args, "tool", None) else [])],
        tool_plugins=[Path(p) for p in args.tool_plugins], backend=args.backend, settings=settings,
        timeout=args.timeout, python=args.python, use_saved=not args.no_saved, invocation=invocation,
    )


def command(args: Any) -> int:
    """``dify-lsp run`` for a non-tool kind; exit 0 on success, 1 on failure, 2 on usage errors."""
    import signal
    import sys

    fmt = getattr(args, "output_format", "text")
    try:
        run = build_run(args)
    except (InvocationError, OSError) as exc:
        print(f"dify-lsp run: {exc}", file=sys.stderr)
        return 2
    if args.serve is not None:
        from dify_lsp.invocation.serve import serve_command

        return serve_command(run, args.serve)
    streamed = {"text": False}

    def progress(kind: str, text: str) -> None:
        if kind == "environment":
            print(f"[environment] {text}", file=sys.stderr, flush=True)
        elif fmt != "text":
            return
        elif kind == "text":
            sys.stdout.write(text)
            sys.stdout.flush()
            streamed["text"] = True
        elif kind in ("log", "warning"):
            print(f"[{kind}] {text}", file=sys.stderr)
        elif kind == "status" and text.startswith("starting "):
            print(f"[run] {text}", file=sys.stderr)

    async def main() -> KindResult:
        task = asyncio.ensure_future(run_kind(run, progress))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, task.cancel)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
                pass
        return await task

    try:
        result = asyncio.run(main())
    except InvocationError as exc:
        print(f"dify-lsp run: {exc}", file=sys.stderr)
        return 2
    except asyncio.CancelledError:
        print("\n" + i18n.tr(N_("dify-lsp run: cancelled; the plugin's process tree was killed"), i18n.choose(getattr(args, "lang", None))), file=sys.stderr)
        return 1
    if fmt == "json":
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        if streamed["text"]:
            sys.stdout.write("\n")
        print_result(result, language=i18n.choose(getattr(args, "lang", None)))
    return 0 if result.status == "success" else 1


def print_result(result: KindResult, out: Any = None, language: str = i18n.ENGLISH) -> None:
    import sys

    out = out or sys.stdout
    summary = result.summary
    if result.kind == "endpoint" and isinstance(summary, dict) and summary.get("status") is not None:
        print(f"HTTP {summary['status']}", file=out)
        for k, v in (summary.get("headers") or {}).items():
            print(f"{k}: {v}", file=out)
        print("", file=out)
        body = summary.get("body")
        print(body if isinstance(body, str) else json.dumps(body), file=out)
    elif result.kind not in ("model", "strategy") or not isinstance(summary, dict) or "text" not in summary:
        if summary is not None:
            print(json.dumps(summary, ensure_ascii=False, indent=2, default=str), file=out)
    err = sys.stderr
    if result.transcript:
        print(i18n.tr(msg("--- reverse invocations ({count})", count=len(result.transcript)), language), file=err)
        for entry in result.transcript:
            outcome = f"error: {entry['error']}" if entry.get("error") else json.dumps(entry.get("response"), default=str)[:300]
            print(f"{entry['type']} [{entry['backend']}] {entry.get('duration_ms') or 0:.1f} ms: {outcome}", file=err)
    for w in result.warnings:
        print(i18n.tr(msg("warning: {warning}", warning=w), language), file=err)
    if result.error:
        print(f"--- {result.status}: {result.error.get('type')}: {result.error.get('message')}", file=err)
        if result.error.get("traceback"):
            print(str(result.error["traceback"]).rstrip(), file=err)
    else:
        print(i18n.tr(msg("--- {status}: {kind} {target} ({action}) in {ms} ms (plugin start {start} ms)", status=result.status,
                          kind=result.kind, target=result.target, action=result.action, ms=f"{result.duration_ms:.0f}",
                          start=f"{result.startup_ms or 0:.0f}"), language), file=err)

"""The request of every plugin kind, prepared the way Dify prepares it: tools, endpoints, agent strategies, models,
datasources and triggers (and their extra actions: credential validation, schemas, OAuth, subscriptions...).

:func:`prepare` turns a :class:`~dify_lsp.invocation.request.RunRequest` into the request the daemon would send
(the SDK's ``core/entities/plugin/request.py``).  Every form on the way goes through
:func:`dify_lsp.invocation.forms.fill`: declared defaults, required values, ``show_on``, conversion by the declared
type and secrets, for parameters, settings and credentials alike.  :func:`summarize` says for people what came back
(an endpoint's status, headers and body; an agent's text; a model's answer; a crawl's pages; a trigger's events) and
:func:`classify` says whether it succeeded, with the same meaning for every kind.  Saved inputs live in
``<plugin>/.dify/invocations/<name>.yaml`` (a tool's name, or ``<kind>-<name>``).
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dify_lsp.i18n import N_, Message, msg
from dify_lsp.index import Plugin
from dify_lsp.invocation import forms
from dify_lsp.invocation.parameters import (
    CREDENTIAL_TYPES,
    InvocationError,
    InvocationFile,
    MissingCredentialsError,
    ToolInfo,
    yaml_data,
    discover_tools,
    read_plugin,
    select_tool,
)
from dify_lsp.schema import references as refkinds

KINDS = ("tool", "endpoint", "strategy", "model", "datasource", "trigger")
KIND_OF_PROVIDER = {
    refkinds.TOOL_PROVIDER: "tool", refkinds.ENDPOINT_GROUP: "endpoint", refkinds.AGENT_PROVIDER: "strategy",
    refkinds.MODEL_PROVIDER: "model", refkinds.DATASOURCE_PROVIDER: "datasource",
    refkinds.TRIGGER_PROVIDER: "trigger",
}
KIND_OF_FILE = {"tool": "tool", "tool_provider": "tool", "endpoint": "endpoint", "endpoint_group": "endpoint",
                "agent_strategy": "strategy", "agent_provider": "strategy", "model": "model",
                "model_provider": "model", "datasource": "datasource", "datasource_provider": "datasource",
                "trigger_provider": "trigger", "trigger_event": "trigger"}
MODEL_ACTIONS = {
    "llm": "invoke_llm", "text-embedding": "invoke_text_embedding", "rerank": "invoke_rerank", "tts": "invoke_tts",
    "speech2text": "invoke_speech2text", "moderation": "invoke_moderation",
}
DATASOURCE_ACTIONS = {
    "website_crawl": "invoke_website_datasource_get_crawl",
    "online_document": "invoke_online_document_datasource_get_pages",
    "online_drive": "invoke_online_drive_browse_files",
}
TRIGGER_ACTIONS = ("dispatch", "subscribe", "validate", "unsubscribe", "refresh")
OAUTH_ACTIONS = ("get_authorization_url", "get_credentials", "refresh_credentials")
# the words a missing value is named with (whole phrases for the catalogs)
MISSING_CREDENTIALS = N_("missing required credentials")
MISSING_SETTINGS = N_("missing required settings")
MISSING_PARAMETERS = N_("missing required parameters")
MISSING_SUBSCRIPTION = N_("missing required subscription properties")
ARGUMENT_OF = {MISSING_CREDENTIALS: "credentials", MISSING_SETTINGS: "parameters", MISSING_PARAMETERS: "parameters",
               MISSING_SUBSCRIPTION: "subscription"}


def plugin_kinds(plugin: Plugin) -> list[str]:
    """The run kinds this plugin offers, in the manifest's order."""
    out = []
    for ref in plugin.refs_from(plugin.manifest.path):
        kind = KIND_OF_PROVIDER.get(ref.target_kind)
        if kind and kind not in out:
            out.append(kind)
    return out


def kind_of_path(plugin: Plugin, path: Path | None) -> str | None:
    """The kind a file of the plugin belongs to (a YAML of that kind, or the Python file one names)."""
    if path is None:
        return None
    path = path.resolve()
    kind = KIND_OF_FILE.get(plugin.kind_of(path) or "")
    if kind is None and path.suffix == ".py":
        owners = [KIND_OF_FILE.get(plugin.kind_of(ref.owner) or "") for ref in plugin.refs_to(path)]
        kind = next((k for k in owners if k), None)
    return kind


def resolve_kind(request: Any) -> str:
    """The kind a request runs: as given, else the kind of its file, else the plugin's only kind.  Blocking."""
    root = Path(request.plugin_root)
    if not (root / "manifest.yaml").is_file():
        raise InvocationError(msg("{path}: no manifest.yaml (not a Dify plugin folder)", path=str(root)))
    if request.kind:
        if request.kind not in KINDS:
            raise InvocationError(msg("unknown kind {kind} (one of: {kinds})", kind=repr(request.kind),
                                      kinds=", ".join(KINDS)))
        return request.kind
    plugin = read_plugin(root.resolve())
    offered = plugin_kinds(plugin)
    from_path = kind_of_path(plugin, request.path)
    if from_path in offered:
        return from_path
    if "tool" in offered and request.target and not request.target.startswith("/") and " " not in request.target:
        return "tool"
    if len(offered) == 1:
        return offered[0]
    if not offered:
        raise InvocationError(msg("the manifest lists no plugins (plugins.tools, models, endpoints, ...): "
                                  "there is nothing to run"))
    raise InvocationError(msg("this plugin offers {kinds}; say which with --tool, --endpoint, --strategy, "
                              "--model TYPE/NAME, --datasource or --trigger", kinds=", ".join(offered)))


# -- reading the plugin ------------------------------------------------------------------------------


def _declarations(plugin: Plugin, kind: str) -> list[tuple[dict[str, Any], dict[str, Any], Path]]:
    """(provider declaration, item declaration, item path) for every item of a provider kind."""
    out = []
    for yf in plugin.yaml_of_kind(kind):
        data = yaml_data(yf)
        if not isinstance(data, dict):
            continue
        owners = [r.owner for r in plugin.refs_to(yf.path) if r.owner != plugin.manifest.path]
        owner_yf = plugin.yaml_files.get(owners[0]) if owners else None
        owner = yaml_data(owner_yf) if owner_yf is not None else {}
        out.append((owner if isinstance(owner, dict) else {}, data, yf.path))
    return out


def _providers(plugin: Plugin, kind: str) -> list[tuple[dict[str, Any], Path]]:
    out = []
    for yf in plugin.yaml_of_kind(kind):
        data = yaml_data(yf)
        if isinstance(data, dict):
            out.append((data, yf.path))
    return out


def _name(decl: Mapping[str, Any]) -> str:
    identity = decl.get("identity") if isinstance(decl.get("identity"), dict) else {}
    return str(identity.get("name") or decl.get("provider") or decl.get("model") or "")


# What to say when a run does not name which of several items to run, or names one the plugin lacks: whole
# sentences per kind, since a noun in a sentence changes form by number and by language.
_PICK_TEXTS: dict[str, tuple[str, str]] = {
    "strategy": (N_("the plugin has {count} agent strategies; name one ({names})"),
                 N_("no agent strategy {name} in this plugin (it has: {known})")),
    "model provider": (N_("the plugin has {count} model providers; name one ({names})"),
                       N_("no model provider {name} in this plugin (it has: {known})")),
    "datasource provider": (N_("the plugin has {count} datasource providers; name one ({names})"),
                            N_("no datasource provider {name} in this plugin (it has: {known})")),
    "datasource": (N_("the plugin has {count} datasources; name one ({names})"),
                   N_("no datasource {name} in this plugin (it has: {known})")),
    "trigger provider": (N_("the plugin has {count} trigger providers; name one ({names})"),
                         N_("no trigger provider {name} in this plugin (it has: {known})")),
}


def _pick(items: list[Any], wanted: str | None, label: str, names: Callable[[Any], str]) -> Any:
    several, missing = _PICK_TEXTS[label]
    if wanted is None:
        if len(items) == 1:
            return items[0]
        raise InvocationError(msg(several, count=len(items), names=", ".join(sorted(map(names, items)))))
    found = [i for i in items if names(i) == wanted]
    if not found:
        raise InvocationError(msg(missing, name=repr(wanted),
                                  known=", ".join(sorted(map(names, items))) or msg("none")))
    return found[0]


def tool_lookup(roots: list[Path]) -> Callable[[str], dict[str, Any]]:
    """``provider/tool`` -> ``{"yaml": the tool's YAML, "provider": its provider}`` from the plugin or tool plugins."""

    def find(ref: str) -> dict[str, Any]:
        provider, _, tool = ref.rpartition("/")
        for r in roots:
            if not (Path(r) / "manifest.yaml").is_file():
                continue
            plugin = read_plugin(Path(r).resolve())
            for info in discover_tools(Path(r).resolve(), plugin=plugin):
                if info.tool == tool and (not provider or info.provider == provider.rsplit("/", 1)[-1]):
                    return {"yaml": yaml_data(plugin.yaml_files.get(info.yaml_path)) or {}, "provider": info.provider}
        given = ", ".join(str(p) for p in roots[1:]) or "none given: pass --tool-plugin DIR"
        raise ValueError(msg("no tool {ref} in the plugin or the tool plugins ({given})", ref=repr(ref), given=given))

    return find


# -- HTTP requests -----------------------------------------------------------------------------------


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
        raise InvocationError(msg("{text}: expected 'METHOD /path'", text=repr(text)))
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


def _route_matches(pattern: str, path: str) -> bool:
    regex = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "[^/]+", re.escape(pattern).replace(r"\<", "<").replace(r"\>", ">"))
    return re.fullmatch(regex, path.split("?", 1)[0]) is not None


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


# -- preparing a request -------------------------------------------------------------------------------


@dataclass
class Prepared:
    data: dict[str, Any]  # the request the daemon would send (type, action and its fields)
    target: str
    saved_name: str
    provider: str | None = None
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shown: dict[str, Any] = field(default_factory=dict)  # the values sent, for the result (secrets masked later)
    then: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None  # trigger dispatch: event invocations
    validate: dict[str, Any] | None = None  # tools: the validate_tool_credentials request to send first
    tool: ToolInfo | None = None


class Forms:
    """Fills every form of one request and collects secrets, warnings and problems across them."""

    def __init__(self, conv: forms.Converters) -> None:
        self.conv = conv
        self.done = forms.Filled()
        self.missing_kind: dict[str, str] = {}  # name -> which phrase reports it

    def fill(self, form: Any, given: Mapping[str, Any], what: Message, where: str, missing: str,
             **kw: Any) -> dict[str, Any]:
        filled = forms.fill(form, given, what=what, where=where, conv=self.conv, **kw)
        for m in filled.missing:
            m["form"] = missing
        self.done.values.update(filled.values)
        self.done.merge(filled)
        return filled.values

    def check(self, flag_of: Mapping[str, str]) -> None:
        """Stop before the plugin starts: values that cannot be converted, then required ones left empty."""
        if self.done.errors:
            raise InvocationError("; ".join(self.done.errors))
        if not self.done.missing:
            return
        parts = []
        for phrase in dict.fromkeys(m["form"] for m in self.done.missing):
            names = ", ".join(f"`{m['name']}` ({m['type']})" for m in self.done.missing if m["form"] == phrase)
            flags = " ".join(f"{flag_of.get(phrase, '--param')} {m['name']}=..." for m in self.done.missing
                             if m["form"] == phrase)
            parts.append(msg("{what}: {names}; Dify does not run it without them. Pass {flags}",
                             what=Message(phrase), names=names, flags=flags))
        missing = [{**m, "argument": ARGUMENT_OF[m["form"]]} for m in self.done.missing]
        if all(m["form"] == MISSING_PARAMETERS for m in missing):
            raise InvocationError("; ".join(parts))
        # what an editor asks for (a masked input for a secret) and sends again under `argument`
        raise MissingCredentialsError("; ".join(parts), [{k: v for k, v in m.items() if k != "form"} for m in missing])


def _where(path: Path | None) -> str:
    return path.name if path is not None else "the YAML"


def prepare(request: Any, plugin: Plugin, invocation: InvocationFile, conv: forms.Converters) -> Prepared:
    """The daemon's request for ``request`` (kind already resolved); raises InvocationError before anything runs."""
    params = {**invocation.parameters, **request.parameters}
    credentials = {**invocation.credentials, **request.credentials}
    f = Forms(conv)
    prepared = _PREPARE[request.kind](request, plugin, invocation, f, params, credentials)
    f.check({MISSING_CREDENTIALS: "--credential", MISSING_SETTINGS: "--setting", MISSING_PARAMETERS: "--param",
             MISSING_SUBSCRIPTION: "--subscription"})
    prepared.secrets += f.done.secrets
    prepared.warnings = [*f.done.warnings, *prepared.warnings]
    return prepared


def _tool(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
          credentials: dict[str, Any]) -> Prepared:
    tools = discover_tools(plugin.root, plugin=plugin)
    tool = select_tool(tools, request.target, request.provider, request.path)
    credential_type = CREDENTIAL_TYPES.get(request.credential_type, request.credential_type)
    if credential_type not in ("api-key", "oauth2"):
        raise InvocationError(msg("credential type {given}: expected api-key or oauth", given=repr(request.credential_type)))
    action = request.action or "invoke_tool"
    base = {"user_id": request.user_id, "provider": tool.provider}
    if action in OAUTH_ACTIONS:
        return _oauth(request, plugin, tool, f, params, credentials, action, base)
    if credential_type == "api-key":
        creds = f.fill(tool.credentials_schema, credentials, N_("credential"), _where(tool.provider_yaml),
                       MISSING_CREDENTIALS)
    else:
        # OAuth credentials follow the provider's oauth_schema, filled by the OAuth flow: nothing is required
        creds = forms.fill(tool.credentials_schema, credentials, what=N_("credential"), where=_where(tool.provider_yaml),
                           conv=f.conv).values
    f.done.secrets += forms.secrets_of(tool.credentials_schema, creds, undeclared_secret=True)
    if action == "fetch_parameter_options":
        # the options of a dynamic-select parameter (`--param parameter=NAME`), as Dify asks for them in its form
        data = {**base, "type": "dynamic_parameter", "action": action, "provider_action": tool.tool,
                "parameter": str(params.get("parameter") or ""), "credentials": creds, "credential_type": credential_type}
        return Prepared(data, tool.tool, tool.tool, tool.provider, tool=tool)
    if action != "invoke_tool":
        data = {**base, "type": "tool", "action": action, "tool": tool.tool, "credentials": creds}
        return Prepared(data, tool.tool, tool.tool, tool.provider, tool=tool)
    values = f.fill(tool.parameters, params, N_("parameter"), _where(tool.yaml_path), MISSING_PARAMETERS,
                    models=invocation.models)
    data = {**base, "type": "tool", "action": "invoke_tool", "tool": tool.tool, "credentials": creds,
            "credential_type": credential_type, "tool_parameters": values}
    validate = None
    if request.validate_credentials:
        validate = {**base, "type": "tool", "action": "validate_tool_credentials", "credentials": creds}
    shown = forms.masked_values(tool.parameters, forms.describe_files(values), "******")
    return Prepared(data, tool.tool, tool.tool, tool.provider, shown=shown, validate=validate, tool=tool)


def _oauth(request: Any, plugin: Plugin, tool: ToolInfo, f: Forms, params: dict[str, Any],
           credentials: dict[str, Any], action: str, base: dict[str, Any]) -> Prepared:
    """A tool provider's OAuth flow, as Dify drives it: the authorization URL from the client credentials
    (``oauth_schema.client_schema``, given with --credential), the credentials from the callback request
    (--request 'GET /callback?code=...'), a refresh of given OAuth credentials (``oauth_schema.credentials_schema``)."""
    provider = yaml_data(plugin.yaml_files.get(tool.provider_yaml)) or {}
    oauth = provider.get("oauth_schema") if isinstance(provider.get("oauth_schema"), dict) else {}
    if not oauth:
        raise InvocationError(msg("provider {provider} declares no oauth_schema", provider=tool.provider))
    where = f"{_where(tool.provider_yaml)} (oauth_schema)"
    client_names = {fd["name"] for fd in forms.fields_of(oauth.get("client_schema") or [])}
    system = f.fill(oauth.get("client_schema") or [], {k: v for k, v in credentials.items() if k in client_names},
                    N_("credential"), where, MISSING_CREDENTIALS)
    data = {**base, "type": "oauth", "action": action,
            "redirect_uri": str(params.get("redirect_uri") or "http://127.0.0.1/oauth/callback"),
            "system_credentials": system}
    if action == "get_credentials":
        method, path = parse_request_line(request.request_line or "GET /oauth/callback")
        data["raw_http_request"] = raw_http_request(method, path, request.headers, request.body)
    elif action == "refresh_credentials":
        data["credentials"] = f.fill(oauth.get("credentials_schema") or [],
                                     {k: v for k, v in credentials.items() if k not in client_names},
                                     N_("credential"), where, MISSING_CREDENTIALS)
    f.done.secrets += forms.secrets_of(oauth.get("client_schema") or [], system)
    return Prepared(data, f"{tool.provider} {action}", f"oauth-{tool.provider}", tool.provider, tool=tool)


def endpoint_settings(plugin: Plugin, given: Mapping[str, Any], conv: forms.Converters,
                      f: Forms | None = None) -> dict[str, Any]:
    """The endpoint settings of a plugin: given values converted, defaults and model-selectors filled."""
    f = f or Forms(conv)
    groups = _providers(plugin, refkinds.ENDPOINT_GROUP)
    declared = [s for g, _ in groups for s in g.get("settings") or []]
    return f.fill(declared, given, N_("setting"), _where(groups[0][1] if groups else None), MISSING_SETTINGS)


def _endpoint(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
              credentials: dict[str, Any]) -> Prepared:
    endpoints = _declarations(plugin, refkinds.ENDPOINT)
    if not endpoints:
        raise InvocationError(msg("the plugin declares no endpoints"))
    method, path = parse_request_line(request.target or "")
    settings = endpoint_settings(plugin, params, f.conv, f)
    warnings = []
    if not any(_route_matches(str(d.get("path") or ""), path) and str(d.get("method") or "").upper() == method
               for _, d, _ in endpoints):
        routes = ", ".join(f"{d.get('method')} {d.get('path')}" for _, d, _ in endpoints)
        warnings.append(msg("no endpoint declares {method} {path} (declared: {routes}); the SDK answers 404",
                            method=method, path=path, routes=routes))
    group = [s for g, _ in _providers(plugin, refkinds.ENDPOINT_GROUP) for s in g.get("settings") or []]
    return Prepared({"user_id": request.user_id, "type": "endpoint", "action": "invoke_endpoint", "settings": settings,
                     "raw_http_request": raw_http_request(method, path, request.headers, request.body)},
                    f"{method} {path}", f"endpoint-{method.lower()}-{_slug(path)}", warnings=warnings,
                    shown=forms.masked_values(group, settings, "******"))


def _strategy(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
              credentials: dict[str, Any]) -> Prepared:
    strategies = _declarations(plugin, refkinds.AGENT_STRATEGY)
    provider, decl, path = _pick(strategies, request.target, "strategy", lambda s: _name(s[1]))
    declared = [p for p in decl.get("parameters") or [] if isinstance(p, dict)]
    tools_params = [p.get("name") for p in declared if p.get("type") == "array[tools]"]
    given = dict(params)
    if request.agent_tools:
        if not tools_params:
            raise InvocationError(msg("strategy {name} has no array[tools] parameter for --agent-tool", name=_name(decl)))
        given[tools_params[0]] = list(request.agent_tools)
    values = f.fill(declared, given, N_("parameter"), _where(path), MISSING_PARAMETERS, models=invocation.models)
    for name in tools_params:
        values.setdefault(name, [])
    return Prepared({"user_id": request.user_id, "type": "agent_strategy", "action": "invoke_agent_strategy",
                     "agent_strategy_provider": request.provider or _name(provider), "agent_strategy": _name(decl),
                     "agent_strategy_params": values},
                    _name(decl), f"strategy-{_name(decl)}", _name(provider),
                    shown=forms.masked_values(declared, forms.describe_files(values), "******"))


def model_credential_form(provider: Mapping[str, Any], plugin: Plugin, mtype: str, model: str) -> tuple[Any, str]:
    """The credential form a model is used with, as in Dify: a predefined model uses the provider's credentials
    (``provider_credential_schema``); a customizable model its own (``model_credential_schema``)."""
    predefined = {(str(d.get("model_type")), str(d.get("model"))) for _, d, _ in _declarations(plugin, refkinds.MODEL)}
    methods = provider.get("configurate_methods") or []
    model_form = provider.get("model_credential_schema")
    provider_form = provider.get("provider_credential_schema")
    if isinstance(model_form, dict) and "customizable-model" in methods and \
            ((mtype, model) not in predefined or not isinstance(provider_form, dict)):
        return model_form.get("credential_form_schemas") or [], "model_credential_schema"
    if isinstance(provider_form, dict):
        return provider_form.get("credential_form_schemas") or [], "provider_credential_schema"
    return [], "provider_credential_schema"


def _model(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
           credentials: dict[str, Any]) -> Prepared:
    providers = _providers(plugin, refkinds.MODEL_PROVIDER)
    provider, provider_path = _pick(providers, request.provider, "model provider", lambda p: str(p[0].get("provider")))
    if not request.target:
        models = sorted(f"{d.get('model_type')}/{d.get('model')}" for _, d, _ in _declarations(plugin, refkinds.MODEL))
        raise InvocationError(msg("this plugin declares model providers; name the model with --model TYPE/NAME "
                                  "(predefined: {models})", models=", ".join(models) or "none"))
    mtype, _, model = request.target.partition("/")
    if mtype not in MODEL_ACTIONS or not model:
        raise InvocationError(msg("--model {given}: expected TYPE/NAME with TYPE one of {types}",
                                  given=repr(request.target), types=", ".join(MODEL_ACTIONS)))
    action = request.action or MODEL_ACTIONS[mtype]
    form, form_name = model_credential_form(provider, plugin, mtype, model)
    if action == "validate_provider_credentials":
        form, form_name = (provider.get("provider_credential_schema") or {}).get("credential_form_schemas") or [], \
            "provider_credential_schema"
    creds = f.fill(form, credentials, N_("credential"), f"{_where(provider_path)} ({form_name})", MISSING_CREDENTIALS,
                   context={"__model_type": mtype})
    name = str(provider.get("provider"))
    base = {"user_id": request.user_id, "type": "model", "provider": name}
    req: dict[str, Any] = {**base, "model_type": mtype, "model": model, "credentials": creds}
    text = request.prompt if request.prompt is not None else str(params.get("prompt") or params.get("text") or "")
    rest = {k: v for k, v in params.items() if k not in ("prompt", "text")}
    if action in ("invoke_llm", "get_llm_num_tokens"):
        req.update(prompt_messages=[{"role": "user", "content": text}], model_parameters=rest, stop=None, tools=None,
                   stream=True)
    elif action in ("invoke_text_embedding", "get_text_embedding_num_tokens"):
        req.update(texts=[text], input_type="query")
    elif action == "invoke_rerank":
        docs = params.get("docs") or []
        if isinstance(docs, str):
            docs = json_value(docs) if docs.strip().startswith("[") else [d for d in docs.split("|") if d]
        req.update(query=text, docs=docs, score_threshold=params.get("score_threshold"), top_n=params.get("top_n"))
    elif action == "invoke_tts":
        req.update(content_text=text, voice=str(params.get("voice") or "default"), tenant_id="dify-lsp")
    elif action == "invoke_speech2text":
        req.update(file=Path(text).read_bytes().hex() if text and Path(text).is_file() else text)
    elif action == "invoke_moderation":
        req.update(text=text)
    elif action == "validate_provider_credentials":
        req = {**base, "credentials": creds}
    req["action"] = action
    return Prepared(req, f"{mtype}/{model}", f"model-{mtype}-{_slug(model)}", name,
                    shown={"credentials": forms.masked_values(form, creds, "******"), **rest})


def _datasource(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
                credentials: dict[str, Any]) -> Prepared:
    providers = _providers(plugin, refkinds.DATASOURCE_PROVIDER)
    provider, provider_path = _pick(providers, request.provider, "datasource provider", lambda p: _name(p[0]))
    creds = f.fill(provider.get("credentials_schema") or [], credentials, N_("credential"), _where(provider_path),
                   MISSING_CREDENTIALS)
    ptype = str(provider.get("provider_type") or "website_crawl")
    action = request.action or DATASOURCE_ACTIONS.get(ptype, "invoke_website_datasource_get_crawl")
    base = {"user_id": request.user_id, "type": "datasource", "action": action, "provider": _name(provider),
            "credentials": creds}
    if action == "validate_datasource_credentials":
        return Prepared(base, f"{_name(provider)} credentials", f"datasource-{_name(provider)}", _name(provider))
    items = [(p, d, path) for p, d, path in _declarations(plugin, refkinds.DATASOURCE) if _name(p) == _name(provider)]
    _, decl, path = _pick(items, request.target, "datasource", lambda s: _name(s[1]))
    declared = decl.get("parameters") or []
    values = f.fill(declared, params, N_("parameter"), _where(path), MISSING_PARAMETERS)
    req = {**base, "datasource": _name(decl)}
    if action == "invoke_online_drive_browse_files":
        req["request"] = {"bucket": values.pop("bucket", None), "prefix": values.pop("prefix", ""),
                          "max_keys": int(values.pop("max_keys", 100)), "next_page_parameters": None}
    else:
        req["datasource_parameters"] = values
    return Prepared(req, f"{_name(provider)}/{_name(decl)}", f"datasource-{_name(decl)}", _name(provider),
                    shown=forms.masked_values(declared, values, "******"))


def _trigger(request: Any, plugin: Plugin, invocation: InvocationFile, f: Forms, params: dict[str, Any],
             credentials: dict[str, Any]) -> Prepared:
    providers = _providers(plugin, refkinds.TRIGGER_PROVIDER)
    provider, provider_path = _pick(providers, request.provider, "trigger provider", lambda p: _name(p[0]))
    name = _name(provider)
    action = request.target or "dispatch"
    if action not in TRIGGER_ACTIONS:
        raise InvocationError(msg("--trigger {given}: expected one of {actions}", given=repr(action),
                                  actions=", ".join(TRIGGER_ACTIONS)))
    constructor = provider.get("subscription_constructor") if isinstance(provider.get("subscription_constructor"), dict) else {}
    where = _where(provider_path)
    base = {"user_id": request.user_id, "type": "trigger", "provider": name}
    saved = f"trigger-{name}"
    if action in ("validate", "subscribe", "unsubscribe", "refresh"):
        creds = f.fill(constructor.get("credentials_schema") or [], credentials, N_("credential"),
                       f"{where} (subscription_constructor)", MISSING_CREDENTIALS)
        if action == "validate":
            return Prepared({**base, "action": "validate_trigger_credentials", "credentials": creds},
                            msg("{provider} credentials", provider=name), saved, name)
        if action == "subscribe":
            declared = constructor.get("parameters") or []
            values = f.fill(declared, params, N_("parameter"), f"{where} (subscription_constructor)",
                            MISSING_PARAMETERS)
            return Prepared({**base, "action": "subscribe_trigger", "credentials": creds, "credential_type": "api-key",
                             "endpoint": str(request.subscription.get("endpoint") or "http://127.0.0.1/triggers/dify-lsp"),
                             "parameters": values}, f"{name} subscribe", saved, name,
                            shown=forms.masked_values(declared, values, "******"))
        subscription = _subscription(provider, request, f, where, "/webhook")
        return Prepared({**base, "action": f"{action}_trigger", "credentials": creds, "credential_type": "api-key",
                         "subscription": subscription}, f"{name} {action}", saved, name)
    method, path = parse_request_line(request.request_line or "POST /webhook")
    subscription = _subscription(provider, request, f, where, path)
    raw = raw_http_request(method, path, request.headers, request.body)
    events = {_name(d): (d, p) for _, d, p in _declarations(plugin, refkinds.TRIGGER_EVENT)}
    event_values: dict[str, dict[str, Any]] = {}
    for event, (decl, event_path) in events.items():
        # every event's parameters are checked now: an event the webhook names must not fail after the dispatch
        sub = Forms(f.conv)
        event_values[event] = sub.fill(decl.get("parameters") or [], params, N_("parameter"), _where(event_path),
                                       MISSING_PARAMETERS)
        f.done.errors += sub.done.errors
        f.done.secrets += sub.done.secrets

    def then(dispatched: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{**base, "action": "invoke_trigger_event", "event": event, "credentials": dict(credentials),
                 "credential_type": "api-key", "subscription": subscription, "raw_http_request": raw,
                 "parameters": event_values.get(str(event), {}), "payload": dispatched.get("payload") or {}}
                for event in dispatched.get("events") or []]

    return Prepared({**base, "action": "dispatch_trigger_event", "subscription": subscription,
                     "credentials": dict(credentials), "credential_type": "api-key", "raw_http_request": raw},
                    f"{name} {method} {path}", saved, name, then=then)


def _subscription(provider: Mapping[str, Any], request: Any, f: Forms, where: str, path: str) -> dict[str, Any]:
    """A subscription as the daemon keeps it: its properties filled from ``subscription_schema`` (defaults,
    required, secrets); properties the constructor returned beyond the schema pass as they are."""
    given = dict(request.subscription)
    declared = forms.fields_of(provider.get("subscription_schema") or [])
    known = {d["name"] for d in declared}
    props = f.fill(declared, {k: v for k, v in given.items() if k in known}, N_("subscription property"),
                   f"{where} (subscription_schema)", MISSING_SUBSCRIPTION)
    props.update({k: v for k, v in given.items() if k not in known and k != "endpoint"})
    return {"expires_at": -1, "endpoint": f"http://localhost{path}", "parameters": {}, "properties": props}


_PREPARE: dict[str, Callable[..., Prepared]] = {
    "tool": _tool, "endpoint": _endpoint, "strategy": _strategy, "model": _model, "datasource": _datasource,
    "trigger": _trigger,
}


def saved_name(request: Any, plugin: Plugin) -> str:
    """The saved invocation file's name (without .yaml) for this run: a tool's name, else ``<kind>-<target>``."""
    kind, name = request.kind, request.target
    if kind == "tool":
        if name:
            return name
        try:
            return select_tool(discover_tools(plugin.root, plugin=plugin), None, request.provider, request.path).tool
        except InvocationError:
            return "tool"
    if kind == "endpoint":
        try:
            method, path = parse_request_line(name or "")
        except InvocationError:
            return "endpoint"
        return f"endpoint-{method.lower()}-{_slug(path)}"
    if kind == "trigger":
        items = [_name(p) for p, _ in _providers(plugin, refkinds.TRIGGER_PROVIDER)]
        name = items[0] if len(items) == 1 else (request.provider or "default")
    elif name is None:
        decl_kind = {"strategy": refkinds.AGENT_STRATEGY, "datasource": refkinds.DATASOURCE}.get(kind)
        items = [_name(d) for _, d, _ in _declarations(plugin, decl_kind)] if decl_kind else []
        name = items[0] if len(items) == 1 else "default"
    return f"{kind}-{_slug(name.replace('/', '-'))}"


# -- what came back ----------------------------------------------------------------------------------


def summarize(kind: str, action: str, chunks: list[Any]) -> Any:
    """What came back, for people; None when nothing came back."""
    chunks = [c for c in chunks if isinstance(c, dict)]
    if not chunks and kind != "endpoint":
        return None
    if kind == "endpoint":
        head = next((c for c in chunks if "status" in c), {})
        if not head and not chunks:
            return None
        body = b"".join(bytes.fromhex(str(c.get("result") or "")) for c in chunks if c.get("result"))
        return {"status": head.get("status"), "headers": head.get("headers") or {}, "body": _body_text(body)}
    if kind == "model" and action == "invoke_llm":
        text = "".join(str(((c.get("delta") or {}).get("message") or {}).get("content") or "") for c in chunks)
        last = chunks[-1].get("delta") or {}
        return {"text": text, "chunks": len(chunks), "finish_reason": last.get("finish_reason"), "usage": last.get("usage")}
    if kind == "model" and action == "invoke_text_embedding":
        vectors = chunks[0].get("embeddings") or []
        return {"count": len(vectors), "dims": sorted({len(v) for v in vectors}), "first": vectors[0][:4] if vectors else None}
    if kind == "model" and action == "invoke_tts":
        return {"chunks": len(chunks), "bytes": sum(len(str(c.get("result") or "")) // 2 for c in chunks)}
    if kind == "strategy":
        texts = "".join(str((c.get("message") or {}).get("text") or "") for c in chunks if c.get("type") == "text")
        logs = [(c.get("message") or {}).get("label") for c in chunks if c.get("type") == "log"]
        return {"text": texts, "logs": logs, "messages": len(chunks)}
    if kind == "datasource":
        return chunks[-1].get("result") if isinstance(chunks[-1].get("result"), dict) else chunks[-1]
    if kind == "trigger" and action == "dispatch_trigger_event":
        out = dict(chunks[0])
        try:
            out["response"] = decode_http_response(bytes.fromhex(str(out.get("response") or "")))
        except ValueError:
            pass
        return out
    return chunks[-1] if len(chunks) == 1 else chunks


def http_failure(kind: str, summary: Any) -> dict[str, Any] | None:
    """An HTTP 5xx the SDK answered for the plugin (its code raised): a failure, whatever the session said.

    The SDK catches an endpoint's exception and answers ``500`` with the exception's text as the body; a trigger's
    dispatch that raises ends the session with an error instead (handled like any plugin error)."""
    response = summary if kind == "endpoint" else (summary or {}).get("response") if isinstance(summary, dict) else None
    status = response.get("status") if isinstance(response, dict) else None
    if isinstance(status, int) and status >= 500:
        body = response.get("body")
        text = body if isinstance(body, str) else json.dumps(body, default=str)
        return {"type": "HTTPError", "message": msg("the plugin answered HTTP {status}: {body}", status=status,
                                                     body=text[:2000]), "traceback": None}
    return None


__all__ = [
    "KINDS", "Prepared", "decode_http_response", "endpoint_settings", "http_failure", "json_value", "kind_of_path",
    "parse_request_line", "plugin_kinds", "prepare", "raw_http_request", "resolve_kind", "saved_name", "summarize",
    "tool_lookup",
]

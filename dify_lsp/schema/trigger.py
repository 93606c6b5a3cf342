"""Schemas of trigger provider and event YAML (SDK ``entities/trigger.py``:
TriggerProviderConfiguration, TriggerSubscriptionConstructorConfiguration,
EventConfiguration, EventParameter; daemon ``trigger_declaration.go``)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

# EventParameter.EventParameterType: no secret-input (a trigger with one fails to load:
# "Error loading plugin configuration"; the daemon's isEventParameterType agrees).
EVENT_PARAMETER_TYPES = {
    k: TOOL_PARAMETER_TYPES[k]
    for k in ("string", "number", "boolean", "select", "checkbox", "file", "files", "model-selector", "app-selector", "object", "array", "dynamic-select")
}
EVENT_PARAMETER_REJECTED = {
    "secret-input": "event and subscription parameters cannot be secret: the SDK fails to load the plugin; declare secrets in credentials_schema or subscription_schema",
}
TRIGGER_TAGS = {"webhooks": "triggered by webhooks"}

EVENT_OPTION = Obj(
    "option",
    (
        Field("value", SC, True, "the value passed when chosen (kept as a string)", max_length=127, nullable=True),
        i18n("label", "the text shown for this option", True),
        Field("icon", S, False, "an icon: a URL or a base64 string", nullable=True),
    ),
    doc="One choice of a select parameter.",
)

EVENT_PARAMETER = Obj(
    "event parameter",
    (
        Field("name", S, True, "the parameter name"),
        i18n("label", "the label shown to the user", True),
        Field("type", S, True, "the value type (no secret-input here)", enum=EVENT_PARAMETER_TYPES, rejected_values=EVENT_PARAMETER_REJECTED),
        Field("auto_generate", AUTO_GENERATE, False, "let Dify generate the value", nullable=True),
        Field("template", TEMPLATE, False, "Jinja template support", nullable=True),
        Field("scope", S, False, "restricts what can be picked", nullable=True),
        Field("required", B, False, "a value must be given (default false)", nullable=True),
        Field("multiple", B, False, "accept several values (select and dynamic-select)", nullable=True),
        Field("default", A, False, "the default value (number, text or list)", nullable=True),
        Field("min", N, False, "smallest number allowed", nullable=True),
        Field("max", N, False, "largest number allowed", nullable=True),
        Field("precision", I, False, "decimal places", nullable=True),
        Field("options", ListOf(EVENT_OPTION), False, "choices of a select", nullable=True),
        i18n("description", "what the parameter is for", nullable=True),
    ),
    doc="One input of an event or of the subscription constructor (EventParameter).",
    role="event_parameter",
)

TRIGGER_IDENTITY = Obj(
    "trigger provider identity",
    (
        Field("author", S, True, "the author (organization or user)"),
        Field("name", S, True, "the provider name, unique in the plugin", pattern=IDENTITY_NAME_PATTERN, pattern_doc=IDENTITY_NAME_DOC),
        i18n("label", "the provider's display name", True),
        i18n("description", "what the provider does", True),
        Field("icon", S, False, "icon file name in _assets/", path_kind=ICON, nullable=True),
        Field("icon_dark", S, False, "dark-mode icon file name in _assets/", path_kind=ICON, nullable=True),
        Field("tags", ListOf(S), False, "categories", enum=TRIGGER_TAGS),
    ),
    doc="Who and what the trigger provider is.",
)

SUBSCRIPTION_CONSTRUCTOR = Obj(
    "subscription constructor",
    (
        Field("parameters", ListOf(EVENT_PARAMETER), False, "what the user enters to create a subscription"),
        Field("credentials_schema", CREDENTIALS_EITHER, False, "credentials the constructor needs (a list, or a mapping name -> field)"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth client and credential fields", nullable=True),
        Field("extra", python_extra("the Python file of the TriggerSubscriptionConstructor subclass"), False, "where the constructor's class lives", nullable=True),
    ),
    doc="How Dify creates a subscription for the user (the provider's source must then hold one TriggerSubscriptionConstructor subclass).",
)

TRIGGER_PROVIDER_SCHEMA = Obj(
    "trigger provider",
    (
        Field("identity", TRIGGER_IDENTITY, True, "who and what the provider is"),
        Field("subscription_schema", ListOf(PROVIDER_CONFIG_NAMED), False, "the properties of a subscription (a list; each has a name)"),
        Field("subscription_constructor", SUBSCRIPTION_CONSTRUCTOR, False, "how subscriptions are created", nullable=True),
        Field("credentials_schema", CREDENTIALS_EITHER, False, "credential fields (a list, or a mapping name -> field)"),
        Field("oauth_schema", OAUTH_SCHEMA, False, "OAuth support (read by the daemon)", nullable=True),
        Field("events", ListOf(S), False, "event YAML files", path_kind=TRIGGER_EVENT),
        Field("extra", python_extra("the Python file holding the Trigger subclass (and the TriggerSubscriptionConstructor)"), True, "where the provider's class lives"),
    ),
    doc="A trigger provider: identity, subscription schema and constructor, and its events.",
)

TRIGGER_EVENT_SCHEMA = Obj(
    "trigger event",
    (
        Field("identity", TOOL_LIKE_IDENTITY, True, "the event's name, author and label"),
        i18n("description", "what the event is (a translated text)", True),
        Field("parameters", ListOf(EVENT_PARAMETER), False, "the event's filter inputs (may be left blank)", nullable=True),
        Field("output_schema", Obj("JSON schema", (), open=True), False, "JSON schema of the variables the event produces", nullable=True),
        Field("extra", python_extra("the Python file holding the Event subclass"), True, "where the event's class lives"),
    ),
    doc="A trigger event: identity, description, parameters, outputs and its Event class.",
)

"""Schemas of agent strategy provider and strategy YAML (SDK ``entities/agent.py``:
AgentStrategyProviderConfiguration, AgentStrategyConfiguration, AgentStrategyParameter)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

AGENT_FEATURES = {"history-messages": "the strategy receives the conversation history"}

AGENT_PARAMETER = Obj(
    "agent strategy parameter",
    (
        Field("name", S, True, "the parameter name: the key in the strategy's parameters", max_length=1023),
        i18n("label", "the label shown to the user", True),
        i18n("help", "help text", nullable=True),
        Field("type", S, True, "the value type (array[tools] lets the user pick tools; any takes a scope)", enum=AGENT_PARAMETER_TYPES),
        Field("auto_generate", AUTO_GENERATE, False, "let Dify generate the value", nullable=True),
        Field("template", TEMPLATE, False, "Jinja template support", nullable=True),
        Field("scope", S, False, "restricts what can be picked; join with & (e.g. tool-call&llm)", max_length=1024, nullable=True),
        Field("required", B, False, "a value must be given (default false)", nullable=True),
        Field("default", SC, False, "the default value (a number or text)", nullable=True),
        Field("min", N, False, "smallest number allowed", nullable=True),
        Field("max", N, False, "largest number allowed", nullable=True),
        Field("precision", I, False, "decimal places", nullable=True),
        Field("options", ListOf(OPTION), False, "choices of a select", nullable=True),
        Field("reset_on_change", ListOf(S), False, "parameters reset when this one changes (read by Dify, not by the SDK)", max_items=16),
    ),
    doc="One input of the agent strategy.",
    role="parameter",
)

AGENT_PROVIDER_SCHEMA = Obj(
    "agent strategy provider",
    (
        Field("identity", provider_identity(TOOL_TAGS), True, "who and what the provider is"),
        Field("strategies", ListOf(S), False, "agent strategy YAML files", path_kind=AGENT_STRATEGY),
        Field("extra", A, False, "the provider's `extra.python.source` (neither the SDK nor the daemon reads it)", ignored=True),
    ),
    doc="An agent strategy provider: identity and the strategies it offers.",
)

AGENT_STRATEGY_SCHEMA = Obj(
    "agent strategy",
    (
        Field("identity", TOOL_LIKE_IDENTITY, True, "the strategy's name, author and label"),
        i18n("description", "what the strategy does", True),
        Field("parameters", ListOf(AGENT_PARAMETER), False, "the strategy's inputs (may be empty or left blank)", nullable=True),
        Field("output_schema", Obj("JSON schema", (), open=True), False, "JSON schema of the outputs (not read by the SDK's loader)", nullable=True),
        Field("extra", python_extra("the Python file holding the AgentStrategy subclass"), True, "where the strategy's class lives"),
        Field("has_runtime_parameters", B, False, "computes parameters at run time (not read by the SDK's loader)"),
        Field("features", ListOf(S), False, "optional features", enum=AGENT_FEATURES),
    ),
    doc="An agent strategy: identity, description, parameters and its AgentStrategy class.",
)

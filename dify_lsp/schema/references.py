"""Which YAML keys name other files of the plugin, and what those files are.

One table drives the plugin index: starting at ``manifest.yaml`` it follows
each listed key to the files it names.  Paths are relative to the plugin
root (the SDK loads them from the plugin's working directory); icons live
under ``_assets/``.
"""

from __future__ import annotations

from dataclasses import dataclass

# File kinds.
MANIFEST = "manifest"
TOOL_PROVIDER = "tool_provider"
TOOL = "tool"
MODEL_PROVIDER = "model_provider"
MODEL = "model"  # a model YAML matched by a provider's models.<type>.predefined globs
MODEL_POSITION = "model_position"  # _position.yaml: the order of a type's models
ENDPOINT_GROUP = "endpoint_group"
ENDPOINT = "endpoint"
AGENT_PROVIDER = "agent_provider"
AGENT_STRATEGY = "agent_strategy"
DATASOURCE_PROVIDER = "datasource_provider"
DATASOURCE = "datasource"
TRIGGER_PROVIDER = "trigger_provider"
TRIGGER_EVENT = "trigger_event"
PYTHON = "python"
ICON = "icon"

YAML_KINDS = (
    MANIFEST, TOOL_PROVIDER, TOOL, MODEL_PROVIDER, MODEL, MODEL_POSITION, ENDPOINT_GROUP, ENDPOINT, AGENT_PROVIDER,
    AGENT_STRATEGY, DATASOURCE_PROVIDER, DATASOURCE, TRIGGER_PROVIDER, TRIGGER_EVENT,
)

KIND_TITLES = {
    MANIFEST: "plugin manifest",
    TOOL_PROVIDER: "tool provider",
    TOOL: "tool",
    MODEL_PROVIDER: "model provider",
    MODEL: "model",
    MODEL_POSITION: "model position list",
    ENDPOINT_GROUP: "endpoint group",
    ENDPOINT: "endpoint",
    AGENT_PROVIDER: "agent strategy provider",
    AGENT_STRATEGY: "agent strategy",
    DATASOURCE_PROVIDER: "datasource provider",
    DATASOURCE: "datasource",
    TRIGGER_PROVIDER: "trigger provider",
    TRIGGER_EVENT: "trigger event",
    PYTHON: "Python source",
    ICON: "icon",
}


# The keys under a model provider's `models:` that the SDK loads (ProviderEntity.validate_models), in its order,
# and the model type each stands for.
MODEL_TYPE_KEYS = {
    "llm": "llm",
    "text_embedding": "text-embedding",
    "rerank": "rerank",
    "tts": "tts",
    "speech2text": "speech2text",
    "moderation": "moderation",
}


@dataclass(frozen=True)
class ReferenceKey:
    path: tuple[str, ...]  # keys from the document root
    target_kind: str
    is_list: bool = False


def _k(dotted: str, kind: str, is_list: bool = False) -> ReferenceKey:
    return ReferenceKey(tuple(dotted.split(".")), kind, is_list)


REFERENCE_KEYS: dict[str, tuple[ReferenceKey, ...]] = {
    MANIFEST: (
        _k("plugins.tools", TOOL_PROVIDER, True),
        _k("plugins.models", MODEL_PROVIDER, True),
        _k("plugins.endpoints", ENDPOINT_GROUP, True),
        _k("plugins.agent_strategies", AGENT_PROVIDER, True),
        _k("plugins.datasources", DATASOURCE_PROVIDER, True),
        _k("plugins.triggers", TRIGGER_PROVIDER, True),
        _k("icon", ICON),
        _k("icon_dark", ICON),
    ),
    TOOL_PROVIDER: (
        _k("tools", TOOL, True),
        _k("extra.python.source", PYTHON),
        _k("identity.icon", ICON),
        _k("identity.icon_dark", ICON),
    ),
    TOOL: (_k("extra.python.source", PYTHON),),
    MODEL_PROVIDER: (
        _k("extra.python.provider_source", PYTHON),
        _k("extra.python.model_sources", PYTHON, True),
        # The daemon reads `position` paths and checks every icon language in _assets/.
        *(_k(f"models.{t}.position", MODEL_POSITION) for t in MODEL_TYPE_KEYS),
        *(_k(f"{icon}.{lang}", ICON) for icon in ("icon_small", "icon_large", "icon_small_dark", "icon_large_dark") for lang in ("en_US", "zh_Hans", "ja_JP", "pt_BR")),
    ),
    ENDPOINT_GROUP: (_k("endpoints", ENDPOINT, True),),
    ENDPOINT: (_k("extra.python.source", PYTHON),),
    AGENT_PROVIDER: (
        _k("strategies", AGENT_STRATEGY, True),  # its extra.python.source is read by neither the SDK nor the daemon
        _k("identity.icon", ICON),
        _k("identity.icon_dark", ICON),
    ),
    AGENT_STRATEGY: (_k("extra.python.source", PYTHON),),
    DATASOURCE_PROVIDER: (
        _k("datasources", DATASOURCE, True),
        _k("extra.python.source", PYTHON),
        _k("identity.icon", ICON),
        _k("identity.icon_dark", ICON),
    ),
    DATASOURCE: (_k("extra.python.source", PYTHON),),
    TRIGGER_PROVIDER: (
        _k("events", TRIGGER_EVENT, True),
        _k("extra.python.source", PYTHON),
        _k("subscription_constructor.extra.python.source", PYTHON),
        _k("identity.icon", ICON),
        _k("identity.icon_dark", ICON),
    ),
    TRIGGER_EVENT: (_k("extra.python.source", PYTHON),),
}

# Paths inside list items written inline as mappings: (the list's key path, the key inside each item).
# An endpoint group may list endpoints inline (SDK and daemon accept both), each with its own source.
INLINE_REFERENCE_KEYS: dict[str, tuple[tuple[tuple[str, ...], ReferenceKey], ...]] = {
    ENDPOINT_GROUP: ((("endpoints",), _k("extra.python.source", PYTHON)),),
}

ICON_FOLDER = "_assets"

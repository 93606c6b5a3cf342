"""Answers to a plugin's reverse invocations (``session.model``, ``storage``, ``app``...).

A backend turns one reverse invocation (wire type + request dict) into the
response objects the daemon would stream back; each is sent to the plugin as a
``backwards_response`` with event ``response``, followed by ``end``.  Raising
:class:`BackendError` sends event ``error`` (the plugin sees ``Exception(message)``).

``mock`` answers everything offline and deterministically; ``openai`` sends the
model types to an OpenAI-compatible HTTP endpoint.  Both share the "platform"
answers (storage, files, apps, tools, workflow nodes) of :mod:`.platform`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

BACKENDS = ("mock", "openai")
MODEL_TYPES = ("llm", "text-embedding", "rerank", "tts", "speech2text", "moderation")


class BackendError(Exception):
    """A reverse invocation failed; the message goes to the plugin."""


@dataclass
class InvokeContext:
    plugin_root: Path
    manifest: Mapping[str, Any]
    responses: Mapping[str, Any] = field(default_factory=dict)  # canned answers from the invocation file
    warnings: list[str] = field(default_factory=list)
    # answers session.tool.invoke with a real tool run (set by the engine); returns None when it has no such tool
    tool_invoker: Any = None


class Backend:
    name = "base"

    def default_model(self, model_type: str) -> dict[str, Any]:
        raise NotImplementedError

    platform: Any = None  # answers storage, uploads, apps, tools and workflow nodes (the same for every backend)

    async def invoke(self, invoke_type: str, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        """Answer one reverse invocation: platform calls here, model calls in ``invoke_model``."""
        from dify_lsp.invocation.backends.platform import PLATFORM_TYPES

        if invoke_type in PLATFORM_TYPES:
            if self.platform is None:
                raise BackendError(f"{invoke_type} needs a plugin folder")
            async for item in self.platform.invoke(invoke_type, request, ctx):
                yield item
            return
        async for item in self.invoke_model(invoke_type, request, ctx):
            yield item

    def invoke_model(self, invoke_type: str, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def model_selector_value(provider: str, model: str, model_type: str) -> dict[str, Any]:
    """A model-selector value as Dify fills it, with the fields each SDK config needs."""
    value: dict[str, Any] = {"provider": provider, "model": model, "model_type": model_type}
    if model_type == "llm":
        value.update({"mode": "chat", "completion_params": {}})
    elif model_type == "rerank":
        value.update({"score_threshold": 0.0, "top_n": 3})
    elif model_type == "tts":
        value["voice"] = "alloy"
    return value


def create_backend(name: str, settings: Mapping[str, Any] | None = None, plugin_root: Path | None = None) -> Backend:
    """A backend by name, configured from the ``run`` settings object."""
    settings = settings or {}
    from dify_lsp.invocation.backends.platform import Platform

    platform = Platform(plugin_root) if plugin_root is not None else None
    if name == "mock":
        from dify_lsp.invocation.backends.mock import MockBackend

        return MockBackend(platform)
    if name == "openai":
        from dify_lsp.invocation.backends.openai import OpenAIBackend

        return OpenAIBackend(settings.get("openai") or {}, platform)
    raise ValueError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")

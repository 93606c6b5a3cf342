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

from pathlib import Path
from typing import Any, Mapping

from dify_lsp.invocation.backends.base import (
    MODEL_TYPES,
    PLATFORM_TYPES,
    Backend,
    BackendError,
    InvokeContext,
    model_selector_value,
)

BACKENDS = ("mock", "openai")

__all__ = ["BACKENDS", "MODEL_TYPES", "PLATFORM_TYPES", "Backend", "BackendError", "InvokeContext", "create_backend",
           "model_selector_value"]


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

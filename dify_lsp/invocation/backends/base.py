"""What every backend shares: the context of a reverse invocation, the error a plugin sees, the Backend base."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

# reverse invocations answered by the platform part (the same for every backend)
PLATFORM_TYPES = ("storage", "upload_file", "app", "fetch_app", "tool", "node_parameter_extractor", "node_question_classifier")
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

"""Which manifest permissions each reverse invocation needs (the daemon's table).

The daemon checks ``resource.permission`` of the manifest every time a
plugin calls back into Dify; the wire invoke type decides which flags must
be true.  This one table serves the static permission rules and the Run
invocation engine, which refuses a call exactly as the daemon would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

Flag = tuple[str, str]  # (group, key) under resource.permission, e.g. ("model", "llm")


@dataclass(frozen=True)
class PermissionNeed:
    flags: tuple[Flag, ...]  # every one must be true; empty: always allowed
    name: str  # the word in the daemon's error text

    @property
    def denied_message(self) -> str:
        return f"permission denied, you need to enable {self.name} access in plugin manifest"


# The model type (Dify's ModelType value) each model invoke type calls, by the SDK's wire invoke type
# (dify_plugin.core.entities.invocation.InvokeType).  The daemon names the same word in its permission error.
MODEL_TYPE_OF_INVOKE: dict[str, str] = {
    "llm": "llm",
    "llm_structured_output": "llm",
    "system_summary": "llm",
    "text_embedding": "text-embedding",
    "multimodal_embedding": "text-embedding",
    "rerank": "rerank",
    "multimodal_rerank": "rerank",
    "tts": "tts",
    "speech2text": "speech2text",
    "moderation": "moderation",
}

# The manifest flag (under resource.permission.model) that allows calling a model type.
_MODEL_FLAG = {"llm": "llm", "text-embedding": "text_embedding", "rerank": "rerank", "tts": "tts", "speech2text": "speech2text", "moderation": "moderation"}


def _model(model_type: str) -> PermissionNeed:
    return PermissionNeed((("model", "enabled"), ("model", _MODEL_FLAG[model_type])), model_type)


def _group(group: str) -> PermissionNeed:
    return PermissionNeed(((group, "enabled"),), group)


PERMISSION_NEEDS: dict[str, PermissionNeed] = {
    **{invoke: _model(model_type) for invoke, model_type in MODEL_TYPE_OF_INVOKE.items()},
    "node_parameter_extractor": _group("node"),
    "node_question_classifier": _group("node"),
    "app": _group("app"),
    "fetch_app": _group("app"),
    "tool": _group("tool"),
    "storage": _group("storage"),
    "upload_file": PermissionNeed((), "storage"),  # the daemon always allows uploads
}

# Every flag a manifest can grant (resource.permission.<group>.<key>), in manifest order.
PERMISSION_FLAGS: tuple[Flag, ...] = (
    ("tool", "enabled"),
    ("model", "enabled"), ("model", "llm"), ("model", "text_embedding"), ("model", "rerank"),
    ("model", "tts"), ("model", "speech2text"), ("model", "moderation"),
    ("node", "enabled"),
    ("endpoint", "enabled"),
    ("app", "enabled"),
    ("storage", "enabled"),
)


def granted(permission: Mapping[str, Any] | None, flag: Flag) -> bool:
    group = permission.get(flag[0]) if isinstance(permission, Mapping) else None
    return isinstance(group, Mapping) and group.get(flag[1]) is True


def missing_flags(permission: Mapping[str, Any] | None, invoke_type: str) -> tuple[Flag, ...]:
    need = PERMISSION_NEEDS.get(invoke_type)
    if need is None:
        return ()
    return tuple(f for f in need.flags if not granted(permission, f))


def permission_of(manifest: Mapping[str, Any] | None) -> Mapping[str, Any]:
    resource = manifest.get("resource") if isinstance(manifest, Mapping) else None
    perm = resource.get("permission") if isinstance(resource, Mapping) else None
    return perm if isinstance(perm, Mapping) else {}

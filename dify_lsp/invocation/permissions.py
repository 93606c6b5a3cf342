"""Manifest permissions for reverse invocations, checked as the Dify daemon does.

The daemon checks ``resource.permission`` of the plugin's manifest each time the
plugin calls back (``invoke`` session messages) and answers with an error whose
text the plugin sees as ``Exception(message)``.  The table and the texts below
follow the daemon's permission mapping.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

Permission = Mapping[str, Any]


def _flag(perm: Permission, group: str, name: str = "enabled") -> bool:
    section = perm.get(group) if isinstance(perm, Mapping) else None
    return isinstance(section, Mapping) and section.get(name) is True


def _model(name: str) -> Callable[[Permission], bool]:
    return lambda perm: _flag(perm, "model") and _flag(perm, "model", name)


def _group(group: str) -> Callable[[Permission], bool]:
    return lambda perm: _flag(perm, group)


def _always(perm: Permission) -> bool:
    return True


def _denied(what: str) -> str:
    return f"permission denied, you need to enable {what} access in plugin manifest"


# wire invoke type -> (allowed?, daemon error text)
PERMISSIONS: dict[str, tuple[Callable[[Permission], bool], str]] = {
    "tool": (_group("tool"), _denied("tool")),
    "llm": (_model("llm"), _denied("llm")),
    "llm_structured_output": (_model("llm"), _denied("llm")),
    "system_summary": (_model("llm"), _denied("llm")),
    "text_embedding": (_model("text_embedding"), _denied("text-embedding")),
    "multimodal_embedding": (_model("text_embedding"), _denied("text-embedding")),
    "rerank": (_model("rerank"), _denied("rerank")),
    "multimodal_rerank": (_model("rerank"), _denied("rerank")),
    "tts": (_model("tts"), _denied("tts")),
    "speech2text": (_model("speech2text"), _denied("speech2text")),
    "moderation": (_model("moderation"), _denied("moderation")),
    "node_parameter_extractor": (_group("node"), _denied("node")),
    "node_question_classifier": (_group("node"), _denied("node")),
    "app": (_group("app"), _denied("app")),
    "fetch_app": (_group("app"), _denied("app")),
    "storage": (_group("storage"), _denied("storage")),
    "upload_file": (_always, _denied("storage")),
}


def permission_error(manifest: Mapping[str, Any] | None, invoke_type: str) -> str | None:
    """The daemon's error text when ``invoke_type`` is not allowed, else None."""
    entry = PERMISSIONS.get(invoke_type)
    if entry is None:
        return f"unsupported invoke type: {invoke_type}"
    allowed, text = entry
    resource = manifest.get("resource") if isinstance(manifest, Mapping) else None
    perm = resource.get("permission") if isinstance(resource, Mapping) else None
    if not isinstance(perm, Mapping):
        perm = {}
    return None if allowed(perm) else text


def storage_limit(manifest: Mapping[str, Any] | None) -> int | None:
    """``resource.permission.storage.size`` in bytes, when set."""
    try:
        size = manifest["resource"]["permission"]["storage"]["size"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return size if isinstance(size, int) and size > 0 else None

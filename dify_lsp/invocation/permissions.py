"""Manifest permissions for reverse invocations, enforced as the Dify daemon does.

The daemon checks ``resource.permission`` of the plugin's manifest each time the
plugin calls back (``invoke`` session messages) and answers with an error whose
text the plugin sees as ``Exception(message)``.  The table itself lives in
:mod:`dify_lsp.sdk.permissions`, shared with the static permission rules.
"""

from __future__ import annotations

from typing import Any, Mapping

from dify_lsp.sdk.permissions import PERMISSION_NEEDS, missing_flags, permission_of


def permission_error(manifest: Mapping[str, Any] | None, invoke_type: str) -> str | None:
    """The daemon's error text when ``invoke_type`` is not allowed, else None."""
    need = PERMISSION_NEEDS.get(invoke_type)
    if need is None:
        return f"unsupported invoke type: {invoke_type}"
    return need.denied_message if missing_flags(permission_of(manifest), invoke_type) else None


def storage_limit(manifest: Mapping[str, Any] | None) -> int | None:
    """``resource.permission.storage.size`` in bytes, when set."""
    storage = permission_of(manifest).get("storage")
    size = storage.get("size") if isinstance(storage, Mapping) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None

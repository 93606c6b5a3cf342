"""`--format json`: LSP-style ranges (0-based, UTF-16)."""

from __future__ import annotations

import json
from typing import TextIO


def json_items(rows) -> list[dict]:
    """One JSON object per row: what `check --format json` prints, and what the MCP check tool returns."""
    return [
        {
            "path": row.display,
            "range": {"start": row.utf16(row.finding.span.start), "end": row.utf16(row.finding.span.end)},
            "severity": row.finding.severity.label,
            "code": row.finding.code,
            "message": row.message,  # in the language asked for (--lang)
            "message_en": str(row.finding.message),
        }
        for row in rows
    ]


def write_json(rows, out: TextIO) -> None:
    json.dump(json_items(rows), out, ensure_ascii=False, indent=2)
    out.write("\n")

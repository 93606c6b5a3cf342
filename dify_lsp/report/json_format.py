"""`--format json`: LSP-style ranges (0-based, UTF-16)."""

from __future__ import annotations

import json
from typing import TextIO


def write_json(rows, out: TextIO) -> None:
    items = [
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
    json.dump(items, out, ensure_ascii=False, indent=2)
    out.write("\n")

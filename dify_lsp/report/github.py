"""`--format github`: GitHub Actions workflow commands, which the run shows as annotations on the diff.

Columns are 1-based code points, as the annotations count them.
"""

from __future__ import annotations

from typing import TextIO

from dify_lsp.findings import Severity
from dify_lsp.rules.registry import RULES

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFORMATION: "notice", Severity.HINT: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write_github(rows, out: TextIO) -> None:
    for row in rows:
        f = row.finding
        rule = RULES.get(f.code)
        title = f"{f.code} {rule.name}" if rule else f.code
        props = [
            f"file={escape_property(row.display)}",
            f"line={f.span.start.line + 1}",
            f"endLine={f.span.end.line + 1}",
            f"col={f.span.start.col + 1}",
            f"endColumn={f.span.end.col + 1}",
            f"title={escape_property(title)}",
        ]
        out.write(f"::{COMMAND[f.severity]} {','.join(props)}::{escape_data(f'{f.code} {row.message}')}\n")

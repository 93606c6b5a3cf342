"""What rules report: findings with exact spans, independent of LSP."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dify_lsp.textpos import Span


class Severity(enum.IntEnum):
    # Same numbers as LSP's DiagnosticSeverity.
    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Related:
    """A second place a finding points at (LSP relatedInformation)."""

    path: Path
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class TextEdit:
    path: Path
    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A certain repair, offered as a quick fix (code action)."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = True


@dataclass(slots=True)
class Finding:
    path: Path
    span: Span
    code: str
    message: str
    severity: Severity
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()
    tags: tuple[str, ...] = ()  # "unnecessary" / "deprecated" (LSP DiagnosticTag)
    data: dict[str, Any] = field(default_factory=dict)

    def sort_key(self):
        return (str(self.path), self.span.start, self.code)

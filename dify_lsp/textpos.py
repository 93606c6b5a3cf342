"""Positions inside the engine.

The engine counts columns in code points (Python string indices), 0-based,
exactly like pygls' internal "server" positions.  Conversion to the client's
encoding (UTF-16 by default, UTF-8 or UTF-32 when negotiated) happens only at
the LSP edge (see :mod:`dify_lsp.server`) and in ``check --format json``.
"""

from __future__ import annotations

import bisect
import re
from typing import Any, NamedTuple

_LONE_CR = re.compile(r"\r(?!\n)")


def engine_text(text: str) -> str:
    """The text as the engine sees it: a lone CR (a line end for LSP) becomes LF.

    Offsets and line numbers stay those of LSP; ``\\r\\n`` is left alone (the CR
    then ends a line's text, after every position a rule reports).
    """
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def text_lines(text: str, store: Any = None) -> list[str]:
    """``text.split("\n")``; with ``store`` (an index's ``caches.document_lines``) made once per text object:
    an editor's document keeps one text per version, and every request on it (position conversion,
    providers) needs its lines.  The list is shared: never change it."""
    if store is None:
        return text.split("\n")
    known = store.get(id(text))
    if known is not None and known[0] is text:
        return known[1]
    lines = text.split("\n")
    store.put(id(text), (text, lines))
    store.put(id(lines), (lines, text))
    return lines


def text_of_lines(lines: list[str], store: Any) -> str | None:
    """The text ``lines`` were split from, when :func:`text_lines` made them with ``store`` lately."""
    known = store.get(id(lines))
    return known[1] if known is not None and known[0] is lines else None


def common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of two texts (a binary search of C comparisons)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # a[:lo] == b[:lo]; compare only the part not known equal
        mid = (lo + hi + 1) // 2
        if a.startswith(b[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix of two texts, at most ``limit``."""
    la, lb = len(a), len(b)
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.endswith(b[lb - mid : lb - lo], 0, la - lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


class Pos(NamedTuple):
    """0-based line and code-point column (a tuple: ordered, hashable, cheap to make)."""

    line: int
    col: int


class Span(NamedTuple):
    start: Pos
    end: Pos

    @classmethod
    def at(cls, line: int, col: int, end_line: int | None = None, end_col: int | None = None) -> "Span":
        return cls(Pos(line, col), Pos(line if end_line is None else end_line, col if end_col is None else end_col))

    def contains(self, pos: Pos) -> bool:
        return self.start <= pos <= self.end


class LineIndex:
    """Maps string offsets to (line, col) and back for one text."""

    __slots__ = ("text", "_starts")

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def pos(self, offset: int) -> Pos:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return Pos(line, offset - self._starts[line])

    def offset(self, pos: Pos) -> int:
        if pos.line >= len(self._starts):
            return len(self.text)
        start = self._starts[pos.line]
        end = self._starts[pos.line + 1] - 1 if pos.line + 1 < len(self._starts) else len(self.text)
        return min(start + pos.col, end)

    def span(self, start: int, end: int) -> Span:
        return Span(self.pos(start), self.pos(end))

    def line_text(self, line: int) -> str:
        if line >= len(self._starts):
            return ""
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)
        return self.text[start:end]

    def lines(self) -> list[str]:
        return self.text.split("\n")


def utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def utf16_col(line_text: str, col: int) -> int:
    """Code-point column -> UTF-16 code-unit column on one line."""
    return utf16_len(line_text[:col])

"""`--format text`: one line per finding, ``path:line:col: severity code message`` (1-based, code points).

On a terminal (or with ``--show-source``) each finding is followed by its source line with a caret span
under the reported range; with colour (``--color``; ``NO_COLOR`` turns it off in ``auto``) severities,
codes and carets stand out.  The summary goes to stderr so that stdout stays one line per finding.
"""

from __future__ import annotations

import os
import unicodedata
from typing import TextIO

from dify_lsp.findings import Severity
from dify_lsp.i18n import ENGLISH, Message, N_, msg, tr
from dify_lsp.rules.registry import RULES

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
CYAN = "\x1b[36m"
SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFORMATION: "\x1b[1;34m",
    Severity.HINT: "\x1b[1;36m",
}


def use_colour(choice: str, stream: TextIO) -> bool:
    """``--color``: always / never, or auto: a terminal, ``NO_COLOR`` unset or empty, ``TERM`` not dumb."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def excerpt(line: str, start: int, end: int) -> tuple[str, str]:
    """The source line (tabs as one space) and the caret line under [start, end) in display columns."""
    line = line.replace("\t", " ").rstrip("\r")
    end = max(end, start + 1)
    pad = sum(_width(c) for c in line[:start])
    span = sum(_width(c) for c in line[start:end]) if start < len(line) else 1
    return line, " " * pad + "^" * max(span, 1)


class TextWriter:
    def __init__(self, out: TextIO, *, colour: bool, show_source: bool):
        self.out = out
        self.colour = colour
        self.show_source = show_source

    def style(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.colour else text

    def write(self, rows) -> None:
        for row in rows:
            f = row.finding
            where = f"{row.display}:{f.span.start.line + 1}:{f.span.start.col + 1}:"
            self.out.write(
                f"{self.style(where, BOLD)} {self.style(f.severity.label, SEVERITY_STYLE[f.severity])} "
                f"{self.style(f.code, CYAN)} {row.message}\n"
            )
            if self.show_source and f.span.start.line < len(row.lines):
                self.write_excerpt(row)

    def write_excerpt(self, row) -> None:
        f = row.finding
        number = str(f.span.start.line + 1)
        line = row.lines[f.span.start.line]
        end = f.span.end.col if f.span.end.line == f.span.start.line else len(line.rstrip())
        text, carets = excerpt(line, f.span.start.col, end)
        gutter = " " * len(number)
        bar = self.style("|", DIM)
        self.out.write(f"{self.style(number, DIM)} {bar} {text}\n")
        self.out.write(f"{gutter} {bar} {self.style(carets, SEVERITY_STYLE[f.severity])}\n")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(plugins: int, rows, failing: int, fail_on: str | None, colour: bool, language: str = ENGLISH) -> str:
    """One line for stderr: how many plugins, how many findings of each severity, what fails."""
    counts: dict[Severity, int] = {}
    for row in rows:
        counts[row.finding.severity] = counts.get(row.finding.severity, 0) + 1
    if language != ENGLISH:
        return _summary_translated(plugins, counts, failing, fail_on, colour, language)
    parts = []
    for sev in sorted(counts):
        text = plural(counts[sev], sev.label)
        parts.append(f"{SEVERITY_STYLE[sev]}{text}{RESET}" if colour else text)
    found = ", ".join(parts) if parts else "no problems"
    line = f"{plural(plugins, 'plugin')} checked: {found}"
    if failing and fail_on:
        line += f" ({failing} at or above --fail-on {fail_on})"
    return line


# Counted severities for languages without plural forms (the catalogs' counterparts of plural()).
_SEVERITY_COUNTS = {
    Severity.ERROR: N_("{count} errors"),
    Severity.WARNING: N_("{count} warnings"),
    Severity.INFORMATION: N_("{count} informations"),
    Severity.HINT: N_("{count} hints"),
}


def _summary_translated(plugins: int, counts: dict[Severity, int], failing: int, fail_on: str | None, colour: bool, language: str) -> str:
    parts = []
    for sev in sorted(counts):
        text = tr(Message(_SEVERITY_COUNTS[sev], count=counts[sev]), language)
        parts.append(f"{SEVERITY_STYLE[sev]}{text}{RESET}" if colour else text)
    found = tr(N_(", "), language).join(parts) if parts else tr(N_("no problems"), language)
    line = tr(msg("{count} plugins checked: {found}", count=plugins, found=found), language)
    if failing and fail_on:
        line += tr(msg(" ({count} at or above --fail-on {level})", count=failing, level=fail_on), language)
    return line


def statistics(rows) -> list[dict]:
    """Findings counted per code, most frequent first."""
    counts: dict[str, int] = {}
    severities: dict[str, str] = {}
    for row in rows:
        counts[row.finding.code] = counts.get(row.finding.code, 0) + 1
        severities.setdefault(row.finding.code, row.finding.severity.label)
    out = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = RULES.get(code)
        out.append({"code": code, "name": rule.name if rule else "", "count": n, "severity": severities[code]})
    return out


def write_statistics(rows, out: TextIO, colour: bool) -> None:
    stats = statistics(rows)
    width = max((len(str(s["count"])) for s in stats), default=1)
    name_width = max((len(s["name"]) for s in stats), default=0)
    for s in stats:
        code = f"{CYAN}{s['code']}{RESET}" if colour else s["code"]
        out.write(f"{s['count']:>{width}}  {code}  {s['name']:<{name_width}}  {s['severity']}\n")

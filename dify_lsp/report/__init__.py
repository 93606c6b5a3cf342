"""How `dify-lsp check` writes its findings: text (with colour and source excerpts on a terminal),
JSON, SARIF 2.1.0, GitHub workflow commands and JUnit XML.

Every format gets the same rows: the path as the user gave it, the finding, and the lines of its file
(for excerpts and for converting columns to UTF-16, the unit LSP and SARIF count in).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from dify_lsp.findings import Finding
from dify_lsp.i18n import ENGLISH, tr
from dify_lsp.textpos import Pos, utf16_col


@dataclass(frozen=True, slots=True)
class Row:
    display: str  # the path as shown: relative to what the user named, or as given
    finding: Finding
    lines: tuple[str, ...]  # the file's text, split into lines (engine text)
    language: str = ENGLISH  # the language messages are written in (dify_lsp.i18n)

    @property
    def message(self) -> str:
        """The finding's message in the report's language."""
        return tr(self.finding.message, self.language)

    def utf16(self, pos: Pos) -> dict[str, int]:
        """0-based line and UTF-16 character, as in LSP."""
        text = self.lines[pos.line] if pos.line < len(self.lines) else ""
        return {"line": pos.line, "character": utf16_col(text, pos.col)}


def display_path(arg: str, arg_path: Path, file: Path) -> str:
    """How a finding's file is shown: the argument itself for a file, else relative to the folder named."""
    if arg_path.is_file():
        if file == arg_path:
            return arg
        base = arg_path.parent
        arg = os.path.dirname(arg) or "."
    else:
        base = arg_path
    try:
        rel = file.relative_to(base)
    except ValueError:
        return str(file)
    if arg in (".", "./"):
        return rel.as_posix()
    return os.path.join(arg, rel.as_posix()) if str(rel) != "." else arg


FORMATS = ("text", "json", "sarif", "github", "junit")
FORMAT_HELP = {
    "text": "path:line:col: severity code message (1-based); on a terminal with colour, the source line and a summary",
    "json": "a list of {path, range, severity, code, message, message_en}; ranges as in LSP (0-based, UTF-16)",
    "sarif": "SARIF 2.1.0 (GitHub code scanning, other SARIF viewers): rules with descriptions, results with regions",
    "github": "GitHub Actions workflow commands (::error file=...,line=...,col=...::), shown as annotations",
    "junit": "JUnit XML: one test case per finding, for CI test report views",
}


def rows_of(
    findings: Iterable[Finding],
    arg: str,
    arg_path: Path,
    read_text: Callable[[Path], str | None],
    language: str,
    shown: set[tuple],
    texts: dict[Path, tuple[str, ...]],
) -> Iterator[Row]:
    """The rows to report for what the user named: only the named file's findings when it is a file,
    each finding once across plugins (``shown``), each file's text read once (``texts``)."""
    for f in findings:
        if arg_path.is_file() and f.path != arg_path:
            continue
        key = (f.path, f.span, f.code, f.message)
        if key in shown:
            continue
        shown.add(key)
        if f.path not in texts:
            texts[f.path] = tuple((read_text(f.path) or "").split("\n"))
        yield Row(display_path(arg, arg_path, f.path), f, texts[f.path], language)


def write(fmt: str, rows: list[Row], out: TextIO) -> None:
    """Write ``rows`` in a machine format (text has its own writer with terminal options)."""
    if fmt == "json":
        from dify_lsp.report.json_format import write_json

        write_json(rows, out)
    elif fmt == "sarif":
        from dify_lsp.report.sarif import write_sarif

        write_sarif(rows, out)
    elif fmt == "github":
        from dify_lsp.report.github import write_github

        write_github(rows, out)
    elif fmt == "junit":
        from dify_lsp.report.junit import write_junit

        write_junit(rows, out)
    else:  # pragma: no cover - the CLI only offers FORMATS
        raise ValueError(f"unknown format {fmt}")

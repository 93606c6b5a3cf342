"""`--format junit`: JUnit XML, one test suite per file with findings, one failing test case per finding."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from dify_lsp.rules.registry import RULES


def write_junit(rows, out: TextIO) -> None:
    by_file: dict[str, list] = {}
    for row in rows:
        by_file.setdefault(row.display, []).append(row)
    suites = ET.Element("testsuites", name="dify-lsp", tests=str(max(len(rows), 1)), failures=str(len(rows)))
    if not rows:
        suite = ET.SubElement(suites, "testsuite", name="dify-lsp check", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no problems", classname="dify-lsp")
    for display, file_rows in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=display, tests=str(len(file_rows)), failures=str(len(file_rows)), errors="0")
        for row in file_rows:
            f = row.finding
            rule = RULES.get(f.code)
            where = f"{display}:{f.span.start.line + 1}:{f.span.start.col + 1}"
            case = ET.SubElement(suite, "testcase", name=f"{f.code} at line {f.span.start.line + 1}, column {f.span.start.col + 1}",
                                 classname=f"dify-lsp.{f.code}" + (f".{rule.name}" if rule else ""), file=display, line=str(f.span.start.line + 1))
            failure = ET.SubElement(case, "failure", message=row.message, type=f.severity.label)
            failure.text = f"{where}: {f.severity.label} {f.code} {row.message}"
    ET.indent(suites)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(suites, encoding="unicode"))
    out.write("\n")

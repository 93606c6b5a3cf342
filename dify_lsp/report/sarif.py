"""`--format sarif`: a SARIF 2.1.0 log (GitHub code scanning and other SARIF viewers).

Every rule is listed in the driver with its description and default level; each result points at its
rule by id and index, with a 1-based region whose columns count UTF-16 code units (``columnKind``).
Relative paths stay relative (resolved against the folder the check ran in, ``%SRCROOT%``).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TextIO
from urllib.parse import quote

from dify_lsp import __version__
from dify_lsp.findings import Severity
from dify_lsp.rules.registry import iter_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFORMATION: "note", Severity.HINT: "note"}


def artifact_location(display: str) -> dict[str, str]:
    path = Path(display)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(PurePosixPath(*path.parts).as_posix()), "uriBaseId": "%SRCROOT%"}


def sarif_log(rows) -> dict:
    rules = list(iter_rules())
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for row in rows:
        f = row.finding
        start, end = row.utf16(f.span.start), row.utf16(f.span.end)
        region = {
            "startLine": start["line"] + 1,
            "startColumn": start["character"] + 1,
            "endLine": end["line"] + 1,
            "endColumn": end["character"] + 1,
        }
        if f.span.start.line < len(row.lines):
            region["snippet"] = {"text": row.lines[f.span.start.line]}
        result = {
            "ruleId": f.code,
            "level": LEVEL[f.severity],
            "message": {"text": row.message},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(row.display), "region": region}}],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dify-lsp",
                        "version": __version__,
                        "rules": [
                            {
                                "id": r.code,
                                "name": r.name,
                                "shortDescription": {"text": r.description},
                                "fullDescription": {"text": r.description},
                                "defaultConfiguration": {"level": LEVEL[r.severity]},
                                "properties": {"tags": [r.family]},
                            }
                            for r in rules
                        ],
                    }
                },
                "columnKind": "utf16CodeUnits",
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
                "results": results,
            }
        ],
    }


def write_sarif(rows, out: TextIO) -> None:
    json.dump(sarif_log(rows), out, ensure_ascii=False, indent=2)
    out.write("\n")

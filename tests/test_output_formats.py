"""`check --format sarif | github | junit` through the real CLI: SARIF validated against a SARIF 2.1.0
schema (tests/fixtures/sarif), workflow commands as GitHub parses them, JUnit XML."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema

REPO = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif" / "sarif-2.1.0-core.schema.json"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def with_wide_icon(plugin: Path) -> int:
    """An icon path with an emoji and CJK (DL002) on a known line; returns the line (0-based)."""
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("icon: icon.svg", "icon: 😀图.svg"))
    return manifest.read_text().split("\n").index("icon: 😀图.svg")


def validate_sarif(log: dict) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)


def test_sarif_is_valid_and_has_rules_and_regions(llm_tool: Path):
    line = with_wide_icon(llm_tool)
    out = run("check", "llm-tool", "--format", "sarif", cwd=llm_tool.parent)
    assert out.returncode == 1, out.stderr
    log = json.loads(out.stdout)
    validate_sarif(log)
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    rules = driver["rules"]
    from dify_lsp.rules.registry import iter_rules

    registry = {r.code: r for r in iter_rules()}
    assert [r["id"] for r in rules] == list(registry)
    for r in rules:
        assert r["name"] == registry[r["id"]].name and r["shortDescription"]["text"] == registry[r["id"]].description
        assert r["properties"]["tags"] == [registry[r["id"]].family]
    assert next(r for r in rules if r["id"] == "DL207")["defaultConfiguration"]["level"] == "warning"
    assert sarif_run["columnKind"] == "utf16CodeUnits"
    results = sarif_run["results"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    (missing,) = [r for r in results if r["ruleId"] == "DL002"]
    assert missing["level"] == "error"
    loc = missing["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "llm-tool/manifest.yaml", "uriBaseId": "%SRCROOT%"}
    # 1-based; "😀图.svg" starts at column 7 and is 7 UTF-16 units long (the emoji counts 2)
    assert loc["region"]["startLine"] == line + 1 and loc["region"]["endLine"] == line + 1
    assert (loc["region"]["startColumn"], loc["region"]["endColumn"]) == (7, 14)
    (undeclared,) = [r for r in results if r["ruleId"] == "DL207"]
    assert undeclared["level"] == "warning" and "'query'" in undeclared["message"]["text"]
    hint = next(r for r in results if r["ruleId"] == "DL208")
    assert hint["level"] == "note"
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == llm_tool.parent.as_uri() + "/"


def test_sarif_of_a_clean_plugin_and_of_odd_paths_is_valid(llm_tool: Path, tmp_path: Path):
    log = json.loads(run("check", str(llm_tool), "--format", "sarif", "--select", "schema").stdout)
    validate_sarif(log)
    assert log["runs"][0]["results"] == []
    odd = tmp_path / "a plugin #1"
    llm_tool.rename(odd)
    out = run("check", "a plugin #1", "--format", "sarif", cwd=tmp_path)
    log = json.loads(out.stdout)
    validate_sarif(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("a%20plugin%20%231/") and not urlsplit(uri).scheme and not urlsplit(uri).fragment
    assert unquote(uri).startswith("a plugin #1/")
    absolute = json.loads(run("check", str(odd), "--format", "sarif").stdout)
    validate_sarif(absolute)
    loc = absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uri"].startswith(odd.as_uri()) and "uriBaseId" not in loc


def test_schema_fixture_rejects_what_sarif_forbids(llm_tool: Path):
    """The schema is strict enough to catch mistakes a SARIF consumer would reject."""
    import copy

    import pytest

    log = json.loads(run("check", str(llm_tool), "--format", "sarif").stdout)
    for mutate in (
        lambda g: g.__setitem__("version", "2.0.0"),
        lambda g: g["runs"][0]["results"][0].__setitem__("level", "warn"),
        lambda g: g["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].__setitem__("startColumn", 0),
        lambda g: g["runs"][0]["tool"]["driver"]["rules"][0].pop("id"),
        lambda g: g["runs"][0]["results"][0].__setitem__("ruleID", "DL001"),
        lambda g: g["runs"][0].__setitem__("columnKind", "bytes"),
    ):
        bad = copy.deepcopy(log)
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            validate_sarif(bad)


def test_github_workflow_commands(llm_tool: Path):
    line = with_wide_icon(llm_tool)
    tool = llm_tool / "tools" / "llm.py"
    tool.write_text(tool.read_text().replace("        for chunk in response:", "        print('a,b:c%')\n        for chunk in response:"))
    out = run("check", "llm-tool", "--format", "github", cwd=llm_tool.parent)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines), lines
    error = next(line for line in lines if "DL002" in line)
    assert error.startswith(f"::error file=llm-tool/manifest.yaml,line={line + 1},endLine={line + 1},col=7,endColumn=")
    assert ",title=DL002 missing-file::DL002 " in error
    assert any(line.startswith("::warning file=llm-tool/tools/llm.py,") and "title=DL209 print-in-plugin::" in line for line in lines)
    assert any(line.startswith("::notice ") and "DL208" in line for line in lines)


def test_github_escapes_properties_and_data():
    from dify_lsp.report.github import escape_data, escape_property

    assert escape_property("a,b:c%\nd") == "a%2Cb%3Ac%25%0Ad"
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"


def test_junit(llm_tool: Path):
    with_wide_icon(llm_tool)
    out = run("check", "llm-tool", "--format", "junit", cwd=llm_tool.parent)
    assert out.returncode == 1
    root = ET.fromstring(out.stdout)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"llm-tool/manifest.yaml", "llm-tool/tools/llm.py", "llm-tool/tools/llm.yaml"}
    (case,) = suites["llm-tool/manifest.yaml"].findall("testcase")
    assert case.get("classname") == "dify-lsp.DL002.missing-file"
    failure = case.find("failure")
    assert failure.get("type") == "error" and "DL002" in failure.text
    assert int(root.get("failures")) == sum(len(s.findall("testcase")) for s in suites.values())
    clean = ET.fromstring(run("check", "llm-tool", "--format", "junit", "--select", "schema", cwd=llm_tool.parent).stdout)
    assert clean.get("failures") == "0" and len(clean.findall("testsuite/testcase")) == 1

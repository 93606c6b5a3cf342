"""DL001-DL006: files and references, each with an exact range, and the clean case."""

from pathlib import Path

import pytest

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex, norm
from dify_lsp.textpos import Pos, Span

FAMILY_CODES = {"DL001", "DL002", "DL003", "DL004", "DL005", "DL006"}


def findings(root: Path, code: str | None = None):
    report = check_plugin(PluginIndex(), root)
    assert not report.crashes
    return [f for f in report.findings if code is None or f.code == code]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_example_plugin_has_no_file_findings(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "source: tools/llm.py", "source: tools/lm.py")
    got = [f for f in findings(llm_tool) if f.code in FAMILY_CODES]  # one reference off is reported
    line = tool.read_text().split("\n").index("    source: tools/lm.py")
    assert [(f.code, f.span) for f in got] == [("DL002", Span(Pos(line, 12), Pos(line, 23)))]
    edit(tool, "source: tools/lm.py", "source: tools/llm.py")
    assert [f for f in findings(llm_tool) if f.code in FAMILY_CODES] == []


def test_dl001_yaml_syntax_error_at_the_problem(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "  llm: A tool for invoking a large language model", "  llm: [A tool for invoking")
    (f,) = findings(llm_tool, "DL001")
    assert f.path == norm(tool)
    assert f.span == Span(Pos(13, 10), Pos(13, 11))  # where the parser gave up
    assert f.message.startswith("YAML syntax error")
    assert "started on line 13" in f.message


def test_dl002_missing_python_source_points_at_the_value(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "source: tools/llm.py", "source: tools/missing.py")
    (f,) = findings(llm_tool, "DL002")
    assert f.path == norm(tool)
    line = tool.read_text().split("\n").index("    source: tools/missing.py")
    assert f.span == Span(Pos(line, 12), Pos(line, 28))
    assert "tools/missing.py" in f.message


def test_dl002_missing_icon_after_emoji_and_cjk(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "icon: icon.svg", "icon: 图标😀.svg")
    (f,) = findings(llm_tool, "DL002")
    line = manifest.read_text().split("\n").index("icon: 图标😀.svg")
    assert f.span == Span(Pos(line, 6), Pos(line, 13))
    assert "plugin icon not found" in f.message


def test_dl003_unreferenced_tool(llm_tool: Path):
    stray = llm_tool / "tools" / "stray.yaml"
    stray.write_text((llm_tool / "tools" / "llm.yaml").read_text(), encoding="utf-8")
    (f,) = findings(llm_tool, "DL003")
    assert f.path == norm(stray)
    assert f.span == Span(Pos(0, 0), Pos(0, 8))


def test_dl004_path_outside_plugin(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    edit(tool, "source: tools/llm.py", "source: ../../etc/passwd")
    (f,) = findings(llm_tool, "DL004")
    line = tool.read_text().split("\n").index("    source: ../../etc/passwd")
    assert f.span == Span(Pos(line, 12), Pos(line, 28))
    assert findings(llm_tool, "DL002") == []


@pytest.mark.parametrize("content,problem", [(b"\x00\x01binary\x00", "binary"), (b"name: \xff\xfe\n", "UTF-8")])
def test_dl005_unreadable_tool_yaml(llm_tool: Path, content: bytes, problem: str):
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_bytes(content)
    (f,) = findings(llm_tool, "DL005")
    assert f.path == norm(tool)
    assert f.span == Span(Pos(0, 0), Pos(0, 0))
    assert problem in f.message


def test_dl005_binary_manifest_is_reported_not_raised(llm_tool: Path):
    (llm_tool / "manifest.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (f,) = findings(llm_tool, "DL005")
    assert f.path == norm(llm_tool / "manifest.yaml")


def test_dl006_duplicate_key(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "type: plugin\n", "type: plugin\nname: again\n")
    (f,) = findings(llm_tool, "DL006")
    assert f.span == Span(Pos(4, 0), Pos(4, 4))  # the second `name:`
    assert f.related[0].span == Span(Pos(2, 0), Pos(2, 4))


def test_dl003_says_list_it_or_delete_it(llm_tool: Path):
    stray = llm_tool / "tools" / "stray.yaml"
    stray.write_text((llm_tool / "tools" / "llm.yaml").read_text(), encoding="utf-8")
    (f,) = findings(llm_tool, "DL003")
    assert "list 'tools/stray.yaml' in a provider's `tools`, or delete this file" in f.message


def test_dl003_names_the_commented_out_listing(llm_tool: Path):
    stray = llm_tool / "tools" / "stray.yaml"
    stray.write_text((llm_tool / "tools" / "llm.yaml").read_text(), encoding="utf-8")
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "  - tools/llm.yaml\n", "  - tools/llm.yaml\n#  - tools/stray.yaml\n")
    (f,) = findings(llm_tool, "DL003")
    line = provider.read_text().split("\n").index("#  - tools/stray.yaml")
    assert f.path == norm(stray)
    assert f"commented-out line of provider/llm.yaml (line {line + 1})" in f.message and "uncomment" in f.message
    assert f.related[0].path == norm(provider) and f.related[0].span.start.line == line


def test_schema_errors_of_an_unlisted_tool_are_warnings_with_the_dl003_note(llm_tool: Path):
    stray = llm_tool / "tools" / "stray.yaml"
    text = (llm_tool / "tools" / "llm.yaml").read_text().replace("  name: llm\n", "  name: Bad Name!\n", 1)
    stray.write_text(text, encoding="utf-8")
    (f,) = [f for f in findings(llm_tool) if f.path == norm(stray) and f.code == "DL103"]
    assert f.severity.label == "warning" and "not listed in any provider, see DL003" in f.message
    # the same error in a listed tool stays an error
    edit(llm_tool / "tools" / "llm.yaml", "  name: llm\n", "  name: Bad Name!\n")
    (listed,) = [f for f in findings(llm_tool, "DL103") if f.path == norm(llm_tool / "tools" / "llm.yaml")]
    assert listed.severity.label == "error" and "DL003" not in listed.message


def test_dl008_inside_an_ignored_key_is_said_once_as_the_ignored_key(llm_tool: Path):
    provider = llm_tool / "provider" / "llm.yaml"
    edit(provider, "extra:\n  python:\n", "extra:\n  notes:\n    a: 1\n    a: 2\n  python:\n")
    assert findings(llm_tool, "DL008") == findings(llm_tool, "DL006") == []
    (unknown,) = [f for f in findings(llm_tool) if f.code == "DL105"]
    assert "`notes`" in unknown.message
    # a repeated key the SDK does read is still reported
    edit(provider, "  notes:\n    a: 1\n    a: 2\n", "")
    edit(provider, "  label:\n    en_US: LLM\n", "  label:\n    en_US: LLM\n    en_US: LLM 2\n")
    assert len(findings(llm_tool, "DL006") + findings(llm_tool, "DL008")) == 1

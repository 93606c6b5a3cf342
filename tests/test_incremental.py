"""Incremental checking in the editor: only rules whose inputs changed run again, and the result is always
exactly what a fresh check of the same texts finds (random edit sequences, every plugin kind)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dify_lsp.checker import PreviousRun, check_plugin
from dify_lsp.index import CONTENTS, ZERO_SPAN, PluginIndex, lookup
from dify_lsp.rules import registry
from dify_lsp.rules.registry import CHECKS, Check
from dify_lsp.schema.references import TOOL
from dify_lsp.yamlpos import YScalar

REPO = Path(__file__).resolve().parent.parent
PLUGINS = {
    "tool": REPO / "examples" / "llm-tool",
    "model": REPO / "tests" / "fixtures" / "kinds" / "model_provider",
    "trigger": REPO / "tests" / "fixtures" / "kinds" / "trigger",
    "endpoint": REPO / "tests" / "fixtures" / "kinds" / "endpoint",
    "datasource": REPO / "tests" / "fixtures" / "kinds" / "datasource",
    "agent": REPO / "tests" / "fixtures" / "kinds" / "agent_strategy",
}
FRAGMENTS = [
    "\n", "  ", ":", "- ", "[", "{", "'", "#", "&a ", "*a",
    "parameters:\n  - name: x\n    type: model-selector\n    scope: llm\n",
    "plugins:\n  tools:\n    - nope.yaml\n", "icon: nope.svg\n", "version: 1.0\n",
    "resource:\n  permission:\n    storage:\n      enabled: true\n",
    "self.session.model.llm.invoke(", "self.session.model.summary(content='x')\n",
    "tool_parameters.get('query')", "tool_parameters.get('other')\n", "print('hi')\n", "def f(:\n",
    "class X(Tool):\n    pass\n", "import os\n", "中文😀",
]


def facts(report) -> list[tuple]:
    return [(str(f.path), tuple(f.span), f.code, f.message, int(f.severity)) for f in report.findings]


def fresh(root: Path, overlays: dict[Path, str]) -> list[tuple]:
    index = PluginIndex()
    for path, text in overlays.items():
        index.source.set_overlay(path, text)
    return facts(check_plugin(index, root, {}))


def editable_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file())


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("incremental")
    out = {}
    for kind, src in PLUGINS.items():
        dest = base / kind
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
        out[kind] = dest
    return out


edit = st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 40), st.sampled_from(FRAGMENTS))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(PLUGINS)), edits=st.lists(edit, min_size=1, max_size=6))
def test_random_edit_sequences_equal_a_fresh_check(copies, kind, edits):
    root = copies[kind]
    files = editable_files(root)
    index = PluginIndex()
    previous = PreviousRun()
    check_plugin(index, root, {}, previous)
    overlays: dict[Path, str] = {}
    for which, offset, delete, fragment in edits:
        path = files[which % len(files)]
        text = overlays.get(path, path.read_text(encoding="utf-8"))
        at = offset % (len(text) + 1)
        text = text[:at] + fragment + text[at + delete :]
        overlays[path] = text
        index.source.set_overlay(path, text)
        index.invalidate(path)
        got = facts(check_plugin(index, root, {}, previous))
        assert got == fresh(root, overlays), f"after editing {path.relative_to(root)}"


def test_a_python_edit_reruns_only_rules_that_read_python(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text() + "unknown_key: 1\n")  # a schema finding to keep
    index = PluginIndex()
    previous = PreviousRun()
    first = check_plugin(index, llm_tool, {}, previous)
    assert "dify_lsp.rules.yaml_schema.yaml_files_match_schema" in previous.reran
    py = llm_tool / "tools" / "llm.py"
    index.source.set_overlay(py, py.read_text() + "\n# a comment\n")
    index.invalidate(py)
    second = check_plugin(index, llm_tool, {}, previous)
    assert previous.reran, "rules reading the Python file run again"
    assert "dify_lsp.rules.yaml_schema.yaml_files_match_schema" not in previous.reran
    assert "dify_lsp.rules.files.yaml_files_parse" not in previous.reran
    # the findings of the rules that did not run again are the very objects of the last run
    not_rerun = {r.code for c in CHECKS if c.name not in previous.reran for r in c.rules}
    kept = [f for f in second.findings if f.code in not_rerun]
    assert kept and all(any(f is g for g in first.findings) for f in kept)
    assert facts(second) == fresh(llm_tool, {py: py.read_text() + "\n# a comment\n"})


def test_a_yaml_edit_that_another_files_finding_depends_on(llm_tool: Path):
    """DL207 on tools/llm.py comes from tools/llm.yaml: editing only the YAML must update the Python file's findings."""
    py = llm_tool / "tools" / "llm.py"
    yml = llm_tool / "tools" / "llm.yaml"
    index = PluginIndex()
    previous = PreviousRun()
    before = check_plugin(index, llm_tool, {}, previous)
    assert any(f.code == "DL207" and f.path == py for f in before.findings)
    text = yml.read_text().replace("  - name: prompt\n", "  - name: query\n", 1)
    index.source.set_overlay(yml, text)
    index.invalidate(yml)
    after = check_plugin(index, llm_tool, {}, previous)
    assert not any(f.code == "DL207" and f.path == py for f in after.findings)
    assert facts(after) == fresh(llm_tool, {yml: text})


def test_a_file_that_appears_in_the_editor_reruns_the_rule_that_found_it_missing(llm_tool: Path):
    """DL216 looked for the entrypoint's main.py and did not find it; the editor then opens main.py (a file not on
    disk: its unsaved text): the rule must run again, though main.py is no file of the plugin's shape."""
    main = llm_tool / "main.py"
    text = main.read_text()
    main.unlink()
    index = PluginIndex()
    previous = PreviousRun()
    before = check_plugin(index, llm_tool, {}, previous)
    assert [f.code for f in before.findings if f.path.name == "manifest.yaml" and f.code == "DL216"] == ["DL216"]
    index.source.set_overlay(main, text)
    index.invalidate(main)
    after = check_plugin(index, llm_tool, {}, previous)
    assert not any(f.code == "DL216" for f in after.findings)
    assert facts(after) == fresh(llm_tool, {main: text})


def test_disk_changes_and_settings_rerun_everything(llm_tool: Path):
    index = PluginIndex()
    previous = PreviousRun()
    check_plugin(index, llm_tool, {}, previous)
    check_plugin(index, llm_tool, {}, previous)
    assert previous.reran == []
    (llm_tool / "tools" / "stray.yaml").write_text((llm_tool / "tools" / "llm.yaml").read_text())
    index.forget_disk_state()
    index.invalidate(llm_tool / "tools" / "stray.yaml")
    report = check_plugin(index, llm_tool, {}, previous)
    assert "dify_lsp.rules.files.tools_are_listed" in previous.reran
    assert any(f.code == "DL003" for f in report.findings)
    check_plugin(index, llm_tool, {"diagnostics": {"python": False}}, previous)
    assert "dify_lsp.rules.yaml_schema.yaml_files_match_schema" in previous.reran


# -- what a rule reads is recorded by the reader it is handed -------------------------------------------

PROBE_RULE = next(iter(registry.RULES.values()))


def _tool_names(read, plugin) -> list[str]:
    names = []
    for yf in plugin.yaml_of_kind(TOOL):
        node, _ = lookup(read.root(yf), ("identity", "name"))
        names.append(str(node.value) if isinstance(node, YScalar) else "?")
    return sorted(names)


def reads_through_its_reader(ctx):
    yield PROBE_RULE.at(ctx.plugin.manifest.path, ZERO_SPAN, "direct " + ",".join(_tool_names(ctx.read, ctx.plugin)))


def _shared_names(ctx):
    return ctx.memo(("probe", "names"), lambda ctx: _tool_names(ctx.read, ctx.plugin))


def reads_through_a_shared_analysis(ctx):
    yield PROBE_RULE.at(ctx.plugin.manifest.path, ZERO_SPAN, "shared " + ",".join(_shared_names(ctx)))


def also_reads_through_the_shared_analysis(ctx):
    yield PROBE_RULE.at(ctx.plugin.manifest.path, ZERO_SPAN, "shared again " + ",".join(_shared_names(ctx)))


def reads_without_recording(ctx):
    yield PROBE_RULE.at(ctx.plugin.manifest.path, ZERO_SPAN, "unrecorded " + ",".join(_tool_names(CONTENTS, ctx.plugin)))


def _probed(monkeypatch, *fns) -> list[str]:
    probes = [Check(fn, (PROBE_RULE,)) for fn in fns]
    monkeypatch.setattr(registry, "CHECKS", (*probes, *registry.CHECKS))
    return [p.name for p in probes]


def _rename_tool(index: PluginIndex, llm_tool: Path, name: str) -> dict[Path, str]:
    yml = llm_tool / "tools" / "llm.yaml"
    text = yml.read_text().replace("  name: llm\n", f"  name: {name}\n", 1)
    index.source.set_overlay(yml, text)
    index.invalidate(yml)
    return {yml: text}


def test_a_rule_reading_a_file_runs_again_when_that_file_changes(llm_tool: Path, monkeypatch):
    names = _probed(monkeypatch, reads_through_its_reader, also_reads_through_the_shared_analysis, reads_through_a_shared_analysis)
    index, previous = PluginIndex(), PreviousRun()
    check_plugin(index, llm_tool, {}, previous)
    # the first user of the shared analysis computed it; the second took its reads
    assert previous.rules[names[1]][0] == previous.rules[names[2]][0] != {}
    overlays = _rename_tool(index, llm_tool, "renamed")
    after = check_plugin(index, llm_tool, {}, previous)
    assert set(names) <= set(previous.reran)
    assert {"direct renamed", "shared renamed", "shared again renamed"} <= {f.message for f in after.findings}
    assert facts(after) == fresh(llm_tool, overlays)


def test_a_read_the_reader_did_not_record_goes_stale(llm_tool: Path, monkeypatch):
    # The control: a read past the rule's reader is not seen, so the incremental run keeps a stale finding.
    # (Rules cannot do this: test_rules_read_only_through_their_reader.)
    (name,) = _probed(monkeypatch, reads_without_recording)
    index, previous = PluginIndex(), PreviousRun()
    check_plugin(index, llm_tool, {}, previous)
    overlays = _rename_tool(index, llm_tool, "renamed")
    after = check_plugin(index, llm_tool, {}, previous)
    assert name not in previous.reran
    assert "unrecorded llm" in {f.message for f in after.findings}
    assert facts(after) != fresh(llm_tool, overlays)


UNRECORDED = {"_text", "_doc", "_span", "_owner_text"}  # the fields behind index.Reader
# Helpers of unrecording modules that read no file content of the index (.difyignore is read from disk, and a
# disk change re-runs every rule).
READS_NO_CONTENT = {("dify_lsp.invocation.package", "ignore_patterns")}


def _engine_modules() -> list[Path]:
    return sorted(p for p in (REPO / "dify_lsp").rglob("*.py"))


def test_rules_read_only_through_their_reader():
    """A file's content reaches a rule only through ``ctx.read``: nothing outside the index touches the raw
    fields, and no rule or analysis reads a file past its reader (CONTENTS, the source's read)."""
    offenders = []
    unrecording = set()
    for path in _engine_modules():
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        if module != "dify_lsp.index" and "CONTENTS" in path.read_text(encoding="utf-8"):
            unrecording.add(module)
    assert "dify_lsp.plugin_names" in unrecording
    for path in _engine_modules():
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ruled = rel.startswith(("dify_lsp/rules/", "dify_lsp/analysis/"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in UNRECORDED and rel not in ("dify_lsp/index.py", "dify_lsp/checker.py"):
                offenders.append(f"{rel}:{node.lineno} .{node.attr}")
            if ruled and isinstance(node, ast.Name) and node.id == "CONTENTS":
                offenders.append(f"{rel}:{node.lineno} CONTENTS")
            if ruled and isinstance(node, ast.Attribute) and node.attr in ("read", "is_file") and isinstance(node.value, ast.Attribute) and node.value.attr == "source":
                offenders.append(f"{rel}:{node.lineno} .source.{node.attr}")
            # nor through a helper that reads unrecorded (the features' and the runner's modules)
            if ruled and isinstance(node, ast.ImportFrom) and node.module in unrecording:
                offenders += [f"{rel}:{node.lineno} imports {node.module}.{a.name}" for a in node.names if (node.module, a.name) not in READS_NO_CONTENT]
    assert offenders == []

from pathlib import Path

from dify_lsp.index import CONTENTS, PluginIndex, find_plugin_roots, norm
from dify_lsp.schema.references import ICON, PYTHON, TOOL, TOOL_PROVIDER
from dify_lsp.textpos import Pos, Span


def test_loads_the_whole_chain(llm_tool: Path):
    index = PluginIndex()
    plugin = index.plugin_for(llm_tool / "tools" / "llm.py")
    assert plugin is not None and plugin.root == norm(llm_tool)
    assert plugin.kind_of(llm_tool / "provider" / "llm.yaml") == TOOL_PROVIDER
    assert plugin.kind_of(llm_tool / "tools" / "llm.yaml") == TOOL
    assert plugin.kind_of(llm_tool / "tools" / "llm.py") == PYTHON
    assert plugin.kind_of(llm_tool / "provider" / "llm.py") == PYTHON
    kinds = sorted(r.target_kind for r in plugin.refs)
    assert kinds == sorted([TOOL_PROVIDER, ICON, TOOL, PYTHON, ICON, PYTHON])
    assert all(r.exists for r in plugin.refs)
    ref = next(r for r in plugin.refs if r.target_kind == TOOL)
    assert CONTENTS.span(ref) == Span(Pos(13, 4), Pos(13, 18))  # "- tools/llm.yaml" in provider/llm.yaml


def test_editor_text_wins_over_disk(llm_tool: Path):
    index = PluginIndex()
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text().replace("provider/llm.yaml", "provider/other.yaml")
    index.source.set_overlay(manifest, text)
    plugin = index.plugin_at(llm_tool)
    ref = next(r for r in plugin.refs if r.target_kind == TOOL_PROVIDER)
    assert ref.raw == "provider/other.yaml" and not ref.exists
    # invalidation after the overlay goes away re-reads disk
    index.source.drop_overlay(manifest)
    index.invalidate(manifest)
    ref = next(r for r in index.plugin_at(llm_tool).refs if r.target_kind == TOOL_PROVIDER)
    assert ref.exists


def test_references_climbing_out_are_flagged_and_not_read(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: ../../etc/passwd"))
    plugin = PluginIndex().plugin_at(llm_tool)
    ref = next(r for r in plugin.refs if r.owner == norm(tool))
    assert ref.escapes
    assert all("passwd" not in str(p) for p in plugin.python_files)


def test_symlink_loop_does_not_hang(llm_tool: Path):
    (llm_tool / "loop").symlink_to(llm_tool / "loop")
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: loop/x.py"))
    plugin = PluginIndex().plugin_at(llm_tool)
    ref = next(r for r in plugin.refs if r.owner == norm(tool))
    assert ref.escapes or not ref.exists


def test_several_plugins_in_one_workspace(tmp_path: Path, llm_tool: Path):
    import shutil

    shutil.copytree(llm_tool, tmp_path / "nested" / "second")
    roots = find_plugin_roots(tmp_path)
    assert roots == [norm(llm_tool), norm(tmp_path / "nested" / "second")]
    index = PluginIndex()
    a = index.plugin_for(llm_tool / "tools" / "llm.yaml")
    b = index.plugin_for(tmp_path / "nested" / "second" / "tools" / "llm.yaml")
    assert a.root != b.root


def test_unreferenced_tool_yaml_is_found(llm_tool: Path):
    extra = llm_tool / "tools" / "stray.yaml"
    extra.write_text((llm_tool / "tools" / "llm.yaml").read_text())
    plugin = PluginIndex().plugin_at(llm_tool)
    assert [yf.path for yf in plugin.loose_tools] == [norm(extra)]


def test_unchanged_files_are_not_reparsed(llm_tool: Path):
    index = PluginIndex()
    first = index.plugin_at(llm_tool)
    tool_doc = CONTENTS.doc(first.yaml_files[norm(llm_tool / "tools" / "llm.yaml")])
    index.invalidate(llm_tool / "manifest.yaml")
    second = index.plugin_at(llm_tool)
    assert second is not first
    assert CONTENTS.doc(second.yaml_files[norm(llm_tool / "tools" / "llm.yaml")]) is tool_doc


def test_kept_references_follow_a_target_appearing_on_disk(llm_tool: Path, tmp_path: Path):
    """A YAML file's references are kept while its text is unchanged, but where a missing target resolves
    (its folder, then the file: here a symlink out of the plugin) is asked again after a disk change."""
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: tools/new.py"))
    index = PluginIndex()

    def ref_of_tool():
        return next(r for r in index.plugin_at(llm_tool).refs if r.owner == norm(tool) and r.target_kind == PYTHON)

    ref = ref_of_tool()
    assert not ref.exists and not ref.escapes
    index.invalidate(llm_tool / "manifest.yaml")
    again = ref_of_tool()
    assert again is not ref and (again.target, again.escapes) == (ref.target, ref.escapes)  # a new object each load
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    (llm_tool / "tools" / "new.py").symlink_to(outside)
    index.forget_disk_state()  # what the editor's file watcher reports ends here
    index.invalidate(llm_tool / "tools" / "new.py")
    assert ref_of_tool().escapes
    # the same through an invalidation alone (a file the editor does not hold changed on disk)
    (llm_tool / "tools" / "new.py").unlink()
    index = PluginIndex()
    assert not ref_of_tool().escapes
    (llm_tool / "tools" / "new.py").symlink_to(outside)
    index.invalidate(llm_tool / "tools" / "new.py")
    assert ref_of_tool().escapes

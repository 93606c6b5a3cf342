"""DL305-DL309: scopes flowing into calls, and manifest permissions, across YAML and Python."""

from pathlib import Path

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex, norm
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamledit import apply_edits

CODES = {"DL305", "DL306", "DL307", "DL308", "DL309"}


def findings(root: Path, code: str | None = None):
    report = check_plugin(PluginIndex(), root)
    assert not report.crashes, report.crashes
    return [f for f in report.findings if (f.code == code if code else f.code in CODES)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, l in enumerate(path.read_text(encoding="utf-8").split("\n")) if needle in l)


def apply_fix(fix) -> None:
    by_path: dict[Path, list] = {}
    for e in fix.edits:
        by_path.setdefault(e.path, []).append(e)
    for path, edits in by_path.items():
        path.write_text(apply_edits(path.read_text(encoding="utf-8"), edits), encoding="utf-8")


def test_agreeing_scope_call_and_permissions_give_nothing(tmp_path: Path):
    import shutil

    root = tmp_path / "summarizer"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "summarizer", root, ignore=shutil.ignore_patterns(".dify"))
    # without its storage grant, the storage call is reported at the call and in the manifest
    manifest = root / "manifest.yaml"
    edit(manifest, "    storage:\n      enabled: true\n", "    storage:\n      enabled: false\n")
    code = root / "tools" / "summarize.py"
    got = {(f.code, f.path) for f in findings(root)}
    assert got == {("DL306", norm(code)), ("DL307", norm(manifest))}
    (at_call,) = findings(root, "DL306")
    assert at_call.span.start.line == line_of(code, "self.session.storage.set")
    edit(manifest, "      enabled: false\n", "      enabled: true\n")
    assert findings(root) == []


def test_dl306_dl307_missing_permission_at_call_and_manifest_then_fixed(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "      llm: true\n", "")
    code = llm_tool / "tools" / "llm.py"
    (at_call,) = findings(llm_tool, "DL306")
    line = line_of(code, "self.session.model.llm.invoke(")
    col = code.read_text().split("\n")[line].index("self.session")
    assert at_call.path == norm(code)
    assert at_call.span == Span(Pos(line, col), Pos(line, col + len("self.session.model.llm.invoke")))
    assert "permission denied, you need to enable llm access in plugin manifest" in at_call.message
    (on_manifest,) = findings(llm_tool, "DL307")
    pline = line_of(manifest, "  permission:")
    assert on_manifest.path == norm(manifest)
    assert on_manifest.span == Span(Pos(pline, 2), Pos(pline, 12))
    assert on_manifest.related[0].path == norm(code)
    # the quick fix adds exactly model.llm, keeps the rest, and the plugin is clean again
    before = manifest.read_text()
    (fix,) = on_manifest.fixes
    apply_fix(fix)
    after = manifest.read_text()
    assert after == before.replace("      enabled: true\n", "      enabled: true\n      llm: true\n", 1)
    assert findings(llm_tool, "DL306") == [] and findings(llm_tool, "DL307") == []


def test_missing_permission_block_is_created_by_the_fix(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "  permission:\n    model:\n      enabled: true\n      llm: true\n", "")
    (f,) = findings(llm_tool, "DL307")
    assert f.span == Span(Pos(line_of(manifest, "resource:"), 0), Pos(line_of(manifest, "resource:"), 8))
    apply_fix(f.fixes[0])
    assert "  permission:\n    model:\n      enabled: true\n      llm: true\n" in manifest.read_text()
    assert findings(llm_tool, "DL306") == []


def test_dl305_scope_llm_passed_to_rerank(llm_tool: Path):
    code = llm_tool / "tools" / "llm.py"
    code.write_text(
        "from dify_plugin import Tool\n\n\n"
        "class LLMTool(Tool):\n"
        "    def _invoke(self, tool_parameters):\n"
        "        model = tool_parameters['model']\n"
        "        result = self.session.model.rerank.invoke(model_config=model, docs=['a'], query=tool_parameters['prompt'])\n"
        "        yield self.create_text_message(str(result))\n"
    )
    edit(llm_tool / "manifest.yaml", "      llm: true\n", "      rerank: true\n")
    (f,) = findings(llm_tool, "DL305")
    line = 6
    col = code.read_text().split("\n")[line].index("model, docs")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("model")))
    assert "scope 'llm'" in f.message and "rerank" in f.message
    tool_yaml = llm_tool / "tools" / "llm.yaml"
    sline = line_of(tool_yaml, "scope: llm")
    assert f.related[0].path == norm(tool_yaml)
    assert f.related[0].span == Span(Pos(sline, 11), Pos(sline, 14))


def test_dl305_quiet_when_scope_and_call_agree(llm_tool: Path):
    code = llm_tool / "tools" / "llm.py"
    edit(llm_tool / "manifest.yaml", "      llm: true\n", "      llm: true\n      rerank: true\n")
    code.write_text(
        "from dify_plugin import Tool\n\n\n"
        "class LLMTool(Tool):\n"
        "    def _invoke(self, tool_parameters):\n"
        "        m = tool_parameters.get('model')\n"
        "        r = self.session.model.rerank.invoke(m, [], tool_parameters['prompt'])\n"
        "        yield self.create_text_message(str(r))\n"
    )
    (f,) = findings(llm_tool, "DL305")  # an llm-scoped selector handed to a rerank call
    line = line_of(code, "rerank.invoke(m")
    col = code.read_text().split("\n")[line].index("(m,") + 1
    assert f.span == Span(Pos(line, col), Pos(line, col + 1))
    edit(llm_tool / "manifest.yaml", "      rerank: true\n", "")
    code.write_text(
        "from dify_plugin import Tool\n\n\n"
        "class LLMTool(Tool):\n"
        "    def _invoke(self, tool_parameters):\n"
        "        m = tool_parameters.get('model')\n"
        "        r = self.session.model.llm.invoke(model_config=m, prompt_messages=[], stream=False)\n"
        "        yield self.create_text_message(tool_parameters['prompt'] + str(r))\n"
    )
    assert findings(llm_tool, "DL305") == []


def test_dl308_unused_permission_is_a_hint(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "      llm: true\n", "      llm: true\n      rerank: true\n")
    (f,) = findings(llm_tool, "DL308")
    line = line_of(manifest, "rerank: true")
    assert f.span == Span(Pos(line, 6), Pos(line, 12))
    assert f.severity.label == "hint" and f.tags == ("unnecessary",)


def test_dl308_silent_when_code_does_not_parse(llm_tool: Path):
    edit(llm_tool / "manifest.yaml", "      llm: true\n", "      llm: true\n      rerank: true\n")
    (f,) = findings(llm_tool, "DL308")  # while the code parses, the unused grant is known
    assert f.span.start.line == line_of(llm_tool / "manifest.yaml", "rerank: true")
    code = llm_tool / "tools" / "llm.py"
    code.write_text(code.read_text() + "\ndef broken(:\n")
    assert findings(llm_tool, "DL308") == []


def test_dl309_storage_without_size_and_its_fix(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "      llm: true\n", "      llm: true\n    storage:\n      enabled: true\n")
    (f,) = findings(llm_tool, "DL309")
    line = line_of(manifest, "storage:")
    assert f.span == Span(Pos(line, 4), Pos(line, 11))
    apply_fix(f.fixes[0])
    assert "    storage:\n      enabled: true\n      size: 1048576\n" in manifest.read_text()
    assert findings(llm_tool, "DL309") == []


def test_storage_call_without_permission(llm_tool: Path):
    code = llm_tool / "tools" / "llm.py"
    edit(code, "        for chunk in response:", "        self.session.storage.set('k', b'v')\n        for chunk in response:")
    (f,) = findings(llm_tool, "DL306")
    assert "storage.enabled" in f.message
    assert "permission denied, you need to enable storage access in plugin manifest" in f.message


def test_dl305_through_a_wrapped_config(llm_tool: Path):
    code = llm_tool / "tools" / "llm.py"
    code.write_text(
        "from dify_plugin import Tool\n"
        "from dify_plugin.entities.model.text_embedding import TextEmbeddingModelConfig\n\n\n"
        "class LLMTool(Tool):\n"
        "    def _invoke(self, tool_parameters):\n"
        "        cfg = TextEmbeddingModelConfig(**tool_parameters['model'])\n"
        "        r = self.session.model.text_embedding.invoke(model_config=TextEmbeddingModelConfig(**tool_parameters['model']), texts=[tool_parameters['prompt']])\n"
        "        yield self.create_text_message(str(r))\n"
    )
    (f,) = findings(llm_tool, "DL305")
    line = 7
    text = code.read_text().split("\n")[line]
    col = text.index("TextEmbeddingModelConfig(**")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("TextEmbeddingModelConfig(**tool_parameters['model'])")))
    assert "text-embedding" in f.message


def test_dl308_grant_that_grants_nothing_is_not_reported(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    code = llm_tool / "tools" / "llm.py"
    code.write_text(code.read_text().replace("self.session.model.llm.invoke", "print"))
    # with llm: true and no model call, model.enabled is really unused
    assert [f for f in findings(llm_tool, "DL308") if "model.enabled" in f.message]
    # model.enabled with every model type false: no model call is allowed, so there is nothing to take back
    edit(manifest, "      llm: true\n", "      llm: false\n")
    assert [f for f in findings(llm_tool, "DL308") if "model.enabled" in f.message] == []


def test_dl308_an_unused_group_is_said_once_with_how_to_turn_it_off(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    edit(manifest, "      llm: true\n", "      llm: true\n    app:\n      enabled: true\n")
    (f,) = findings(llm_tool, "DL308")
    assert "app.enabled" in f.message and 'ignore = ["DL308"] in [tool.dify-lsp]' in f.message
    edit(manifest, "      llm: true\n", "      llm: true\n      rerank: true\n      tts: true\n")
    rerank = [f for f in findings(llm_tool, "DL308") if "model." in f.message]
    assert len(rerank) == 2  # model is used (llm): each unused model type is its own hint

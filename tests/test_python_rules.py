"""Python rules DL201-DL213: each one triggered with its exact range, and clean code that does not trigger it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from dify_lsp import pyscan
from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex
from dify_lsp.textpos import Pos, Span

REPO = Path(__file__).resolve().parent.parent

HEADER = """\
from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.model.llm import LLMModelConfig
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.entities.tool import ToolInvokeMessage


class LLMTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
"""
BODY_LINE = HEADER.count("\n")  # 0-based line of the first body line


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    dest = tmp_path / "llm-tool"
    shutil.copytree(REPO / "examples" / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return dest


def write_tool(plugin: Path, body: str, header: str = HEADER) -> Path:
    path = plugin / "tools" / "llm.py"
    path.write_text(header + textwrap.indent(textwrap.dedent(body), " " * 8))
    return path


def findings(plugin: Path, code: str | None = None):
    report = check_plugin(PluginIndex(), plugin)
    assert not report.crashes, report.crashes
    return [f for f in report.findings if code is None or f.code == code]


def span_of(path: Path, needle: str, nth: int = 0, inner: bool = False) -> Span:
    text = path.read_text()
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx)
    col = idx - (text.rfind("\n", 0, idx) + 1)
    if inner:
        return Span(Pos(line, col + 1), Pos(line, col + len(needle) - 1))
    return Span(Pos(line, col), Pos(line, col + len(needle)))


def part_of(span: Span, offset: int, length: int) -> Span:
    start = Pos(span.start.line, span.start.col + offset)
    return Span(start, Pos(start.line, start.col + length))


READS_BOTH = 'prompt = tool_parameters["prompt"]\nmodel = tool_parameters.get("model")\n'


# -- the example plugin ----------------------------------------------------------------------------


def test_example_reports_the_query_mistake(plugin: Path):
    tool = plugin / "tools" / "llm.py"
    (f,) = findings(plugin, "DL207")
    assert f.path == tool
    assert f.span == span_of(tool, '"query"')
    assert "'query'" in f.message and "'prompt'" in f.message and "'model'" in f.message
    assert f.related and f.related[0].path == plugin / "tools" / "llm.yaml"
    hints = findings(plugin, "DL208")
    yaml = plugin / "tools" / "llm.yaml"
    assert {(h.path, h.span) for h in hints} == {
        (yaml, part_of(span_of(yaml, "name: prompt"), 6, 6)),
        (yaml, part_of(span_of(yaml, "name: model"), 6, 5)),
    }


def test_undeclared_parameter_did_you_mean_fix(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'other = tool_parameters.get("promt")\n')
    (f,) = findings(plugin, "DL207")
    assert f.span == span_of(tool, '"promt"')
    (fix,) = f.fixes
    assert fix.edits[0].span == span_of(tool, '"promt"', inner=True) and fix.edits[0].new_text == "prompt"


def test_undeclared_parameter_through_alias_and_other_param_name(plugin: Path):
    header = HEADER.replace("tool_parameters: dict[str, Any]", "params: dict")
    tool = write_tool(plugin, 'p = params\nx = p["query"]\ny = params.get("prompt"), params["model"]\n', header=header)
    (f,) = findings(plugin, "DL214")
    assert f.span == span_of(tool, '"query"')
    assert "KeyError" in f.message
    assert findings(plugin, "DL207") == []
    assert findings(plugin, "DL208") == []
    # the alias is followed for .get and for unread parameters too
    tool = write_tool(plugin, 'p = params\nx = p.get("query")\ny = params.get("prompt")\n', header=header)
    (f,) = findings(plugin, "DL207")
    assert f.span == span_of(tool, '"query"')
    yaml = plugin / "tools" / "llm.yaml"
    assert [h.span for h in findings(plugin, "DL208")] == [part_of(span_of(yaml, "name: model"), 6, 5)]


def test_declared_parameters_are_clean(plugin: Path):
    tool = write_tool(plugin, 'prompt = tool_parameters["prompt"]\nmodel = tool_parameters.get("modle")\n')
    yaml = plugin / "tools" / "llm.yaml"
    assert [f.span for f in findings(plugin, "DL207")] == [span_of(tool, '"modle"')]
    assert [h.span for h in findings(plugin, "DL208")] == [part_of(span_of(yaml, "name: model"), 6, 5)]
    write_tool(plugin, READS_BOTH)
    assert findings(plugin, "DL207") == [] and findings(plugin, "DL208") == []


def test_unread_hint_suppressed_when_the_dict_escapes(plugin: Path):
    write_tool(plugin, "helper(None)\n")
    assert len(findings(plugin, "DL208")) == 2  # the dict kept to itself: both parameters unread
    write_tool(plugin, "helper(tool_parameters)\n")
    assert findings(plugin, "DL208") == []


# -- session misuse ----------------------------------------------------------------------------------


def test_unknown_member_with_did_you_mean(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "r = self.session.model.embedding.invoke(model_config=cfg, texts=[prompt])\n")
    (f,) = findings(plugin, "DL201")
    assert f.span == span_of(tool, "embedding")
    assert "text_embedding" in f.message
    assert f.fixes[0].edits[0].new_text == "text_embedding" and f.fixes[0].edits[0].span == f.span


def test_unknown_member_through_alias(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "m = self.session.model\nm.lm.invoke(model, [])\n")
    (f,) = findings(plugin, "DL201")
    assert f.span == part_of(span_of(tool, "m.lm.invoke"), 2, 2)
    assert "'llm'" in f.message


def test_known_members_are_clean(plugin: Path):
    write_tool(plugin, READS_BOTH + textwrap.dedent("""\
        s = self.session
        m = s.model
        m.llm.invoke(model_config=model, prompt_messages=[UserPromptMessage(content=prompt)], stream=False)
        self.session.storage.set("k", b"v")
        self.session.app.fetch_app("app")
        self.session.app_id.upper()
        self.session.model.llm.invoke.__name__
        self.runtime.credentials
        """))
    for code in ("DL201", "DL202", "DL203", "DL204", "DL205", "DL206"):
        assert findings(plugin, code) == [], code


@pytest.mark.parametrize(("code", "mistake"), [
    ("DL201", "self.session.app.fetch_ap(\"app\")"),
    ("DL202", "self.session.model.summary(text=prompt, instruction=\"x\")"),
    ("DL203", "self.session.storage.set(\"k\", b\"v\", ttl=3)"),
    ("DL204", "self.session.storage.set(\"k\")"),
    ("DL205", "self.session.storage.get(\"k\", \"v\")"),
    ("DL206", "self.session.model.text_embedding.invoke(model_config={\"provider\": \"x\"}, texts=[prompt])"),
])
def test_known_members_with_one_mistake_are_reported(plugin: Path, code: str, mistake: str):
    # the clean code above plus one wrong line: exactly that line is reported
    tool = write_tool(plugin, READS_BOTH + "s = self.session\ns.storage.set(\"k\", b\"v\")\n" + mistake + "\n")
    (f,) = findings(plugin, code)
    assert f.span.start.line == span_of(tool, mistake).start.line


def test_calling_summary_itself(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "text = self.session.model.summary(content=prompt)\n")
    (f,) = findings(plugin, "DL202")
    assert f.span == span_of(tool, "summary")
    assert ".invoke(text=..., instruction=...)" in f.message
    (fix,) = f.fixes
    assert fix.edits[0].span == Span(f.span.end, f.span.end) and fix.edits[0].new_text == ".invoke"


def test_summary_invoke_is_clean(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'text = self.session.model.summary.invoke(text=prompt)\n')
    (f,) = findings(plugin, "DL204")  # without instruction
    assert f.span == part_of(span_of(tool, "invoke(text"), 0, 6) and "instruction" in f.message
    write_tool(plugin, READS_BOTH + 'text = self.session.model.summary.invoke(text=prompt, instruction="short")\n')
    assert findings(plugin, "DL202") == [] and findings(plugin, "DL203") == [] and findings(plugin, "DL204") == []


def test_unknown_keyword(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'text = self.session.model.summary.invoke(txt=prompt, instruction="short")\n')
    (f,) = findings(plugin, "DL203")
    assert f.span == span_of(tool, "txt")
    assert f.fixes[0].edits[0].new_text == "text"
    (missing,) = findings(plugin, "DL204")
    assert "text" in missing.message


def test_missing_required_argument(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'self.session.storage.set("key")\n')
    (f,) = findings(plugin, "DL204")
    assert f.span == span_of(tool, "set")
    assert "val" in f.message


def test_too_many_positional(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'self.session.storage.get("key", "extra")\n')
    (f,) = findings(plugin, "DL205")
    assert f.span == span_of(tool, '"extra"')


def test_star_args_are_not_counted(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "self.session.storage.get(a, b)\nself.session.storage.set()\n")
    assert [f.span for f in findings(plugin, "DL205")] == [part_of(span_of(tool, "a, b)"), 3, 1)]
    assert [f.span for f in findings(plugin, "DL204")] == [span_of(tool, "set")]
    write_tool(plugin, READS_BOTH + "self.session.storage.get(*args)\nself.session.storage.set(**kw)\n")
    assert findings(plugin, "DL204") == [] and findings(plugin, "DL205") == []


def test_dict_model_config(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'r = self.session.model.text_embedding.invoke(model_config={"provider": "openai"}, texts=[prompt])\n')
    (f,) = findings(plugin, "DL206")
    assert f.span == span_of(tool, '{"provider": "openai"}')
    assert "TextEmbeddingModelConfig" in f.message
    (fix,) = f.fixes
    import_edit, wrap = fix.edits
    assert import_edit.new_text == "from dify_plugin.entities.model.text_embedding import TextEmbeddingModelConfig\n"
    assert wrap.new_text == 'TextEmbeddingModelConfig(**{"provider": "openai"})'


def test_model_selector_value_as_rerank_config(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'r = self.session.model.rerank.invoke(model, ["a"], prompt)\n')
    (f,) = findings(plugin, "DL206")
    assert f.span == part_of(span_of(tool, "model, ["), 0, 5)
    assert "model-selector parameter 'model'" in f.message and "RerankModelConfig" in f.message


def test_dict_model_config_is_fine_for_llm_and_wrapped_configs(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "self.session.model.tts.invoke(model_config=model, content_text=prompt)\n")
    (f,) = findings(plugin, "DL206")  # the same TTS call without the wrapper
    assert f.span == part_of(span_of(tool, "model, content_text"), 0, 5)
    write_tool(plugin, READS_BOTH + textwrap.dedent("""\
        self.session.model.llm.invoke(model_config=model, prompt_messages=[])
        self.session.model.llm_structured_output.invoke({"provider": "x"}, [], {})
        self.session.model.tts.invoke(model_config=TTSModelConfig(**model), content_text=prompt)
        """))
    assert findings(plugin, "DL206") == []


# -- print, syntax, versions, classes ------------------------------------------------------------------------


def test_print(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + 'print("debug 😀", prompt)\n')
    (f,) = findings(plugin, "DL209")
    assert f.span == span_of(tool, "print")


def test_print_clean_when_shadowed_or_absent(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "print(prompt)\n")
    (f,) = findings(plugin, "DL209")  # the builtin
    assert f.span == span_of(tool, "print")
    write_tool(plugin, READS_BOTH + "logger.info(prompt)\n")
    assert findings(plugin, "DL209") == []
    write_tool(plugin, READS_BOTH + "print(prompt)\n", header="from mylog import print\n" + HEADER)
    assert findings(plugin, "DL209") == []


def test_syntax_error_elsewhere_still_checks_the_rest(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "x = self.session.model.embedding\nif prompt ==:\n    pass\ny = (1,\n")
    (syntax,) = findings(plugin, "DL213")
    line = span_of(tool, "if prompt ==:").start.line
    assert syntax.span == Span(Pos(line, 8), Pos(line, 8 + len("if prompt ==:")))
    (f,) = findings(plugin, "DL201")
    assert f.span == span_of(tool, "embedding")
    assert findings(plugin, "DL207") == []


def test_parsed_file_has_no_syntax_finding(plugin: Path):
    tool = write_tool(plugin, READS_BOTH + "if prompt ==:\n    pass\n")
    (f,) = findings(plugin, "DL213")
    assert f.span.start.line == span_of(tool, "if prompt ==:").start.line
    write_tool(plugin, READS_BOTH)
    assert findings(plugin, "DL213") == []


def test_newer_sdk_needed(plugin: Path):
    (plugin / "requirements.txt").write_text("dify_plugin>=0.3.0,<0.4\n")
    tool = write_tool(plugin, READS_BOTH + 'r = self.session.model.llm_structured_output.invoke(model, [], {})\n'
                                         'self.session.app.chat.invoke("a", "q", {}, user="u")\n')
    found = findings(plugin, "DL210")
    assert {f.span for f in found} == {span_of(tool, "llm_structured_output"), span_of(tool, "user")}
    assert all(f.related[0].path == plugin / "requirements.txt" for f in found)


def test_pinned_new_enough_is_clean(plugin: Path):
    (plugin / "requirements.txt").write_text("dify_plugin==0.3.0\n")
    tool = write_tool(plugin, READS_BOTH + 'r = self.session.model.llm_structured_output.invoke(model, [], {})\n')
    (f,) = findings(plugin, "DL210")  # pinned too old
    assert f.span == span_of(tool, "llm_structured_output")
    (plugin / "requirements.txt").write_text("dify_plugin==0.10.2\n")
    write_tool(plugin, READS_BOTH + 'r = self.session.model.llm_structured_output.invoke(model, [], {})\n')
    assert findings(plugin, "DL210") == []


def test_pyproject_pin(plugin: Path):
    (plugin / "requirements.txt").unlink()
    (plugin / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["dify-plugin>=0.6.0"]\n')
    tool = write_tool(plugin, READS_BOTH + "r = self.session.model.rerank.invoke_multimodal(cfg, q, [])\n")
    (f,) = findings(plugin, "DL210")
    assert f.span == span_of(tool, "invoke_multimodal")


def test_tool_source_without_tool_class(plugin: Path):
    (plugin / "tools" / "llm.py").write_text("from dify_plugin import Endpoint\n\n\nclass LLMTool(Endpoint):\n    pass\n")
    (f,) = findings(plugin, "DL211")
    yaml = plugin / "tools" / "llm.yaml"
    assert f.path == yaml and f.span == span_of(yaml, "tools/llm.py")
    assert "Tool" in f.message and "Endpoint" in f.message


def test_tool_class_through_local_base_and_unknown_base_are_clean(plugin: Path):
    (plugin / "tools" / "llm.py").write_text(
        "from dify_plugin import Tool\n\n\nclass Base:\n    pass\n\n\nclass LLMTool(Base):\n    def _invoke(self, p):\n        yield p['prompt'], p['model']\n"
    )
    (f,) = findings(plugin, "DL211")  # a local base that is not a Tool
    assert f.span == span_of(plugin / "tools" / "llm.yaml", "tools/llm.py")
    (plugin / "tools" / "llm.py").write_text(
        "from dify_plugin import Tool\n\n\nclass Base(Tool):\n    pass\n\n\nclass LLMTool(Base):\n    def _invoke(self, p):\n        yield p['prompt'], p['model']\n"
    )
    assert findings(plugin, "DL211") == []
    (plugin / "tools" / "llm.py").write_text("from .base import Base\n\n\nclass LLMTool(Base):\n    pass\n")
    assert findings(plugin, "DL211") == []


def test_two_tool_classes(plugin: Path):
    tool = plugin / "tools" / "llm.py"
    tool.write_text("from dify_plugin import Tool\n\n\nclass A(Tool):\n    pass\n\n\nclass B(Tool):\n    pass\n")
    (f,) = findings(plugin, "DL212")
    assert f.path == tool and f.span == span_of(tool, "B")


# -- pyscan on its own ---------------------------------------------------------------------------------------------


def test_scan_reports_wire_types_and_arguments_for_permission_checks():
    scan = pyscan.scan(HEADER + textwrap.indent(textwrap.dedent("""\
        q = tool_parameters.get("prompt")
        self.session.model.llm.invoke(tool_parameters["model"], [q])
        self.session.storage.set("k", b"v")
        self.session.file.upload("a.txt", b"", "text/plain")
        """), " " * 8), None)
    assert [c.wire for c in scan.calls] == ["llm", "storage", "upload_file"]
    llm = scan.calls[0]
    bound = llm.bind()
    assert bound["model_config"].param_key == "model" and bound["model_config"].text == 'tool_parameters["model"]'
    assert bound["prompt_messages"].text == "[q]"


def test_scan_never_raises_on_garbage():
    for text in ["", "\x00\x01", "def (:\n\t\t  )]]", "class A(:\n  def f(self\n", "😀" * 1000, "if x:\n" * 200]:
        pyscan.scan(text, None)
        lines = text.split("\n")
        pyscan.chain_at(lines, Pos(len(lines) - 1, len(lines[-1])), None)
        pyscan.call_at(lines, Pos(len(lines) - 1, len(lines[-1])), None)
        pyscan.names_at(lines, Pos(0, 0), None)


def test_cursor_analysis_is_bounded_on_pathological_lines():
    import time

    line = "a." * 5000 + "b" * 5000
    t = time.perf_counter()
    for col in (len(line), len(line) - 1, 10001):
        pyscan.chain_at([line], Pos(0, col), None)
        pyscan.names_at([line], Pos(0, col), None)
        pyscan.call_at([line + "("], Pos(0, col), None)
    assert time.perf_counter() - t < 2.0


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    _pieces = st.sampled_from(["self", ".", "session", "model", "llm", "invoke", "(", ")", ",", "=", "m", " ", "\n", "    ", '"', "'", "#", "😀", "中", ":", "def ", "class ", "tool_parameters", "[", "]", "get", "print"])

    @settings(max_examples=200, deadline=None)
    @given(st.lists(_pieces, max_size=60), st.integers(min_value=0, max_value=200))
    def test_pyscan_never_raises(pieces, where):
        text = "".join(pieces)
        pyscan.scan(text, None)
        lines = text.split("\n")
        line = where % len(lines)
        pos = Pos(line, where % (len(lines[line]) + 1))
        pyscan.chain_at(lines, pos, None)
        pyscan.names_at(lines, pos, None)
        pyscan.call_at(lines, pos, None)

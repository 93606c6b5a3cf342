"""The scan of an edited Python file from the scan of its text before the edit (pyscan._rescan) is the full
scan of the new text, whatever the edit: random edit sequences on real-style plugin code (the examples, the
fixtures, the benchmark's 2,000-line tool module), each step compared with a fresh full scan."""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dify_lsp import pyscan
from dify_lsp.caches import Caches

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import workloads  # noqa: E402

LARGE = workloads.large_python()
CACHES = Caches()
SOURCES = sorted(p for folder in ("examples", "tests/fixtures") for p in (REPO / folder).rglob("*.py") if ".venv" not in p.parts)
TEXTS = [p.read_text(encoding="utf-8") for p in SOURCES]
TEXTS = [t for t in TEXTS if len(t) < 40_000 and pyscan._scan(t).syntax_error is None]

FRAGMENTS = [
    "\n", "  ", "    ", "\t", ":", "(", ")", "[", "]", "'", '"', '"""', "#", "\\", "@", "x", "pass\n", ";",
    "self.session.model.", "self.session.model.llm.invoke(model_config=cfg)\n", "import os\n",
    "from dify_plugin import Tool as print\n", "def print(): pass\n", "中文😀", "\U0001f600x", "é", "\r", "\x00",
    "if __name__ == '__main__':\n    print('x')\n", "@staticmethod\n", "@dec\n", "class X(Tool):\n    pass\n",
    "def f(:\n", "    return 1\n", "\n\n", "# -*- coding: latin-1 -*-\n", "tool_parameters.get('query')",
    "DEBUG = False\n", "x = 1; y = 2\n", "async def g():\n    await x\n", "cfg = LLMModelConfig(**tool_parameters['m'])\n",
    "self.helper(cfg)\n", "    def helper(self, c):\n        self.session.model.llm.invoke(model_config=c)\n",
]
DEFINITION = re.compile(r"\s*(async\s+)?(def|class)\s")


def comparable(x):
    """A scan as plain data: syntax nodes by their shape (a kept chunk's nodes keep the lines of the text
    they were parsed in; every position a rule reads is a span)."""
    if isinstance(x, ast.AST):
        return ("node", ast.dump(x))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, tuple((f.name, comparable(getattr(x, f.name))) for f in dataclasses.fields(x) if f.compare))
    if isinstance(x, (list, tuple)):
        return tuple(comparable(v) for v in x)
    if isinstance(x, (set, frozenset)):
        return frozenset(comparable(v) for v in x)
    if isinstance(x, dict):
        return ("dict", frozenset((k, comparable(v)) for k, v in x.items()))
    return x


def _top_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line and not line[0].isspace() and not line.startswith("#")]


@st.composite
def edited(draw, text: str) -> str:
    """One edit of the kinds typing makes: characters, lines, whole definitions, decorators, indentation."""
    lines = text.split("\n")
    kind = draw(st.integers(0, 8))
    if kind == 0 or not text:  # a fragment typed or pasted anywhere
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
    if kind == 1:  # characters deleted
        at = draw(st.integers(0, len(text)))
        return text[:at] + text[at + draw(st.integers(1, 40)) :]
    if kind == 2:  # a character replaced
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + draw(st.sampled_from("abc_ :.()'\"中😀\t")) + text[at + 1 :]
    i = draw(st.integers(0, len(lines) - 1))
    if kind == 3:
        del lines[i]
    elif kind == 4:
        lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
    elif kind == 5:  # indented or dedented
        lines[i] = "    " + lines[i] if draw(st.booleans()) else (lines[i][4:] if lines[i].startswith("    ") else lines[i].lstrip())
    elif kind == 6:  # a half-typed line
        col = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:col] + draw(st.sampled_from(FRAGMENTS)) + lines[i][col:]
    elif kind == 7:  # a top-level definition deleted, duplicated or moved
        tops = _top_lines(lines)
        if len(tops) >= 2:
            t = draw(st.integers(0, len(tops) - 2))
            a, b = tops[t], tops[t + 1]
            block = lines[a:b]
            how = draw(st.sampled_from(["delete", "duplicate", "move"]))
            if how == "duplicate":
                lines[b:b] = block
            else:
                del lines[a:b]
                if how == "move":
                    at = draw(st.sampled_from(_top_lines(lines) or [0]))
                    lines[at:at] = block
    else:  # a decorator above a definition
        defs = [k for k, line in enumerate(lines) if DEFINITION.match(line)]
        if defs:
            k = draw(st.sampled_from(defs))
            indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
            lines.insert(k, indent + draw(st.sampled_from(["@dec", "@staticmethod", f"@(\n{indent}dec)", "@x.y(1)"])))
    return "\n".join(lines)


def _assert_rescan_is_a_full_scan(before: pyscan.Scan, text: str) -> pyscan.Scan:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "invalid decimal literal" and the like, from random text
        full = pyscan._scan(text)
        kept = comparable(before)
        if not before.chunks:
            return full
        again = pyscan._rescan(text, before)  # the changed lines parsed on their own
        reparsed = pyscan._scan(text, before)  # the whole text parsed, unchanged chunks kept
    assert comparable(reparsed) == comparable(full)
    if again is not None:
        assert comparable(again) == comparable(full)
    assert comparable(before) == kept  # the earlier scan (still cached, maybe in use) is left as it was
    return again or (reparsed if reparsed.chunks else before)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_edit_sequences_rescan_as_a_full_scan(data):
    text = data.draw(st.sampled_from(TEXTS))
    scanned = pyscan._scan(text)
    for _ in range(data.draw(st.integers(1, 8))):
        new = data.draw(edited(text))
        if data.draw(st.booleans()):
            new = data.draw(edited(new))
        scanned = _assert_rescan_is_a_full_scan(scanned, new)
        text = new


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_edits_of_the_large_module_rescan_as_a_full_scan(data):
    scanned = pyscan._scan(LARGE)
    text = LARGE
    for _ in range(data.draw(st.integers(1, 4))):
        text = data.draw(edited(text))
        scanned = _assert_rescan_is_a_full_scan(scanned, text)


def test_edit_inside_one_definition_rescans_only_its_chunk():
    before = pyscan.scan(LARGE, CACHES)
    assert before.chunks is not None and len(before.chunks) > 100
    text = LARGE.replace('get("prompt"', 'get("prompt2"')
    after = pyscan.scan(text, CACHES, previous=LARGE)
    assert after.reused_chunks == len(before.chunks) - 1  # all but the tool class's
    assert comparable(after) == comparable(pyscan._scan(text))
    assert after.invokes[0].reads[0].key == "prompt2"


def test_lines_added_in_the_middle_move_the_chunks_after_them():
    lines = LARGE.split("\n")
    middle = next(i for i, line in enumerate(lines) if line.startswith("def normalize_block_050"))
    lines[middle + 2:middle + 2] = ["    extra = 1", "    extra += 1"]  # two lines more, in one helper
    text = "\n".join(lines)
    after = pyscan.scan(text, CACHES, previous=LARGE)
    assert after.reused_chunks == len(pyscan.scan(LARGE, CACHES).chunks) - 1
    assert comparable(after) == comparable(pyscan._scan(text))
    assert after.invokes[0].name_span.start.line == pyscan.scan(LARGE, CACHES).invokes[0].name_span.start.line + 2


def test_a_statement_typed_above_a_definition_rescans_the_chunk_before_too():
    lines = LARGE.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("def normalize_block_050"))
    lines[at:at] = ["    extra = 1"]  # the end of the helper above, as Python reads it
    text = "\n".join(lines)
    after = pyscan.scan(text, CACHES, previous=LARGE)
    assert after.reused_chunks == len(pyscan.scan(LARGE, CACHES).chunks) - 1
    assert comparable(after) == comparable(pyscan._scan(text))


def test_a_half_typed_line_parses_the_whole_text_but_scans_only_its_chunk_again():
    before = pyscan.scan(LARGE, CACHES)
    text = LARGE.replace('get("prompt", "")', 'get("prompt", "")\n        x = self.session.model.', 1)
    after = pyscan.scan(text, CACHES, previous=LARGE)
    assert after.syntax_error is not None
    assert after.reused_chunks == len(before.chunks) - 1
    assert comparable(after) == comparable(pyscan._scan(text))


def test_changed_imports_scan_every_chunk_again():
    pyscan.scan(LARGE, CACHES)
    text = LARGE.replace("from dify_plugin import Tool\n", "from dify_plugin import Tool\nfrom x import Session\n", 1)
    after = pyscan.scan(text, CACHES, previous=LARGE)
    assert after.reused_chunks == 0
    assert comparable(after) == comparable(pyscan._scan(text))


def test_a_file_is_scanned_from_its_last_text_that_parsed(tmp_path):
    caches = Caches()
    path = tmp_path / "tool.py"
    chunks = len(pyscan.scan_file(path, LARGE, caches).chunks)
    broken = LARGE.replace('get("prompt", "")', 'get("prompt", "")\n        x = (', 1)
    assert pyscan.scan_file(path, broken, caches).syntax_error is not None
    edited = LARGE.replace('get("prompt"', 'get("prompt2"', 1)
    after = pyscan.scan_file(path, edited, caches)  # from LARGE's scan: the broken text's is not kept as a base
    assert after.reused_chunks == chunks - 1
    assert comparable(after) == comparable(pyscan._scan(edited))

"""Re-parsing a YAML file after an edit (yamlpos.reparse_yaml) and re-validating it (yaml_schema with the
file's previous result): always exactly what a parse and a validation from scratch give, over seeded
random edits of every YAML file of the examples and fixtures, and the shortcut is really taken."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from dify_lsp.index import PluginIndex
from dify_lsp.rules.yaml_schema import validate_document
from dify_lsp.schema.references import MANIFEST, MODEL, MODEL_PROVIDER, TOOL, TOOL_PROVIDER
from dify_lsp.yamlpos import PARSE_COUNTS, YamlDocument, YMap, YNode, YScalar, YSeq, parse_yaml, reparse_yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import workloads  # noqa: E402


def yaml_files() -> list[Path]:
    found = [*(REPO / "examples").rglob("*.yaml"), *(REPO / "tests" / "fixtures" / "kinds").rglob("*.yaml"), *(REPO / "tests" / "fixtures" / "real_plugins").rglob("*.yaml")]
    return sorted(p for p in found if ".venv" not in p.parts)


def tree_difference(a: YNode, b: YNode, where: str = "root") -> str | None:
    """Where two parses differ (class, span, tag, value, raw, style, children), or None."""
    if a.__class__ is not b.__class__:
        return f"{where}: {a.__class__.__name__} vs {b.__class__.__name__}"
    if a.span != b.span or a.tag != b.tag:
        return f"{where}: {a.span} {a.tag} vs {b.span} {b.tag}"
    if isinstance(a, YScalar):
        assert isinstance(b, YScalar)
        if (a.raw, a.style, type(a.value)) != (b.raw, b.style, type(b.value)) or a.value != b.value:
            return f"{where}: {a.raw!r} vs {b.raw!r}"
        return None
    if isinstance(a, YSeq):
        assert isinstance(b, YSeq)
        if len(a.items) != len(b.items):
            return f"{where}: {len(a.items)} vs {len(b.items)} items"
        for i, (x, y) in enumerate(zip(a.items, b.items)):
            if (d := tree_difference(x, y, f"{where}[{i}]")) is not None:
                return d
        return None
    assert isinstance(a, YMap) and isinstance(b, YMap)
    if len(a.pairs) != len(b.pairs):
        return f"{where}: {len(a.pairs)} vs {len(b.pairs)} pairs"
    for x, y in zip(a.pairs, b.pairs):
        d = tree_difference(x.key, y.key, f"{where}.<key {x.key_text}>") or tree_difference(x.value, y.value, f"{where}.{x.key_text}")
        if d is not None:
            return d
    return None


def document_difference(got: YamlDocument, want: YamlDocument) -> str | None:
    if (got.error is None) != (want.error is None):
        return f"error: {got.error} vs {want.error}"
    if got.error is not None and want.error is not None and (got.error.span, got.error.message) != (want.error.span, want.error.message):
        return f"error: {got.error} vs {want.error}"
    if got.alias_count != want.alias_count:
        return "alias count"
    dups = lambda d: [(f.key.span, r.key.span) for f, r in d.duplicate_keys]  # noqa: E731
    if dups(got) != dups(want):
        return f"duplicate keys: {dups(got)} vs {dups(want)}"
    if (got.root is None) != (want.root is None):
        return "root"
    return tree_difference(got.root, want.root) if got.root is not None and want.root is not None else None


PIECES = [
    " ", "  ", "\n", "\n  ", "\n    ", "\n  - ", "- ", ": ", ":", "#", "x", "abc", "'", '"', "|", "|+", ">-", "[", "]",
    "{", "}", ",", "&a ", "*a", "!", "!!str ", "?", "%", "---", "...", "\t", "\r", "\u2028", "é", "😀", "1", "null", "~",
    "\n\n", "- name: q\n", "    k: v\n", "  - a\n", "key: [1,\n  2]\n",
]


def typed(text: str, rng: random.Random) -> str:
    """An edit as typing makes it: characters in a line, a line added, copied or removed."""
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    line = lines[k]
    i = rng.randrange(len(line) + 1)
    r = rng.random()
    if r < 0.4:
        lines[k] = line[:i] + rng.choice(["x", "ab", "1", " ", "é", "😀", "-", ":", "#"]) + line[i:]
    elif r < 0.55:
        lines.insert(rng.randrange(len(lines) + 1), line)
    elif r < 0.7:
        del lines[k]
    elif r < 0.8:
        lines.insert(k, " " * rng.randrange(6))
    else:
        lines[k] = line[:i] + line[i + rng.randrange(1, 4):]
    return "\n".join(lines)


def anything(text: str, rng: random.Random) -> str:
    """An edit anywhere in the text, YAML's punctuation included."""
    i = rng.randrange(len(text) + 1)
    j = min(len(text), i + rng.randrange(0, 12))
    return text[:i] + (rng.choice(PIECES) if rng.random() < 0.8 else "") + text[j:]


def edit_sequences(text: str, rng: random.Random, steps: int):
    """(old, new) text pairs of one random edit sequence."""
    for _ in range(steps):
        new = typed(text, rng) if rng.random() < 0.6 else anything(text, rng)
        yield text, new
        text = new


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_a_reparse_after_random_edits_equals_a_full_parse(path: Path):
    rng = random.Random(path.name)
    text = path.read_text(encoding="utf-8")
    doc = parse_yaml(text)
    for old, new in edit_sequences(text, rng, 40):
        assert old == text
        got = reparse_yaml(old, doc, new)
        want = parse_yaml(new)
        difference = document_difference(got, want)
        assert difference is None, f"{difference}\nold: {old!r}\nnew: {new!r}"
        text, doc = new, got


def test_typing_in_the_benchmarks_large_tool_yaml_reparses_only_the_edited_part():
    text = workloads.large_tool_yaml(1200)
    doc = parse_yaml(text)
    rng = random.Random(7)
    partial = valid = 0
    for _ in range(60):
        new = typed(text, rng)
        before = PARSE_COUNTS["partial"]
        got = reparse_yaml(text, doc, new)
        want = parse_yaml(new)
        difference = document_difference(got, want)
        assert difference is None, f"{difference}\nold: {text!r}\nnew: {new!r}"
        if want.ok and not want.duplicate_keys:  # a broken text is parsed in full until it is fixed
            valid += 1
            partial += PARSE_COUNTS["partial"] - before
            text, doc = new, got
    assert valid >= 20 and partial >= valid * 2 // 3


CASES = {
    # (old, new, reparsed in part?)
    "a value typed": ("a:\n  - name: x\n    type: y\n  - name: z\nb: 1\n", "a:\n  - name: xy\n    type: y\n  - name: z\nb: 1\n", True),
    "a key added inside an item": ("a:\n  - name: x\n  - name: z\nb: 1\n", "a:\n  - name: x\n    k: v\n  - name: z\nb: 1\n", True),
    "a line added before the rest": ("a:\n  b: 1\n  c: |\n    text\n\n  d: 2\ne: 3\n", "a:\n  b: 1\n\n  c: |\n    text\n\n  d: 2\ne: 3\n", True),
    "a block scalar ending an item": ("l:\n  - x: |\n      yo\n\n  # c\n  - z: 2\n", "l:\n  - x: |\n      yoo\n\n  # c\n  - z: 2\n", True),
    "no newline at the end": ("a: 1\nb:\n  c: 2", "a: 1\nb:\n  c: 23", True),
    "spaces after the last newline": ("a: 1\nb:\n  c: 2\n", "a: 1\nb:\n  c: 2\n ", True),
    "a line joined to the next": ("a:\n  b: x\n  c: y\n", "a:\n  b: x  c: y\n", False),
    "a duplicate key made": ("a:\n  b: 1\n  c: 2\n", "a:\n  b: 1\n  b: 2\n", False),
    "an alias used": ("a: &x 1\nb:\n  c: 2\n", "a: &x 1\nb:\n  c: *x\n", False),
    "a flow mapping edited": ("a: {b: 1,\n  c: 2}\nd: 1\n", "a: {b: 1,\n  c: 3}\nd: 1\n", True),
    "a broken edit": ("a:\n  b: 1\n  c: 2\n", "a:\n  b: [1\n  c: 2\n", False),
    "an item dedented": ("a:\n  - b: 1\n    c: 2\nd: 3\n", "a:\n  - b: 1\n  c: 2\nd: 3\n", False),
    "an anchor repeated": ("a: &x 1\nb:\n  c: 2\n", "a: &x 1\nb:\n  c: &x 2\n", False),
    "a tag before a key": ("m:\n  a:\n    b: 1\n  c:\n    d:\n\ne: 1\n", "m:\n  a:\n    b: 1\n  !c:\n    d:\n\ne: 1\n", False),
    "an explicit key ending an element": ("m:\n  s:\n    t: b\n  r: 1\n", "m:\n  s:\n    ? t: b\n  r: 1\n", True),
    "an explicit key with no value": ("m:\n  s:\n    a: b\n  r: 1\n", "m:\n  s:\n    ? a b\n  r: 1\n", True),
    "a tag directive": ("%TAG ! tag:e.com,2000:\n---\na:\n  b: !x 1\nc: 2\n", "%TAG ! tag:e.com,2000:\n---\na:\n  b: !x 12\nc: 2\n", False),
    "an explicit document start": ("---\na:\n  b: 1\nc: 2\n", "---\na:\n  b: 12\nc: 2\n", True),
    "a document end": ("a:\n  b: 1\nc: 2\n...\n", "a:\n  b: 12\nc: 2\n...\n", False),
    "a document marker": ("a:\n  b: 1\nc: 2\n", "a:\n  b: 1\n---\nc: 2\n", False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edit_cases(name: str):
    old, new, partially = CASES[name]
    before = PARSE_COUNTS["partial"]
    got = reparse_yaml(old, parse_yaml(old), new)
    assert document_difference(got, parse_yaml(new)) is None
    assert (PARSE_COUNTS["partial"] > before) == partially


def test_the_index_reparses_an_edited_file_in_part(tmp_path: Path):
    path = tmp_path / "tool.yaml"
    text = workloads.large_tool_yaml(400)
    index = PluginIndex()
    first = index.parse_yaml_text(path, text)
    before = dict(PARSE_COUNTS)
    edited = text.replace("- name: prompt", "- name: prompt1", 1)
    doc = index.parse_yaml_text(path, edited)
    assert PARSE_COUNTS["partial"] == before["partial"] + 1 and PARSE_COUNTS["full"] == before["full"]
    assert document_difference(doc, parse_yaml(edited)) is None
    # the parameters after the edited one are the same nodes
    assert first.root.get("parameters").items[1] is doc.root.get("parameters").items[1]


KINDS = {"manifest.yaml": MANIFEST, "provider": TOOL_PROVIDER, "tools": TOOL, "models": MODEL}


def kind_of(path: Path) -> str | None:
    if path.name == "manifest.yaml":
        return MANIFEST
    if "models" in path.parts:
        return MODEL_PROVIDER if path.parent.name == "provider" else MODEL
    return KINDS.get(path.parent.name)


def result_facts(result) -> tuple:
    return (
        [(f.code, f.span, f.message, f.related, f.fixes, f.severity) for f in result.findings],
        [(id(p.node), p.schema, p.path) for p in result.params],
    )


@pytest.mark.parametrize("path", [p for p in yaml_files() if kind_of(p)], ids=lambda p: str(p.relative_to(REPO)))
def test_a_validation_reusing_the_last_one_equals_a_fresh_one(path: Path):
    kind = kind_of(path)
    rng = random.Random(path.name)
    text = path.read_text(encoding="utf-8")
    doc = parse_yaml(text)
    previous = validate_document(path, kind, doc)
    for old, new in edit_sequences(text, rng, 25):
        doc = reparse_yaml(old, doc, new)
        got = validate_document(path, kind, doc, previous)
        assert result_facts(got) == result_facts(validate_document(path, kind, doc))
        previous = got


def test_a_validation_after_an_edit_walks_only_the_edited_item():
    text = workloads.large_tool_yaml(1200)
    doc = parse_yaml(text)
    first = validate_document(Path("t.yaml"), TOOL, doc)
    edited = text.replace("- name: option_003", "- name: option-003", 1)
    doc2 = reparse_yaml(text, doc, edited)
    again = validate_document(Path("t.yaml"), TOOL, doc2, first)
    items = len(doc2.root.get("parameters").items)
    # every other parameter, and the three options of the edited one, are taken from the first validation
    assert again.reused == items - 1 + 3
    assert result_facts(again) == result_facts(validate_document(Path("t.yaml"), TOOL, doc2))

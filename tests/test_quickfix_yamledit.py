"""The formatting-preserving YAML edits behind the quick fixes: list items and mapping entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from dify_lsp.yamledit import add_entry, append_item, apply_edits, remove_item
from dify_lsp.yamlpos import parse_yaml

P = Path("x.yaml")
ITEM = "name: q\ntype: string"


def _append(text: str, key: str = "parameters", item: str = ITEM) -> str | None:
    edits = append_item(P, text, parse_yaml(text).root, key, item)
    return None if edits is None else apply_edits(text, edits)


@pytest.mark.parametrize(
    "before, after",
    [
        # items keep the indentation already used, comments and what follows stay
        ("a: 1\nparameters:  # the inputs\n  - name: x  # first\n    type: string\n# trailing\nextra: {}\n",
         "a: 1\nparameters:  # the inputs\n  - name: x  # first\n    type: string\n  - name: q\n    type: string\n# trailing\nextra: {}\n"),
        ("parameters:\n- name: x\n", "parameters:\n- name: x\n- name: q\n  type: string\n"),
        # an empty or null list becomes a block list
        ("a: 1\nparameters:\nb: 2\n", "a: 1\nparameters:\n  - name: q\n    type: string\nb: 2\n"),
        ("a: 1\nparameters: [] # none yet\n", "a: 1\nparameters: # none yet\n  - name: q\n    type: string\n"),
        ("a: 1\nparameters: null", "a: 1\nparameters:\n  - name: q\n    type: string\n"),
        # a missing key is added at the end of the mapping
        ("a: 1\nb:\n  c: 2\n", "a: 1\nb:\n  c: 2\nparameters:\n  - name: q\n    type: string\n"),
        ("a: 1", "a: 1\nparameters:\n  - name: q\n    type: string\n"),
    ],
)
def test_append_item(before, after):
    assert _append(before) == after
    assert parse_yaml(after).error is None


@pytest.mark.parametrize("text", ["parameters: [{name: x}]\n", "parameters: some text\n", "{parameters: []}\n"])
def test_append_item_leaves_flow_and_scalars_alone(text):
    assert _append(text) is None


def test_remove_item_takes_its_lines_and_keeps_the_others():
    text = "p:\n  - name: x\n    t: 1\n  - name: y  # keep\n    t: 2\nz: 1\n"
    seq = parse_yaml(text).root.get("p")
    assert apply_edits(text, [remove_item(P, text, seq, seq.items[0])]) == "p:\n  - name: y  # keep\n    t: 2\nz: 1\n"
    assert apply_edits(text, [remove_item(P, text, seq, seq.items[1])]) == "p:\n  - name: x\n    t: 1\nz: 1\n"
    only = "p:\n  - name: x\n"
    single = parse_yaml(only).root.get("p")
    assert remove_item(P, only, single, single.items[0]) is None  # would leave `p:` empty: not certain


@pytest.mark.parametrize(
    "before, after",
    [
        ("c:\n  api_key:\n    type: secret-input\ntools: []\n", "c:\n  api_key:\n    type: secret-input\n  token:\n    type: text-input\ntools: []\n"),
        ("a: 1\nc: {}\n", "a: 1\nc:\n  token:\n    type: text-input\n"),
        ("a: 1\n", "a: 1\nc:\n  token:\n    type: text-input\n"),
    ],
)
def test_add_entry(before, after):
    edits = add_entry(P, before, parse_yaml(before).root, "c", "token", "type: text-input")
    assert apply_edits(before, edits) == after


def test_add_entry_leaves_a_flow_mapping_alone():
    text = "c: {api_key: {type: secret-input}}\n"
    assert add_entry(P, text, parse_yaml(text).root, "c", "token", "type: text-input") is None

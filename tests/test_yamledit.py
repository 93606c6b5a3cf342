from pathlib import Path

import yaml

from dify_lsp.yamledit import apply_edits, ensure_true
from dify_lsp.yamlpos import parse_yaml

P = Path("/plugin/manifest.yaml")
BASE = ("resource", "permission")


def fix(text: str, flags):
    edits = ensure_true(P, text, parse_yaml(text).root, BASE, flags)
    return None if edits is None else apply_edits(text, edits)


def perm(text: str):
    return yaml.safe_load(text)["resource"]["permission"]


def test_adds_a_key_to_an_existing_group_keeping_comments():
    text = "version: 0.0.1\nresource:\n  memory: 1\n  permission:\n    model:\n      enabled: true  # models\n    # storage later\nplugins: {}\n"
    out = fix(text, [("model", "enabled"), ("model", "llm")])
    assert out == "version: 0.0.1\nresource:\n  memory: 1\n  permission:\n    model:\n      enabled: true  # models\n      llm: true\n    # storage later\nplugins: {}\n"


def test_adds_a_new_group_at_the_groups_indentation():
    text = "resource:\n    permission:\n        tool:\n            enabled: true\nmeta: {}\n"
    out = fix(text, [("model", "enabled"), ("model", "rerank")])
    assert perm(out) == {"tool": {"enabled": True}, "model": {"enabled": True, "rerank": True}}
    assert "        model:\n          enabled: true\n          rerank: true\n" in out


def test_turns_false_into_true():
    text = "resource:\n  permission:\n    model:\n      enabled: false\n      llm: true\n"
    out = fix(text, [("model", "enabled"), ("model", "llm")])
    assert out == text.replace("enabled: false", "enabled: true")


def test_builds_permission_under_resource():
    text = "resource:\n  memory: 268435456\nplugins:\n  tools: []\n"
    out = fix(text, [("storage", "enabled")])
    assert out == "resource:\n  memory: 268435456\n  permission:\n    storage:\n      enabled: true\nplugins:\n  tools: []\n"


def test_builds_resource_at_the_end_without_trailing_newline():
    text = "version: 0.0.1\ntype: plugin"
    out = fix(text, [("app", "enabled")])
    assert perm(out) == {"app": {"enabled": True}}
    assert out.startswith("version: 0.0.1\ntype: plugin\nresource:\n")


def test_flow_style_is_left_alone():
    assert fix("resource: {permission: {model: {enabled: true}}}\n", [("model", "llm")]) is None


def test_nothing_to_do():
    text = "resource:\n  permission:\n    app:\n      enabled: true\n"
    assert fix(text, [("app", "enabled")]) == text

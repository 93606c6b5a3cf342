"""The README's settings table against the code: every setting the server reads is listed once, with its default.

What the server reads is found in its source (each constant-key read of a mapping named ``settings``,
``run_settings`` or ``<x>.settings``, and the keys the rule selection looks up), so a new setting that is not
documented, or a documented one nothing reads, fails here.  The editors' own lists (VS Code's package.json,
tested in vscode-client/test/configuration.test.ts) are checked against this same table.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dify_lsp.config import layer_from_settings
from dify_lsp.features.diagnostics import DiagnosticsService
from dify_lsp.invocation import engine, kinds
from dify_lsp.invocation.backends.openai import OpenAIBackend
from dify_lsp.config import disabled_families
from dify_lsp.rules.registry import iter_rules

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "dify_lsp"
NAMESPACES = {"run", "openai", "diagnostics"}  # keys that only hold other settings
SECTION = "dify"  # didChangeConfiguration wraps the settings object in it; not a setting


def readme_table() -> dict[str, str]:
    """key -> default cell of README.md's "### Settings" table (``diagnostics.<family>`` kept as written)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n### Settings\n", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str] = {}
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        keys, default = (cell.strip() for cell in row.split("|")[1:3])
        for key in re.findall(r"`([^`]+)`", keys):
            assert key not in table, f"README lists the setting {key} twice"
            table[key] = default
    return table


def _settings_receiver(node: ast.expr) -> bool:
    return ast.unparse(node).split(".")[-1].endswith("settings")


def code_reads() -> dict[str, list[Any]]:
    """Keys read from a settings mapping in dify_lsp's source -> the fallback constants written after them (`or x`)."""
    reads: dict[str, list[Any]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        fallback: dict[int, Any] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and isinstance(node.values[-1], ast.Constant):
                for value in node.values[:-1]:
                    fallback[id(value)] = node.values[-1].value
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
                receiver, key = node.func.value, node.args[0]
            elif isinstance(node, ast.Subscript):
                receiver, key = node.value, node.slice
            else:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and _settings_receiver(receiver):
                reads.setdefault(key.value, [])
                if id(node) in fallback:
                    reads[key.value].append(fallback[id(node)])
    return reads


class RecordingSettings(dict):
    """An empty settings mapping that records which keys are asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default


def selection_keys() -> set[str]:
    """Keys the rule selection asks for (it loops over them, so the source holds no `.get("...")` of each)."""
    recorded = RecordingSettings()
    layer_from_settings(recorded)
    disabled_families(recorded)
    keys = set(recorded.asked)
    recorded = RecordingSettings()
    recorded.update({"select": ["DL2"], "extendSelect": [], "ignore": []})
    recorded.asked.clear()
    layer_from_settings(recorded)  # with a selection present, each key is read
    return keys | recorded.asked


def test_every_setting_the_server_reads_is_listed_once():
    table = readme_table()
    read = (set(code_reads()) | selection_keys()) - {SECTION}
    listed_leaves = {key.rsplit(".", 1)[-1] for key in table if "<" not in key}
    assert read - NAMESPACES == listed_leaves, (
        f"read but not in the README: {sorted(read - NAMESPACES - listed_leaves)}; "
        f"in the README but read nowhere: {sorted(listed_leaves - read)}"
    )
    for key in table:  # and every namespace a listed key sits in is one the code reads
        assert set(key.split(".")[:-1]) <= read & NAMESPACES, key


def test_the_families_listed_are_the_rule_families():
    meaning = next(
        row for row in (REPO / "README.md").read_text(encoding="utf-8").splitlines() if row.startswith("| `diagnostics.<family>`")
    ).split("|")[3]
    assert set(re.findall(r"`([a-z]+)`", meaning)) == {rule.family for rule in iter_rules()}


def _literal(cell: str) -> Any:
    match = re.fullmatch(r"`([^`]*)`", cell)
    assert match, f"not a single value: {cell!r}"
    try:
        return json.loads(match.group(1))
    except json.JSONDecodeError:
        return match.group(1)


def test_defaults_are_the_codes():
    table = readme_table()
    openai = OpenAIBackend({})
    measured = {
        "run.timeout": engine.DEFAULT_TIMEOUT,
        "run.openai.baseUrl": openai.base_url,
        "run.openai.apiKeyEnv": openai.key_env,
        "run.openai.models": openai.models,
        "debounceMs": DiagnosticsService.debounce.fget(SimpleNamespace(server=SimpleNamespace(settings={}))) * 1000,
    }
    assert kinds.DEFAULT_TIMEOUT == engine.DEFAULT_TIMEOUT  # tools and the other kinds stop at the same time
    for key, value in measured.items():
        assert _literal(table[key]) == value, key
    assert _literal(table["diagnostics.<family>"]) is True and disabled_families({}) == set()
    for key in ("select", "extendSelect", "ignore"):
        assert _literal(table[key]) == []
    assert layer_from_settings({}) is None  # nothing selected: the plugin's own configuration decides
    # the fallbacks written in the code (`settings.get("backend") or "mock"`) are the documented defaults
    for key, fallbacks in code_reads().items():
        for full in (k for k in table if k.rsplit(".", 1)[-1] == key):
            for fallback in (f for f in fallbacks if f is not None):  # `or None`: unset
                assert _literal(table[full]) == fallback, (full, fallback)
    assert code_reads()["backend"] == ["mock", "mock"]
    assert code_reads()["credentialType"] == ["api-key"]

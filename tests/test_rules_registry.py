"""The rule registry: one explicit table, checked; and each check is what produces its codes."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from dify_lsp import checker
from dify_lsp.findings import Severity
from dify_lsp.index import PluginIndex, find_plugin_roots
from dify_lsp.rules import check, define_rule
from dify_lsp.rules import registry
from dify_lsp.settings import ServerSettings

from conftest import REPO

TRIGGERS = REPO / "tests" / "fixtures" / "rule_triggers"
# Every plugin the repository carries as a fixture or an example; the marketplace family on.
FIXTURE_ROOTS = sorted(
    root
    for root in {*find_plugin_roots(REPO / "tests" / "fixtures", max_depth=8), *find_plugin_roots(REPO / "examples")}
    if TRIGGERS not in root.parents
)
SETTINGS = ServerSettings.from_client({"marketplace": True})

# Codes no fixture plugin folder triggers: what only a .difypkg checked in place reports (not a zip, an unsafe
# member path, over 50 MB packed, a member not inflated) and the package limits whose fixture would be a 50 MB
# or 5,000-file folder; their tests build them in temporary folders.  tests/fixtures/rule_triggers/<CODE>/ holds
# one plugin for each other code that the examples and the other fixtures do not trigger, written as a change to
# another fixture: BASE names that plugin folder, files/ holds what the trigger adds or replaces, and DELETED (if
# present) lists the base's files it removes, one per line.
WITHOUT_FIXTURE = frozenset("DL601 DL602 DL605 DL606 DL607 DL608 DL613".split())


def _codes(root: Path) -> set[str]:
    return {f.code for f in checker.check_plugin(PluginIndex(), root, SETTINGS).findings}


def build_trigger(spec: Path, into: Path) -> Path:
    """The trigger plugin described by ``spec`` (BASE + files/ + DELETED), built in ``into``."""
    base = REPO / (spec / "BASE").read_text(encoding="utf-8").strip()
    shutil.copytree(base, into, ignore=shutil.ignore_patterns("__pycache__"))
    deleted = spec / "DELETED"
    for name in deleted.read_text(encoding="utf-8").split() if deleted.exists() else ():
        (into / name).unlink()
    shutil.copytree(spec / "files", into, dirs_exist_ok=True)
    return into


@pytest.fixture(scope="module")
def trigger_roots(tmp_path_factory) -> list[Path]:
    where = tmp_path_factory.mktemp("rule_triggers")
    return [build_trigger(spec, where / spec.name) for spec in sorted(TRIGGERS.iterdir())]


def test_a_trigger_is_its_base_changed_by_its_files(tmp_path):
    spec = TRIGGERS / "DL603"
    built = build_trigger(spec, tmp_path / "p")
    base = REPO / (spec / "BASE").read_text(encoding="utf-8").strip()
    assert (built / "debug.log").read_bytes() == (spec / "files" / "debug.log").read_bytes()
    assert (built / "main.py").read_bytes() == (base / "main.py").read_bytes()
    assert "DL603" in _codes(built) and "DL603" not in _codes(base)


@pytest.fixture(scope="module")
def found(trigger_roots) -> dict[str, Path]:
    """code -> the first fixture plugin whose check reports it."""
    out: dict[str, Path] = {}
    for root in [*FIXTURE_ROOTS, *trigger_roots]:
        for code in sorted(_codes(root)):
            out.setdefault(code, root)
    return out


def test_the_codes_without_a_fixture_are_exactly_the_listed_ones(found):
    assert set(found) <= set(registry.RULES)
    assert set(registry.RULES) - set(found) == WITHOUT_FIXTURE


def test_disabling_a_check_removes_the_findings_of_its_codes(found, monkeypatch):
    tried = 0
    for chk in registry.CHECKS:
        codes = [r.code for r in chk.rules if r.code in found]
        for code in codes:
            root = found[code]
            monkeypatch.setattr(registry, "CHECKS", tuple(c for c in registry.CHECKS if c is not chk))
            assert code not in _codes(root), f"{code} is still reported on {root} without {chk.name}"
            monkeypatch.undo()
            assert code in _codes(root)
            tried += 1
    assert tried == len(set(found) - {r.code for family in registry.FAMILIES for r in getattr(family, "REPORTED_ELSEWHERE", ())})


def _family(rules=(), checks=(), elsewhere=()):
    return SimpleNamespace(__name__="fake", RULES=tuple(rules), CHECKS=tuple(checks), REPORTED_ELSEWHERE=tuple(elsewhere))


def test_the_table_refuses_a_code_twice_a_stray_rule_and_a_silent_one():
    a = define_rule("DL990", "a", "A.", Severity.WARNING, "files")
    b = define_rule("DL990", "b", "B.", Severity.WARNING, "files")
    c = define_rule("DL991", "c", "C.", Severity.WARNING, "files")

    @check(a)
    def reports_a(ctx):
        return ()

    @check(c)
    def reports_c(ctx):
        return ()

    with pytest.raises(ValueError, match="DL990"):
        registry._rule_table((_family([a], [reports_a]), _family([b])))
    table = registry._rule_table((_family([a], [reports_a]),))
    with pytest.raises(ValueError, match="DL991"):  # reported, but no family lists it
        registry._checks((_family([a], [reports_a, reports_c]),), table)
    table = registry._rule_table((_family([a, c], [reports_a]),))
    with pytest.raises(ValueError, match="no check reports DL991"):
        registry._checks((_family([a, c], [reports_a]),), table)
    assert len(registry._checks((_family([a, c], [reports_a], [c]),), table)) == 1

"""The index's in-memory caches: one object, every store bounded by its size, and clearing them all changes
nothing a check finds."""

from __future__ import annotations

import shutil
from pathlib import Path

from dify_lsp.caches import SIZES, Caches
from dify_lsp.checker import PreviousRun, check_plugin
from dify_lsp.index import PluginIndex

REPO = Path(__file__).resolve().parent.parent
PLUGINS = [
    REPO / "examples" / "llm-tool",
    REPO / "tests" / "fixtures" / "kinds" / "model_provider",
    REPO / "tests" / "fixtures" / "kinds" / "trigger",
    REPO / "tests" / "fixtures" / "kinds" / "endpoint",
]


def facts(report) -> list[tuple]:
    return [(str(f.path), tuple(f.span), f.code, f.message, int(f.severity)) for f in report.findings]


def test_every_store_is_named_in_the_size_table():
    caches = Caches()
    assert [s.name for s in caches.stores()] == list(SIZES)
    assert all(s.size == SIZES[s.name] for s in caches.stores())


def test_clearing_the_caches_empties_every_store_and_the_next_check_finds_the_same(tmp_path):
    index = PluginIndex()
    roots = []
    for src in PLUGINS:
        root = tmp_path / src.name
        shutil.copytree(src, root, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
        roots.append(root)
    before = [facts(check_plugin(index, root, {})) for root in roots]
    from dify_lsp.plugin_names import name_scopes

    name_scopes(index.plugin_at(roots[0]), index)
    filled = {s.name for s in index.caches.stores() if len(s)}
    # every store a check (and the names behind rename) fills was filled; verdicts need a file Python 3.11 refuses,
    # and document lines and outlines are made for editor requests
    assert filled >= set(SIZES) - {"syntax_verdicts", "document_lines", "outlines"}, set(SIZES) - filled
    index.caches.clear()
    assert all(len(s) == 0 for s in index.caches.stores())
    for root in roots:
        index.invalidate(root / "manifest.yaml")
    assert [facts(check_plugin(index, root, {})) for root in roots] == before
    # and an incremental run over cleared caches too
    previous = PreviousRun()
    first = facts(check_plugin(index, roots[0], {}, previous))
    index.caches.clear()
    index.invalidate(roots[0] / "manifest.yaml")
    assert facts(check_plugin(index, roots[0], {}, previous)) == first == before[0]


def test_sizes_bound_each_store(tmp_path):
    sizes = {name: 2 for name in SIZES}
    caches = Caches(sizes)
    for store in caches.stores():
        for i in range(5):
            store.put(i, i)
        assert len(store) == 2
        assert store.get(0) is None and store.get(4) == 4  # the least recently used went first
        store.get(3)
        store.put(5, 5)
        assert 3 in store and 4 not in store
    # a check with tiny stores keeps them tiny and finds what an ordinary one finds
    root = tmp_path / "tool"
    shutil.copytree(PLUGINS[0], root, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    small = PluginIndex(caches=Caches(sizes))
    found = facts(check_plugin(small, root, {}))
    assert all(len(s) <= 2 for s in small.caches.stores())
    assert found == facts(check_plugin(PluginIndex(), root, {}))

"""The in-memory caches of one plugin index, in one place: each a bounded LRU store, sized in one table.

Every store maps something an analysis is a pure function of (a file's text, a parsed document, a path
on disk with its stamp) to the analysis, so dropping an entry, or everything with :meth:`Caches.clear`,
changes only how long the next check takes, never what it finds.  The :class:`~dify_lsp.index.PluginIndex`
makes one :class:`Caches` (``index.caches``); code that caches gets it from the index it is given,
never from a module global.  (The result cache on disk, :mod:`dify_lsp.cache`, is a different thing.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, Iterator, TypeVar

V = TypeVar("V")
_MISSING = object()
MISSING: Any = _MISSING  # what get(key, MISSING) gives for an absent key, where None is a stored value

# Store name -> the most entries it keeps (the least recently used entry goes first).
SIZES: dict[str, int] = {
    "disk_texts": 20_000,  # path -> (mtime and size, FileText): a file's disk text, re-read when its stamp changes
    "yaml_parses": 20_000,  # path -> (text, YamlDocument): one parse per file, kept while its text is unchanged
    "within": 20_000,  # (plugin root, path) -> does the path resolve inside the root (symlinks); cleared on disk changes
    # YAML file -> (its parse, plugin root, kind, the paths it names and where they point); cleared on disk changes
    "path_refs": 20_000,
    "scans": 2048,  # Python text -> pyscan.Scan (a Scan keeps no syntax tree, only what the rules read)
    # Python file -> its last text the analysis scanned that parsed: the scan of its next text starts from it
    "scanned_texts": 2048,
    "noqa_comments": 4096,  # a file's text -> its noqa comments by line (every file is looked at after each check)
    "syntax_verdicts": 4096,  # sha256 of a Python text -> Python 3.12's verdict on it (rules.python_syntax)
    "schema_results": 4096,  # (path, kind) -> (YamlDocument, SchemaResult): a YAML file checked against its schema
    "yaml_params": 4096,  # path -> (YAML root, parameter rows): a tool YAML's declared parameters
    "name_scopes": 8,  # id(Plugin) -> (Plugin, scopes): every declared name of a plugin (plugin_names)
    # Editor requests: an open document's text is one object per version, asked about again and again.
    "document_lines": 32,  # id(text) -> (text, lines) and id(lines) -> (lines, text): a text split into lines once
    "outlines": 8,  # id(lines) -> the indentation outline of a document version's lines (schema.cursor)
}


class Lru(Generic[V]):
    """A bounded map that forgets its least recently used entry when full; safe across threads."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        # No lock: each OrderedDict operation is atomic, and a get is the hot path (every file read, parse and
        # symlink question of a re-index asks one).  Only put's insert-and-evict needs to be one step.
        hit = self._data.get(key, _MISSING)
        if hit is _MISSING:
            return default
        try:
            self._data.move_to_end(key)
        except KeyError:  # evicted by another thread in between: still the value asked for
            pass
        return hit

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        hit = self.get(key)
        if hit is None:
            hit = compute()
            self.put(key, hit)
        return hit

    def items(self) -> list[tuple[Hashable, V]]:
        with self._lock:
            return list(self._data.items())

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data


class Caches:
    """One index's stores, named as in :data:`SIZES`; ``clear()`` empties them all."""

    def __init__(self, sizes: dict[str, int] | None = None) -> None:
        sizes = {**SIZES, **(sizes or {})}
        self.disk_texts: Lru[Any] = Lru("disk_texts", sizes["disk_texts"])
        self.yaml_parses: Lru[Any] = Lru("yaml_parses", sizes["yaml_parses"])
        self.within: Lru[bool] = Lru("within", sizes["within"])
        self.path_refs: Lru[Any] = Lru("path_refs", sizes["path_refs"])
        self.scans: Lru[Any] = Lru("scans", sizes["scans"])
        self.scanned_texts: Lru[str] = Lru("scanned_texts", sizes["scanned_texts"])
        self.noqa_comments: Lru[Any] = Lru("noqa_comments", sizes["noqa_comments"])
        self.syntax_verdicts: Lru[Any] = Lru("syntax_verdicts", sizes["syntax_verdicts"])
        self.schema_results: Lru[Any] = Lru("schema_results", sizes["schema_results"])
        self.yaml_params: Lru[Any] = Lru("yaml_params", sizes["yaml_params"])
        self.name_scopes: Lru[Any] = Lru("name_scopes", sizes["name_scopes"])
        self.document_lines: Lru[Any] = Lru("document_lines", sizes["document_lines"])
        self.outlines: Lru[Any] = Lru("outlines", sizes["outlines"])

    def stores(self) -> Iterator[Lru[Any]]:
        for name in SIZES:
            yield getattr(self, name)

    def clear(self) -> None:
        for store in self.stores():
            store.clear()

"""The plugin index: which files make up a plugin and how they refer to each other.

From any file, :meth:`PluginIndex.plugin_for` finds the plugin root (the
nearest folder above holding ``manifest.yaml``) and loads the chain
manifest -> provider YAMLs -> tool (strategy, endpoint, ...) YAMLs -> Python
sources, keeping the exact span of every reference.  Editor text wins over
disk.  Parsed files are cached by content, so re-indexing after one edit
re-parses only the edited file.
"""

from __future__ import annotations

import os
import re
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, Protocol

from dify_lsp.caches import Caches, Lru
from dify_lsp.i18n import msg
from dify_lsp.schema.references import (
    ICON,
    ICON_FOLDER,
    INLINE_REFERENCE_KEYS,
    MANIFEST,
    MODEL,
    MODEL_POSITION,
    MODEL_PROVIDER,
    MODEL_TYPE_KEYS,
    PYTHON,
    REFERENCE_KEYS,
    TOOL,
    ReferenceKey,
)
from dify_lsp.textpos import Pos, Span, engine_text
from dify_lsp.uris import CASE_INSENSITIVE_BY_DEFAULT, on_disk_spelling
from dify_lsp.yamlpos import YamlDocument, YMap, YNode, YScalar, YSeq, parse_yaml, reparse_yaml

MANIFEST_NAME = "manifest.yaml"
MAX_FILE_BYTES = 8 * 1024 * 1024
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", "dist", "build"}


class InputLog(Protocol):
    """Told of every disk fact a check depends on besides file texts (see dify_lsp.cache)."""

    def listing(self, args: tuple, found: list[Path]) -> None: ...

    def within(self, root: Path, target: Path, inside: bool) -> None: ...


# Set while a check runs whose result will be cached, so the cache knows what to re-verify.
INPUT_LOG: ContextVar[InputLog | None] = ContextVar("dify_lsp_input_log", default=None)


# One Path object per absolute path: the same file's Path from one load of a plugin is then the very key of the
# caches and tables filled by another, which dict lookups find by identity (pathlib's __hash__ and __eq__ are
# Python code, and thousands of lookups follow every edit).  Bounded; a path not kept is only slower.
_PATHS: dict[str, Path] = {}
_MAX_PATHS = 200_000


def norm(path: str | os.PathLike[str]) -> Path:
    """A path's identity in the index: absolute, symlinks left alone."""
    raw = os.fspath(path)
    absolute = os.path.abspath(raw)
    known = _PATHS.get(absolute)
    if known is None:
        # a Path already absolute and normal is kept as it is: a new one would parse the same string again
        known = path if absolute == raw and isinstance(path, Path) else Path(absolute)
        if len(_PATHS) < _MAX_PATHS:
            _PATHS[absolute] = known
    return known


def holds(root: Path, path: Path) -> bool:
    """Is ``path`` ``root`` itself or below it?  Both as :func:`norm` gives them: compared as strings, where
    ``root in path.parents`` would build and compare a Path for each level."""
    r, p = os.path.normcase(os.fspath(root)), os.path.normcase(os.fspath(path))
    return p == r or p.startswith(r if r.endswith(os.sep) else r + os.sep)


@dataclass(slots=True)
class FileText:
    path: Path
    text: str | None
    problem: str | None = None  # why text is None: missing, binary, too large, not UTF-8
    from_editor: bool = False

    @property
    def exists(self) -> bool:
        return self.text is not None or (self.problem is not None and self.problem != "missing")


class TextSource:
    """Reads files, preferring the editor's unsaved text.  Disk texts are kept in the store of
    ``disk_texts`` the index hands it (:meth:`PluginIndex.__init__`); a source no index uses keeps none."""

    def __init__(self) -> None:
        self._overlays: dict[Path, str] = {}
        self._overlay_names: set[str] = set()  # the overlays' paths as strings (root_for asks by name)
        self.disk_texts: Lru[tuple[tuple[int, int], FileText]] | None = None
        self._lock = threading.Lock()

    def set_overlay(self, path: Path, text: str) -> None:
        path = norm(path)
        with self._lock:
            self._overlays[path] = text
            self._overlay_names.add(str(path))

    def drop_overlay(self, path: Path) -> None:
        path = norm(path)
        with self._lock:
            self._overlays.pop(path, None)
            self._overlay_names.discard(str(path))

    def texts(self) -> dict[Path, str]:
        """Every text known so far: the editor's, and what was read from disk."""
        known = self.disk_texts.items() if self.disk_texts is not None else []
        with self._lock:
            out = {path: ft.text for path, (_, ft) in known if ft.text is not None}
            out.update(self._overlays)
        return out

    def overlay(self, path: Path) -> str | None:
        return self._overlays.get(norm(path))

    def is_file(self, path: Path) -> bool:
        return norm(path) in self._overlays or path.is_file()

    def is_file_named(self, name: str) -> bool:
        """:meth:`is_file` for an absolute, normalized path string (no Path made: root_for runs per request)."""
        return name in self._overlay_names or os.path.isfile(name)

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()

    def read(self, path: Path) -> FileText:
        return self._read(path)

    def _read(self, path: Path) -> FileText:
        path = norm(path)
        text = self._overlays.get(path)
        if text is not None:
            return FileText(path, text, None, True)
        # Disk text is re-read only when the file's size or mtime changed.
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        store = self.disk_texts
        cached = store.get(path) if store is not None else None
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        ft = read_disk_text(path)
        if stamp is not None and store is not None:
            store.put(path, (stamp, ft))
        return ft


def read_disk_bytes(path: Path) -> bytes | FileText:
    """A file's bytes, or the FileText saying why there are none."""
    try:
        if not path.is_file():
            return FileText(path, None, "missing")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return FileText(path, None, msg("the file is too large to check ({size} bytes; limit {limit})", size=size, limit=MAX_FILE_BYTES))
        return path.read_bytes()
    except OSError as exc:
        return FileText(path, None, msg("the file cannot be read: {reason}", reason=exc.strerror or str(exc)))


def read_disk_text(path: Path) -> FileText:
    data = read_disk_bytes(path)
    return data if isinstance(data, FileText) else decode_disk_bytes(path, data)


def decode_disk_bytes(path: Path, data: bytes) -> FileText:
    if b"\x00" in data[:8192]:
        return FileText(path, None, msg("the file is binary, not text"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return FileText(path, None, msg("the file is not valid UTF-8 (byte {offset})", offset=exc.start))
    return FileText(path, engine_text(text.replace("\r\n", "\n")))


# The content of a file (its text, its parse, where a reference sits) is read through a Reader, never
# from these fields by name: a rule's Reader records what it read (see Reader).
@dataclass(slots=True)
class YamlFile:
    path: Path
    kind: str
    _text: str | None
    _doc: YamlDocument | None
    problem: str | None = None


@dataclass(slots=True)
class PythonFile:
    path: Path
    _text: str | None
    problem: str | None = None


@dataclass(slots=True)
class PathRef:
    """A path named in a YAML file, e.g. ``extra.python.source: tools/a.py``."""

    owner: Path  # the YAML file that names it
    key: tuple[str, ...]
    _span: Span  # the value's span (read through Reader.span: where it sits is its file's content)
    raw: str
    target_kind: str
    target: Path | None  # None when the path is not a usable relative path
    escapes: bool = False  # the path climbs out of the plugin root
    exists: bool = False
    # A Python source not spelt as a .py file that the SDK still loads: it imports the module
    # named by the path without its suffix, so `tools/a.yaml` loads `tools/a.py`.
    loaded_as: str | None = None
    _owner_text: str | None = field(default=None, repr=False, compare=False)


class Reader:
    """The one way to a plugin file's content: ``text(file)``, ``doc(yaml)``, ``root(yaml)``, ``span(ref)``,
    ``file(path)``, ``exists(path)``.  The checker hands each rule run a Reader of its own that records every file read with the
    text it saw (``seen``), so the editor's incremental re-check runs a rule again only when one of those files
    changed (dify_lsp.checker.PreviousRun).  :data:`CONTENTS` records nothing: for the editor features, the
    runner and the index itself, whose reads decide nothing about re-running rules."""

    __slots__ = ("source", "seen")

    def __init__(self, source: TextSource | None, seen: dict[Path, str | None] | None) -> None:
        self.source = source
        self.seen = seen

    def text(self, f: YamlFile | PythonFile) -> str | None:
        if self.seen is not None:
            self.seen[f.path] = f._text
        return f._text

    def doc(self, yf: YamlFile) -> YamlDocument | None:
        if self.seen is not None:
            self.seen[yf.path] = yf._text
        return yf._doc

    def root(self, yf: YamlFile) -> YMap | None:
        """The top-level mapping of a YAML file; None when it has none (unreadable, empty, a list, broken)."""
        if self.seen is not None:
            self.seen[yf.path] = yf._text
        r = yf._doc.root if yf._doc is not None else None
        return r if isinstance(r, YMap) else None

    def span(self, ref: PathRef) -> Span:
        """Where a reference's value sits in the file naming it (which depends on that file's text)."""
        if self.seen is not None:
            self.seen[ref.owner] = ref._owner_text
        return ref._span

    def file(self, path: Path) -> FileText:
        """Any file's text through the index's source (the editor's text wins over disk)."""
        assert self.source is not None, "a Reader without a source reads only the index's files"
        ft = self.source.read(path)
        if self.seen is not None:
            self.seen[ft.path] = ft.text
        return ft

    def exists(self, path: Path) -> bool:
        """Whether ``path`` is a file (the editor's unsaved text counts), recorded as a read of it: a rule that
        found a file missing runs again when the file appears, as when its text changes."""
        return self.file(path).exists

    def took(self, seen: dict[Path, str | None]) -> None:
        """Count ``seen`` (what a shared analysis read on this reader's behalf) as read here too."""
        if self.seen is not None:
            self.seen.update(seen)


CONTENTS = Reader(None, None)  # reads the index's files and records nothing (see Reader)


@dataclass(slots=True)
class ModelGlob:
    """One `models.<type>.predefined` pattern of a model provider and the files it matches."""

    owner: Path  # the model provider YAML
    type_key: str  # llm, text_embedding, ... (the key under `models:`)
    span: Span  # the pattern's span
    pattern: str
    matches: list[Path] = field(default_factory=list)
    usable: bool = True  # False: absolute or climbing pattern (the SDK cannot glob it)


@dataclass(slots=True)
class Plugin:
    root: Path
    manifest: YamlFile
    yaml_files: dict[Path, YamlFile] = field(default_factory=dict)
    python_files: dict[Path, PythonFile] = field(default_factory=dict)
    refs: list[PathRef] = field(default_factory=list)
    # YAML files under the root that nothing references but look like tool YAMLs.
    loose_tools: list[YamlFile] = field(default_factory=list)
    # Model YAMLs (and _position.yaml) found through model providers' glob patterns.
    model_globs: list[ModelGlob] = field(default_factory=list)

    def yaml_of_kind(self, *kinds: str) -> list[YamlFile]:
        return [f for f in self.yaml_files.values() if f.kind in kinds]

    def refs_to(self, path: Path) -> list[PathRef]:
        path = norm(path)
        return [r for r in self.refs if r.target == path]

    def refs_from(self, path: Path) -> list[PathRef]:
        path = norm(path)
        return [r for r in self.refs if r.owner == path]

    def kind_of(self, path: Path) -> str | None:
        path = norm(path)
        if path in self.yaml_files:
            return self.yaml_files[path].kind
        if path in self.python_files:
            return PYTHON
        return None

    def files(self) -> list[Path]:
        return [*self.yaml_files, *self.python_files]

    def relative(self, path: Path) -> str:
        """``path`` relative to the plugin's root, with ``/`` (itself when outside)."""
        full = norm(path)
        if not holds(self.root, full):
            return str(path)
        root = os.fspath(self.root).rstrip(os.sep)
        rest = os.fspath(full)[len(root) + 1 :]
        return rest.replace(os.sep, "/") if rest else "."


def lookup(root: YNode | None, keys: Iterable[str]) -> tuple[YNode | None, YMap | None]:
    """Follow keys down nested maps: (value node, the map holding the last key)."""
    node, parent = root, None
    for key in keys:
        if not isinstance(node, YMap):
            return None, None
        parent = node
        node = node.get(key)
    return node, parent


def _within(root: Path, path: Path) -> bool:
    try:
        real_root = root.resolve()
        real = path.resolve()
    except (OSError, RuntimeError):  # symlink loops
        return False
    return real == real_root or real_root in real.parents


class PluginIndex:
    """All plugins seen so far, rebuilt lazily when their files change."""

    def __init__(self, source: TextSource | None = None, caches: Caches | None = None) -> None:
        # Every in-memory cache of the engine, for this index: see dify_lsp.caches.
        self.caches = caches or Caches()
        self.source = source or TextSource()
        self.source.disk_texts = self.caches.disk_texts
        self._plugins: dict[Path, Plugin] = {}
        self._previous: dict[Path, Plugin] = {}  # invalidated, kept for requests until rebuilt
        self.disk_generation = 0  # bumped whenever files may have changed on disk behind the editor
        self._lock = threading.RLock()

    # -- finding roots -------------------------------------------------
    def root_for(self, path: Path) -> Path | None:
        # On path strings: every editor request asks this (pathlib objects cost more than the stats).
        folder = os.path.abspath(os.fspath(path))
        if not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        while True:
            if self.source.is_file_named(os.path.join(folder, MANIFEST_NAME)):
                return Path(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                return None
            folder = parent

    def plugin_for(self, path: Path) -> Plugin | None:
        root = self.root_for(path)
        return self.plugin_at(root) if root else None

    def plugin_at(self, root: Path) -> Plugin:
        root = norm(root)
        with self._lock:
            plugin = self._plugins.get(root)
            if plugin is None:
                plugin = self._load(root)
                self._plugins[root] = plugin
            return plugin

    def invalidate(self, path: Path) -> list[Path]:
        """Forget plugins that hold ``path``; returns their roots."""
        path = norm(path)
        dropped = []
        if self.source.overlay(path) is None:
            # not the editor's text that changed: maybe a file appeared or went away on disk
            self.caches.path_refs.clear()
        with self._lock:
            for root in list(self._plugins):
                if path == root or root in path.parents:
                    self._previous[root] = self._plugins.pop(root)
                    dropped.append(root)
        return dropped

    def plugin_for_request(self, path: Path) -> Plugin | None:
        """The plugin holding ``path`` for an editor request: the last one built if it
        was just invalidated (a keystroke ago), so requests never wait for a re-index."""
        root = self.root_for(path)
        if root is None:
            return None
        return self._plugins.get(root) or self._previous.get(root) or self.plugin_at(root)

    def forget_disk_state(self) -> None:
        """Drop what was learnt about symlinks (after files changed on disk)."""
        self.caches.within.clear()
        self.caches.path_refs.clear()
        self.disk_generation += 1

    def _within(self, root: Path, target: Path) -> bool:
        """Does ``target`` (or, while it does not exist, its folder) resolve inside ``root``?"""
        probe = target if os.path.exists(target) else target.parent
        key = (root, probe)
        known = self.caches.within.get(key)
        if known is None:
            known = _within(root, probe)
            self.caches.within.put(key, known)
        log = INPUT_LOG.get()
        if log is not None:
            log.within(root, target, known)
        return known

    # -- loading -------------------------------------------------------
    def parse_yaml_text(self, path: Path, text: str) -> YamlDocument:
        cached = self.caches.yaml_parses.get(path)
        if cached is not None and (cached[0] is text or cached[0] == text):
            return cached[1]
        # After an edit, only the edited part of the file is parsed again (the rest is the last parse).
        doc = reparse_yaml(cached[0], cached[1], text) if cached is not None else parse_yaml(text)
        self.caches.yaml_parses.put(path, (text, doc))
        return doc

    def _read_yaml(self, path: Path, kind: str) -> YamlFile:
        ft = self.source.read(path)
        if ft.text is None:
            return YamlFile(path, kind, None, None, ft.problem)
        return YamlFile(path, kind, ft.text, self.parse_yaml_text(path, ft.text))

    def _load(self, root: Path) -> Plugin:
        manifest = self._read_yaml(root / MANIFEST_NAME, MANIFEST)
        plugin = Plugin(root, manifest, {manifest.path: manifest})
        queue = [manifest]
        while queue:
            yf = queue.pop(0)
            for ref in self._refs_of(plugin, yf):
                plugin.refs.append(ref)
                if ref.target is None or ref.escapes:
                    continue
                if ref.target_kind == ICON:
                    ref.exists = self.source.is_file(ref.target)
                elif ref.target_kind == PYTHON:
                    if ref.target not in plugin.python_files:
                        ft = self.source.read(ref.target)
                        plugin.python_files[ref.target] = PythonFile(ref.target, ft.text, ft.problem)
                    ref.exists = plugin.python_files[ref.target].problem != "missing"
                else:
                    child = plugin.yaml_files.get(ref.target)
                    if child is None:
                        child = self._read_yaml(ref.target, ref.target_kind)
                        plugin.yaml_files[ref.target] = child
                        if child.problem != "missing":
                            queue.append(child)
                    ref.exists = child.problem != "missing"
                if ref.exists and CASE_INSENSITIVE_BY_DEFAULT and on_disk_spelling(root, ref.target) is not None:
                    ref.exists = False  # this disk ignores case; Dify, on Linux, would not find the file
            if yf.kind == MODEL_PROVIDER:
                self._model_files(plugin, yf)
        plugin.loose_tools = self._loose_tools(plugin)
        return plugin

    def _model_files(self, plugin: Plugin, yf: YamlFile) -> None:
        """Model YAMLs as the SDK finds them: each `models.<type>.predefined` pattern globbed
        from the plugin root; a match ending in _position.yaml is the type's order."""
        root = CONTENTS.root(yf)
        models = root.get("models") if root is not None else None
        if not isinstance(models, YMap):
            return
        for type_key in MODEL_TYPE_KEYS:
            spec = models.get(type_key)
            patterns = spec.get("predefined") if isinstance(spec, YMap) else None
            if not isinstance(patterns, YSeq):
                continue
            for item in patterns.items:
                if not (isinstance(item, YScalar) and isinstance(item.value, str) and item.value.strip()):
                    continue
                raw = item.value.strip()
                glob = ModelGlob(yf.path, type_key, item.span, raw)
                plugin.model_globs.append(glob)
                if os.path.isabs(raw) or raw.startswith("~") or ".." in Path(raw).parts or "\x00" in raw:
                    glob.usable = False
                    continue
                found = glob_files(plugin.root, raw)
                if found is None:
                    glob.usable = False
                    continue
                for path in found:
                    if not self._within(plugin.root, path):
                        continue
                    glob.matches.append(path)
                    if path not in plugin.yaml_files:
                        kind = MODEL_POSITION if path.name.endswith("_position.yaml") else MODEL
                        plugin.yaml_files[path] = self._read_yaml(path, kind)

    def _loose_tools(self, plugin: Plugin) -> list[YamlFile]:
        loose = []
        for path in files_under(plugin.root, (".yaml", ".yml"), max_depth=4, limit=2000):
            if path in plugin.yaml_files:
                continue
            # Only a file naming all three keys can be a tool YAML: the rest (model YAMLs, mostly)
            # is never parsed just to be thrown away.  A backslash may spell a key in an escape.
            ft = self.source.read(path)
            text = ft.text
            if text is None or not (("identity" in text and "description" in text and "llm" in text) or "\\" in text):
                continue
            yf = self._read_yaml(path, TOOL)
            root = CONTENTS.root(yf)
            if root is None:
                continue
            desc = root.get("description")
            if isinstance(root.get("identity"), YMap) and isinstance(desc, YMap) and desc.get("llm") is not None:
                loose.append(yf)
        return loose

    def _refs_of(self, plugin: Plugin, yf: YamlFile) -> list[PathRef]:
        """The paths ``yf`` names, as new PathRefs (``exists`` is decided by the load).  Where they point is
        worked out again only when the file's parse changed: each edit reloads the plugin, and the other
        YAML files' references (hundreds, a normalization and a stat each) are the same as last time.  They
        also depend on which files exist on disk (a missing target's folder is what is resolved for
        symlinks), so the store is emptied when the disk may have changed (:meth:`forget_disk_state`,
        :meth:`invalidate` of a file the editor does not hold).  A Python source spelt as a module path
        depends on which candidate file exists, overlays included: such a file's references are not kept."""
        doc = yf._doc
        kept = self.caches.path_refs.get(yf.path)
        if kept is not None and kept[0] is doc and kept[1] == plugin.root and kept[2] == yf.kind:
            return [
                PathRef(yf.path, key, span, raw, kind, target, escapes, False, loaded_as, _owner_text=yf._text)
                for key, span, raw, kind, target, escapes, loaded_as in kept[3]
            ]
        refs = list(self._refs_in(plugin, yf))
        # While a check records its inputs (the result cache), _within logs every question: none is skipped.
        if doc is not None and INPUT_LOG.get() is None and not any(r.target_kind == PYTHON and not r.raw.endswith(".py") for r in refs):
            rows = [(r.key, r._span, r.raw, r.target_kind, r.target, r.escapes, r.loaded_as) for r in refs]
            self.caches.path_refs.put(yf.path, (doc, plugin.root, yf.kind, rows))
        return refs

    def _refs_in(self, plugin: Plugin, yf: YamlFile) -> Iterator[PathRef]:
        root = CONTENTS.root(yf)
        if root is None:
            return
        for rk in REFERENCE_KEYS.get(yf.kind, ()):
            node, _ = lookup(root, rk.path)
            if node is None:
                continue
            items: list[YNode] = node.items if (rk.is_list and isinstance(node, YSeq)) else [node]
            for item in items:
                if isinstance(item, YScalar) and isinstance(item.value, str) and item.value.strip():
                    yield self._make_ref(plugin, yf, rk, item)
        # Paths inside mappings written inline in a list (an endpoint group's inline endpoints).
        for list_path, inner in INLINE_REFERENCE_KEYS.get(yf.kind, ()):
            seq, _ = lookup(root, list_path)
            if not isinstance(seq, YSeq):
                continue
            for entry in seq.items:
                value, _ = lookup(entry, inner.path) if isinstance(entry, YMap) else (None, None)
                if isinstance(value, YScalar) and isinstance(value.value, str) and value.value.strip():
                    yield self._make_ref(plugin, yf, ReferenceKey((*list_path, *inner.path), inner.target_kind), value)

    def _make_ref(self, plugin: Plugin, yf: YamlFile, rk: ReferenceKey, item: YScalar) -> PathRef:
        raw = item.value.strip()
        base = plugin.root / ICON_FOLDER if rk.target_kind == ICON else plugin.root
        ref = PathRef(yf.path, rk.path, item.span, raw, rk.target_kind, None, _owner_text=yf._text)
        if os.path.isabs(raw) or raw.startswith("~") or "\x00" in raw:
            ref.escapes = True
            return ref
        target = norm(base / raw)
        if rk.target_kind == PYTHON and not raw.endswith(".py"):
            found = self._python_module_file(plugin.root, raw)
            if found is not None:
                target, ref.loaded_as = found, plugin.relative(found)
            elif (stem := _module_path(raw)) is not None:  # nothing to import: the loader fails on the non-Python file
                target = norm(plugin.root / stem.with_name(stem.name + ".py"))
        ref.target = target
        if not holds(plugin.root, target) or not self._within(plugin.root, target):
            ref.escapes = True
        return ref

    def _python_module_file(self, root: Path, raw: str) -> Path | None:
        """The file the SDK's class loader imports for a source path: the module named by the
        path without its last suffix (importlib.util.find_spec), a .py file or a package."""
        stem = _module_path(raw)
        if stem is None:
            return None
        for candidate in (root / stem.with_name(stem.name + ".py"), root / stem / "__init__.py"):
            if self.source.is_file(candidate):
                return norm(candidate)
        return None


def glob_files(root: Path, pattern: str) -> list[Path] | None:
    """The files a relative glob matches below ``root``, as pathlib's ``root.glob(pattern)`` finds them
    (``*`` and ``?`` within one name, ``**`` across folders), listed through :func:`files_under` so the
    listing is bounded and recorded like every other one.  None for a pattern pathlib refuses."""
    parts = [p for p in PurePosixPath(pattern.replace("\\", "/")).parts if p != "."]
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    static: list[str] = []
    for part in parts[:-1]:
        if any(c in part for c in "*?["):
            break
        static.append(part)
    rest = parts[len(static):]
    deep = any(p == "**" for p in rest)
    base = root.joinpath(*static)
    candidates = files_under(base, ("",), max_depth=12 if deep else len(rest) - 1, limit=5000)
    regex = re.compile(_glob_regex(rest))
    out = []
    for path in candidates:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if regex.fullmatch(rel):
            out.append(path)
    return out[:2000]


def _glob_regex(parts: list[str]) -> str:
    out = ""
    for i, part in enumerate(parts):
        if part == "**":
            out += "(?:[^/]+/)*"
            continue
        out += _segment(part) + ("/" if i < len(parts) - 1 else "")
    return out


def _segment(part: str) -> str:
    """One path segment of a glob as a regex: * and ? never cross a folder."""
    out, i = "", 0
    while i < len(part):
        c = part[i]
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = part.find("]", i + 2)
            if j == -1:
                out += re.escape(c)
            else:
                body = part[i + 1 : j]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
                i = j
        else:
            out += re.escape(c)
        i += 1
    return out


def _module_path(raw: str) -> Path | None:
    """A source path without its last suffix, as the SDK turns it into a module name."""
    try:
        stem = Path(raw).with_suffix("")
    except ValueError:
        return None
    return stem if stem.name else None


def find_plugin_roots(start: Path, max_depth: int = 6) -> list[Path]:
    """Plugin roots at or below ``start`` (a folder holding manifest.yaml stops the descent)."""
    start = norm(start)
    if start.is_file():
        start = start.parent
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, depth: int) -> None:
        try:
            st = folder.stat()
        except OSError:
            return
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        if (folder / MANIFEST_NAME).is_file():
            found.append(folder)
            return
        if depth >= max_depth:
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if child.name in SKIP_DIRS or child.name.startswith("."):
                continue
            walk(child, depth + 1)

    walk(start, 0)
    return found


def files_under(
    root: Path,
    suffixes: tuple[str, ...],
    max_depth: int,
    limit: int,
    skip_dirs: frozenset[str] | set[str] = frozenset(SKIP_DIRS),
    skip_prefixes: tuple[str, ...] = (),
) -> list[Path]:
    """Files below ``root`` with one of ``suffixes``, sorted, bounded, never following links."""
    found = _files_under(root, suffixes, max_depth, limit, skip_dirs, skip_prefixes)
    log = INPUT_LOG.get()
    if log is not None:
        log.listing((root, suffixes, max_depth, limit, frozenset(skip_dirs), skip_prefixes), found)
    return found


def _files_under(
    root: Path,
    suffixes: tuple[str, ...],
    max_depth: int,
    limit: int,
    skip_dirs: frozenset[str] | set[str],
    skip_prefixes: tuple[str, ...],
    as_paths: bool = True,
) -> list[Path] | list[str]:
    """files_under's walk; ``as_paths=False`` gives the normalized path strings (for comparisons)."""
    out: list[str] = []

    def walk(folder: str, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if len(out) >= limit:
                return
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < max_depth and entry.name not in skip_dirs and not entry.name.startswith("."):
                        walk(entry.path, depth + 1)
                elif (
                    entry.name.endswith(suffixes)
                    and not entry.name.startswith(skip_prefixes)
                    and entry.is_file(follow_symlinks=False)
                ):
                    out.append(os.path.abspath(entry.path))
            except OSError:
                continue

    walk(os.fspath(root), 0)
    return [norm(p) for p in out] if as_paths else out


ZERO_SPAN = Span(Pos(0, 0), Pos(0, 0))

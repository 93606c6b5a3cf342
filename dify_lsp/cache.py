"""A persistent cache of `check` results, one entry per plugin, never served stale.

A plugin's findings depend on more than its own files: the texts the index and the
rules read (YAML, Python, requirements, pyproject.toml above the plugin), the files
they looked for and did not find, folder listings (unlisted tools, extra Python
modules) and where symlinks lead.  A check run under :func:`recording` logs every
one of those facts; the entry stores them with the findings.  Before an entry is
served, every fact is checked again against the disk (a content hash per file read,
the listing redone, the probe repeated), so any change to any input, including a
file another file's finding depends on, means a fresh check.

The entry's name is a hash of the plugin root, the rule settings and a fingerprint
of dify-lsp itself (its version and the content of every file of the package), so a
new dify-lsp or other settings never see old results.  Entries are written to a
temporary file and renamed into place: concurrent runs never read half an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from dify_lsp import __version__
from dify_lsp.findings import Finding
from dify_lsp.index import (
    INPUT_LOG,
    MAX_FILE_BYTES,
    FileText,
    PluginIndex,
    TextSource,
    _files_under,
    _within,
    decode_disk_bytes,
    norm,
    read_disk_bytes,
)

if TYPE_CHECKING:  # pragma: no cover - the settings model (pydantic) is not needed to serve an entry
    from dify_lsp.settings import ServerSettings


FORMAT = 1
_MISSING = "missing"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dify-lsp" / "check"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _state_of(data: bytes | FileText) -> str:
    """What a read found: the content hash, or why there was no text."""
    if isinstance(data, FileText):
        return _MISSING if data.problem == _MISSING else f"problem:{data.problem}"
    return _digest(data)


def disk_state(path: Path) -> str:
    return _state_of(read_disk_bytes(path))


def _current_state(path: str) -> str:
    """disk_state with one open and one fstat for the usual case: a readable regular file under the size limit."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_FILE_BYTES:
                return _digest(fh.read())
    except OSError:
        pass
    return disk_state(Path(path))  # anything unusual: exactly what a check's read reports


_fingerprint: str | None = None


def engine_fingerprint() -> str:
    """dify-lsp's version and the content of every file of the package (rules, schema and SDK data)."""
    global _fingerprint
    if _fingerprint is None:
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{FORMAT}|{__version__}|{sys.version}".encode())
        package = Path(__file__).resolve().parent
        for dirpath, dirnames, filenames in os.walk(package):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, package).encode())
                try:
                    with open(path, "rb") as fh:
                        h.update(fh.read())
                except OSError:
                    h.update(b"?")
        _fingerprint = h.hexdigest()
    return _fingerprint


@dataclass
class Inputs:
    """Every disk fact one plugin's check read (paths as strings: they are compared, not used)."""

    files: dict[str, str] = field(default_factory=dict)  # path -> content hash, "missing" or "problem:..."
    probes: dict[str, bool] = field(default_factory=dict)  # is_file answers
    listings: dict[tuple, list[str]] = field(default_factory=dict)  # files_under(args) -> found
    within: dict[tuple[str, str], bool] = field(default_factory=dict)  # (root, target) -> resolves inside root
    exists: dict[str, bool] = field(default_factory=dict)  # other existence facts (the repository's .git)
    dirs: dict[str, bool] = field(default_factory=dict)  # is_dir answers

    def note_repository(self, root: Path) -> None:
        """The configuration is looked for from the plugin up to the repository root (the first folder holding
        .git): which folders hold a .git decides which pyproject.toml files count."""
        for folder in (root, *root.parents):
            marker = folder / ".git"
            found = marker.exists()
            self.exists[str(marker)] = found
            if found:
                return

    def still_true(self) -> bool:
        """Does the disk still show every fact? (False at the first difference.)"""
        for path, state in self.files.items():
            if _current_state(path) != state:
                return False
        for path, was in self.exists.items():
            if os.path.exists(path) != was:
                return False
        for path, was in self.dirs.items():
            if os.path.isdir(path) != was:
                return False
        isfile = os.path.isfile
        for path, was in self.probes.items():
            if isfile(path) != was:
                return False
        real_dirs: dict[str, str] = {}
        for (root, target), inside in self.within.items():
            if root not in real_dirs:
                real_dirs[root] = os.path.realpath(root)
            probe = target if os.path.exists(target) else os.path.dirname(target)
            if _resolves_inside(root, probe, real_dirs) != inside:
                return False
        for args, found in self.listings.items():
            if _files_under(*args, as_paths=False) != found:
                return False
        return True


def _realpath(path: str, real_dirs: dict[str, str]) -> str:
    """os.path.realpath, resolving each folder once per validation (most targets share a few folders)."""
    if os.path.islink(path):
        return os.path.realpath(path)
    folder, name = os.path.split(path)
    real = real_dirs.get(folder)
    if real is None:
        real = real_dirs[folder] = os.path.realpath(folder)
    return os.path.join(real, name) if name else real


def _resolves_inside(root: str, probe: str, real_dirs: dict[str, str]) -> bool:
    """index._within (Path.resolve containment) on strings."""
    try:
        real_root = real_dirs.get(root) or os.path.realpath(root)
        real = _realpath(probe, real_dirs)
    except (OSError, RuntimeError, ValueError):
        return False
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


class _Log:
    """Adapts Inputs to index.InputLog."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs

    def listing(self, args: tuple, found: list[Path]) -> None:
        self.inputs.listings[args] = [str(p) for p in found]

    def within(self, root: Path, target: Path, inside: bool) -> None:
        self.inputs.within[(str(root), str(target))] = inside


class RecordingSource(TextSource):
    """Disk texts (no editor overlays), each read logged with the content hash of exactly the bytes used."""

    def __init__(self, inputs: Inputs) -> None:
        super().__init__()
        self.inputs = inputs

    def _read(self, path: Path) -> FileText:
        path = norm(path)
        cached = self.disk_texts.get(path) if self.disk_texts is not None else None
        if cached is not None:
            return cached[1]
        data = read_disk_bytes(path)
        self.inputs.files[str(path)] = _state_of(data)
        ft = data if isinstance(data, FileText) else decode_disk_bytes(path, data)
        if self.disk_texts is not None:
            self.disk_texts.put(path, ((0, 0), ft))
        return ft

    def is_file(self, path: Path) -> bool:
        path = norm(path)
        answer = path.is_file()
        self.inputs.probes[str(path)] = answer
        return answer

    def is_dir(self, path: Path) -> bool:
        path = norm(path)
        answer = path.is_dir()
        self.inputs.dirs[str(path)] = answer
        return answer


@contextmanager
def recording() -> Iterator[tuple[PluginIndex, Inputs]]:
    """A fresh index whose every disk read is logged into the Inputs it yields."""
    inputs = Inputs()
    token = INPUT_LOG.set(_Log(inputs))
    try:
        yield PluginIndex(RecordingSource(inputs)), inputs
    finally:
        INPUT_LOG.reset(token)


@dataclass
class Entry:
    inputs: Inputs
    findings: list[Finding]


class ResultCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def _path(self, root: Path, rule_key: dict[str, Any]) -> Path:
        key = json.dumps([engine_fingerprint(), str(norm(root)), rule_key], sort_keys=True, default=str)
        name = _digest(key.encode())
        return self.directory / name[:2] / f"{name}.pickle"

    def get(self, root: Path, settings: ServerSettings) -> list[Finding] | None:
        """The cached findings for ``root`` if every input they came from is unchanged, else None."""
        entry = self.lookup(root, settings.rule_key())
        return entry.findings if entry is not None else None

    def lookup(self, root: Path, rule_key: dict[str, Any]) -> Entry | None:
        """The entry for ``root`` and the settings of ``rule_key`` (its findings and what they came from) if
        every input is unchanged, else None."""
        try:
            with open(self._path(root, rule_key), "rb") as fh:
                entry = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            return None
        if not isinstance(entry, Entry) or not entry.inputs.still_true():
            return None
        return entry

    def put(self, root: Path, settings: ServerSettings, inputs: Inputs, findings: list[Finding]) -> None:
        """Store atomically (write a temporary file, then rename); a cache that cannot be written is skipped."""
        path = self._path(root, settings.rule_key())
        # one Path object per file, so the pickle stores (and loading rebuilds) each path once
        paths: dict[Path, Path] = {}
        for f in findings:
            f.path = paths.setdefault(f.path, f.path)
        _write_atomically(path, ".pickle", lambda fh: pickle.dump(Entry(inputs, findings), fh, protocol=pickle.HIGHEST_PROTOCOL))


# -- what a client's settings object validated to -------------------------------------------------


@dataclass(frozen=True)
class SettingsDigest:
    """What serving a cached result needs of the settings: the rule key, whether results may be served
    (setting `cache` on and the marketplace family off: it judges a package's file listing, which the cache
    does not record) and the `locale` setting (the language findings are published in)."""

    rule_key: dict[str, Any]
    serve: bool
    locale: str | None

    @classmethod
    def of(cls, settings: ServerSettings) -> "SettingsDigest":
        return cls(settings.rule_key(), bool(settings.cache) and not settings.marketplace, settings.locale)


def _pydantic_identity() -> str:
    """pydantic's version file, read without importing pydantic (another version may validate otherwise)."""
    import importlib.util

    spec = importlib.util.find_spec("pydantic")
    if spec is None or spec.origin is None:
        return "?"
    try:
        return _digest((Path(spec.origin).parent / "version.py").read_bytes())
    except OSError:
        return "?"


class RememberedSettings:
    """The language server's settings as validated at an earlier start, by the exact object the client sent.

    A client sends the same settings at every start; validating them means importing pydantic (about as
    long as serving a whole plugin from the result cache).  Keyed by the client's object, dify-lsp's files
    and pydantic's version, the digest is served only for the very same input to the very same code."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (Path(directory) if directory is not None else default_cache_dir()) / "settings"

    def _path(self, client: dict[str, Any]) -> Path | None:
        try:
            key = json.dumps([engine_fingerprint(), _pydantic_identity(), client], sort_keys=True)
        except (TypeError, ValueError):  # not a JSON object (a client sends JSON: never in practice)
            return None
        return self.directory / f"{_digest(key.encode())}.json"

    def get(self, client: dict[str, Any]) -> SettingsDigest | None:
        path = self._path(client)
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            return SettingsDigest(dict(data["rule_key"]), bool(data["serve"]), data["locale"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, client: dict[str, Any], settings: ServerSettings) -> None:
        """Store atomically; a folder that cannot be written is skipped."""
        path = self._path(client)
        if path is None:
            return
        digest = SettingsDigest.of(settings)
        data = {"rule_key": digest.rule_key, "serve": digest.serve, "locale": digest.locale}
        _write_atomically(path, ".json", lambda fh: fh.write(json.dumps(data).encode("utf-8")))


def _write_atomically(path: Path, suffix: str, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary file renamed over it, so a reader never sees half a file; a folder
    that cannot be written is skipped (the cache is an optimisation)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        return

"""What a plugin package holds, read without unpacking it.

Two sources give the same view: a plugin folder, as ``dify-lsp plugin package`` would pack it (every file
but those its ``.difyignore`` / ``.gitignore`` leaves out), and a ``.difypkg`` read in place as a zip.  A
package is untrusted input: member names are never joined to a disk path, a member is read only up to a
limit however large it says it is, and a member whose compression ratio looks like a zip bomb is not
inflated at all.
"""

from __future__ import annotations

import copy
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dify_lsp.i18n import msg

# The review's scanners (secrets, Python safety, financial activity) skip files larger than this.
MAX_SCAN_BYTES = 1024 * 1024
# No member is inflated past this, whatever its header says (text checks need far less).
MAX_READ_BYTES = 8 * 1024 * 1024
# Deflate reaches about 1000:1 on repeated bytes; real plugin files stay far below 100:1.
BOMB_RATIO = 100
BOMB_MIN_BYTES = 1024 * 1024
# A package's members are read up to this many bytes in all; the rest are reported as not read.
MAX_TOTAL_READ = 256 * 1024 * 1024

# Folders the review blocks; nothing inside them is looked at (the review does not walk into them either).
BLOCKED_DIR_NAMES = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
    ".tox", ".nox", ".idea", ".vscode", "node_modules", "pycache",
})

PACKAGE_SUFFIX = ".difypkg"


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # the path inside the package, with /
    size: int  # uncompressed bytes (as the zip's directory declares them)
    packed: int  # bytes inside the package (a folder file: its size)
    mode: int  # unix permission bits, 0 when the package does not say

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split("/"))

    @property
    def filename(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.filename).suffix.lower()


def is_package_file(path: Path) -> bool:
    return path.suffix.lower() == PACKAGE_SUFFIX and path.is_file()


def unsafe_name(name: str) -> bool:
    """Would unpacking this member write outside the folder it is unpacked into?"""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return True
    return ".." in posix.split("/")


@dataclass
class PackageView:
    """The files of one package and a way to read them; ``location`` is what findings point under."""

    location: Path  # the plugin folder, or ``pkg.difypkg!``
    members: list[Member] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)  # every folder in the package (blocked ones included)
    unsafe: list[str] = field(default_factory=list)  # member names that climb out (never read)
    broken: str | None = None  # why the package cannot be read at all
    file_size: int | None = None  # bytes of the .difypkg itself
    unread: dict[str, str] = field(default_factory=dict)  # member -> why its bytes were not read
    memo: dict = field(default_factory=dict)  # analyses several checks share (a module's syntax tree)
    _by_name: dict[str, Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name = {m.name: m for m in self.members}

    @property
    def is_archive(self) -> bool:
        return self.file_size is not None

    def path(self, name: str) -> Path:
        return self.location / name if name else self.location

    @property
    def anchor(self) -> Path:
        """Where a finding about the whole package points: the .difypkg, or a folder's manifest."""
        if self.is_archive:
            return Path(str(self.location)[:-1])
        return self.location / "manifest.yaml"

    def member(self, name: str) -> Member | None:
        return self._by_name.get(name)

    def read(self, name: str, limit: int = MAX_READ_BYTES) -> bytes | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def text(self, name: str) -> str | None:
        """A member as text (UTF-8, undecodable bytes dropped, as the review reads it); None if not readable."""
        data = self.read(name)
        if data is None:
            return None
        return data.decode("utf-8-sig", errors="ignore").replace("\r\n", "\n")

    def head(self, name: str, count: int = 8) -> bytes:
        return self.read(name, count) or b""


class FolderPackage(PackageView):
    """A plugin folder seen as the package built from it.  ``read_text`` is the index's reader (editor
    text first), so what the editor shows is what is judged."""

    def __init__(self, root: Path, read_text=None) -> None:
        from dify_lsp.invocation.package import ignore_patterns

        members: list[Member] = []
        dirs: set[str] = set()
        patterns = ignore_patterns(root)
        for folder, subdirs, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            base = [] if rel == "." else rel.split(os.sep)
            keep = []
            for d in sorted(subdirs):
                if any(p.excludes([*base, d], True) for p in patterns):
                    continue
                dirs.add("/".join([*base, d]))
                if d not in BLOCKED_DIR_NAMES:
                    keep.append(d)
            subdirs[:] = keep
            for name in sorted(files):
                if any(p.excludes([*base, name], False) for p in patterns):
                    continue
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                # dify-lsp's packager writes every member as 0644, so no executable bit reaches the package
                members.append(Member("/".join([*base, name]), st.st_size, st.st_size, 0o644))
        super().__init__(root, members, dirs)
        self._read_text = read_text

    def reading_with(self, read_text) -> "FolderPackage":
        """The same listing (and shared analyses), its texts read through ``read_text``."""
        view = copy.copy(self)
        view._read_text = read_text
        return view

    def text(self, name: str) -> str | None:
        if self._read_text is not None:
            ft = self._read_text(self.path(name))
            if ft.text is not None:
                return ft.text
            if ft.problem == "missing":
                return None
        return super().text(name)

    def read(self, name: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        try:
            with open(self.path(name), "rb") as fh:
                return fh.read(limit)
        except OSError:
            return None


class ZipPackage(PackageView):
    """A ``.difypkg`` read in place.  Members are listed from the zip's central directory; a member is
    inflated only when it is safe to (a safe name, a plausible ratio, within the read budget)."""

    def __init__(self, path: Path) -> None:
        super().__init__(Path(str(path) + "!"))
        self._zip: zipfile.ZipFile | None = None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._budget = MAX_TOTAL_READ
        try:
            self.file_size = path.stat().st_size
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            self.file_size = self.file_size or 0
            self.broken = str(exc) or exc.__class__.__name__
            return
        members: list[Member] = []
        for info in infos:
            name = info.filename
            if unsafe_name(name):
                self.unsafe.append(name)
                continue
            parts = [p for p in name.replace("\\", "/").split("/") if p and p != "."]
            for i in range(1, len(parts)):
                self.dirs.add("/".join(parts[:i]))
            if info.is_dir():
                if parts:
                    self.dirs.add("/".join(parts))
                continue
            if not parts:
                continue
            clean = "/".join(parts)
            mode = stat.S_IMODE(info.external_attr >> 16) if info.create_system == 3 else 0
            members.append(Member(clean, info.file_size, info.compress_size, mode))
            self._infos[clean] = info
            if info.file_size >= BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
                self.unread[clean] = msg(
                    "its compression ratio is {ratio}:1 ({size} bytes from {packed}), the mark of a zip bomb, so it was not inflated",
                    ratio=info.file_size // max(info.compress_size, 1), size=info.file_size, packed=info.compress_size)
        self.members = members
        self._by_name = {m.name: m for m in members}

    def read(self, name: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        info = self._infos.get(name)
        if info is None or self._zip is None or name in self.unread:
            return None
        want = min(limit, info.file_size, self._budget)
        if want < min(limit, info.file_size):
            self.unread[name] = msg("the package's members add up to more than {limit} bytes, and dify-lsp reads no more than that", limit=MAX_TOTAL_READ)
            return None
        try:
            with self._zip.open(info) as fh:
                data = fh.read(want)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            self.unread[name] = msg("it cannot be read from the package: {reason}", reason=str(exc) or exc.__class__.__name__)
            return None
        self._budget -= len(data)
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

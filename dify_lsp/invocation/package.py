"""``dify-lsp plugin package DIR -o OUT.difypkg``: a plugin package as ``dify plugin package`` writes it.

What the Go CLI (``pkg/plugin_packager``) does, and so what this does:

- every file under the folder goes into a zip, paths relative to the folder, sorted, except those matched by
  ``.difyignore`` (or, when there is none, ``.gitignore``), read as gitignore patterns; a negated pattern
  (``!keep``) never brings a file back (the Go walker only honours patterns that exclude);
- the manifest and every YAML it references (providers, tools, models and their ``_position.yaml``, endpoint
  groups and endpoints, agent strategies, datasources, triggers and events) must exist and parse, and the
  icons it names must be in ``_assets/``; otherwise nothing is written;
- the uncompressed size may not exceed ``--max-size`` MB (default 50); the error lists the five largest files;
- a Python plugin with ``pyproject.toml`` + ``uv.lock`` and no ``requirements.txt`` gets a ``requirements.txt``
  exported by ``uv export --frozen`` (so the daemon can install it).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dify_lsp.schema import references as refkinds

DEFAULT_MAX_SIZE_MB = 50
ZIP_DATE = (2025, 1, 1, 0, 0, 0)  # fixed timestamps: the same folder gives the same bytes

# the referenced files the Go decoder reads when it loads the manifest (python sources are not read)
REQUIRED_KINDS = frozenset({
    refkinds.TOOL_PROVIDER, refkinds.TOOL, refkinds.MODEL_PROVIDER, refkinds.MODEL, refkinds.MODEL_POSITION,
    refkinds.ENDPOINT_GROUP, refkinds.ENDPOINT, refkinds.AGENT_PROVIDER, refkinds.AGENT_STRATEGY,
    refkinds.DATASOURCE_PROVIDER, refkinds.DATASOURCE, refkinds.TRIGGER_PROVIDER, refkinds.TRIGGER_EVENT,
    refkinds.ICON,
})


class PackageError(Exception):
    """The folder cannot be packaged; the message says why, as the Go CLI would."""


@dataclass(frozen=True)
class IgnorePattern:
    parts: tuple[str, ...]
    dir_only: bool
    negated: bool
    anchored: bool

    @classmethod
    def parse(cls, line: str) -> "IgnorePattern":
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.strip("/") if dir_only else line
        anchored = "/" in line.rstrip("/")
        return cls(tuple(p for p in line.lstrip("/").split("/") if p), dir_only, negated, anchored)

    def excludes(self, parts: list[str], is_dir: bool) -> bool:
        if self.negated or not self.parts:
            return False
        if not self.anchored:
            name = self.parts[0]
            for i, part in enumerate(parts):
                if fnmatch.fnmatchcase(part, name):
                    if self.dir_only and i == len(parts) - 1 and not is_dir:
                        continue
                    return True
            return False
        if self.dir_only and not is_dir and len(parts) <= len(self.parts):
            return False
        return _glob_parts(list(self.parts), parts)


def _glob_parts(pattern: list[str], path: list[str]) -> bool:
    """``pattern`` (with ``**``) matches ``path`` or a leading part of it (a folder and everything in it)."""
    if not pattern:
        return True
    if pattern[0] == "**":
        return any(_glob_parts(pattern[1:], path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    return fnmatch.fnmatchcase(path[0], pattern[0]) and _glob_parts(pattern[1:], path[1:])


def ignore_patterns(root: Path) -> list[IgnorePattern]:
    for name in (".difyignore", ".gitignore"):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return [IgnorePattern.parse(line.strip()) for line in text.split("\n")
                if line.strip() and not line.strip().startswith("#")]
    return []


def package_files(root: Path) -> list[str]:
    """The relative paths that go into the package, sorted."""
    patterns = ignore_patterns(root)
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        base = [] if str(rel_folder) == "." else list(rel_folder.parts)
        dirs[:] = sorted(d for d in dirs if not any(p.excludes(base + [d], True) for p in patterns))
        for name in files:
            if any(p.excludes(base + [name], False) for p in patterns):
                continue
            found.append("/".join(base + [name]))
    return sorted(found)


def missing_references(root: Path) -> list[str]:
    """Referenced YAML files and icons that do not exist (the Go decoder refuses such a plugin)."""
    from dify_lsp.index import CONTENTS, PluginIndex

    plugin = PluginIndex().plugin_at(root)
    if CONTENTS.doc(plugin.manifest) is None or plugin.manifest.problem:
        raise PackageError(f"manifest.yaml: {plugin.manifest.problem or 'not valid YAML'}")
    problems: list[str] = []
    for ref in plugin.refs:
        if ref.target_kind not in REQUIRED_KINDS or ref.exists:
            continue
        where = plugin.relative(ref.owner)
        what = "icon" if ref.target_kind == refkinds.ICON else ref.target_kind.replace("_", " ") + " file"
        problems.append(f"{where}: {what} {ref.raw!r} not found")
    for path, yf in plugin.yaml_files.items():
        if yf.problem and path.exists():
            problems.append(f"{plugin.relative(path)}: {yf.problem}")
    return problems


def _uv_export(root: Path) -> bytes:
    uv = os.environ.get("UV_PATH") or _find_uv()
    if not uv:
        raise PackageError("failed to find uv executable for exporting requirements.txt")
    done = subprocess.run(
        [uv, "export", "--frozen", "--format", "requirements.txt", "--no-group", "dev", "--no-emit-project",
         "--no-hashes", "--no-header", "--no-annotate"],
        cwd=root, capture_output=True, timeout=120,
    )
    if done.returncode != 0:
        raise PackageError(f"uv export failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin  # the uv package from PyPI

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _python_runner(root: Path) -> bool:
    try:
        text = (root / "manifest.yaml").read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r"^\s*language:\s*['\"]?python", text, re.M) is not None


def build_package(root: Path, output: Path, max_size_mb: int = DEFAULT_MAX_SIZE_MB) -> tuple[int, int]:
    """Write the package; returns (files, uncompressed bytes).  Raises :class:`PackageError`."""
    root = root.resolve()
    if not root.is_dir():
        raise PackageError(f"{root}: not a directory")
    if not (root / "manifest.yaml").is_file():
        raise PackageError(f"{root}: no manifest.yaml (not a Dify plugin folder)")
    problems = missing_references(root)
    if problems:
        raise PackageError("the plugin is incomplete:\n" + "\n".join(f"  {p}" for p in problems))
    max_size = (max_size_mb if max_size_mb > 0 else DEFAULT_MAX_SIZE_MB) * 1024 * 1024
    names = package_files(root)
    out_abs = output.resolve()
    names = [n for n in names if (root / n).resolve() != out_abs]  # never pack the package into itself
    contents: dict[str, bytes] = {}
    sizes: list[tuple[str, int]] = []
    total = 0
    for name in names:
        data = (root / name).read_bytes()
        contents[name] = data
        sizes.append((name, len(data)))
        total += len(data)
        if total > max_size:
            top = sorted(sizes, key=lambda s: -s[1])[:5]
            listing = "".join(f"{i}. name: {n}, size: {s} bytes\n" for i, (n, s) in enumerate(top, 1))
            raise PackageError(
                f"Plugin package size is too large. Please ensure the uncompressed size is less than {max_size} "
                f"bytes.\nPackaged file info:\n{listing}"
            )
    if ("requirements.txt" not in contents and (root / "pyproject.toml").is_file() and (root / "uv.lock").is_file()
            and not (root / "requirements.txt").exists() and _python_runner(root)):
        contents["requirements.txt"] = _uv_export(root)
        total += len(contents["requirements.txt"])
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, contents[name])
    tmp.replace(output)
    return len(contents), total


def extract_package(package: Path, target: Path) -> Path:
    """Unpack a ``.difypkg`` into ``target`` (refusing entries that climb out of it); returns the plugin root."""
    try:
        with zipfile.ZipFile(package) as zf:
            for info in zf.infolist():
                dest = (target / info.filename).resolve()
                if not str(dest).startswith(str(target.resolve()) + os.sep) and dest != target.resolve():
                    raise PackageError(f"{package}: entry {info.filename!r} points outside the package")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise PackageError(f"decode plugin file error: {package}: {exc}") from None
    except OSError as exc:
        raise PackageError(f"read plugin file error: {exc}") from None
    if not (target / "manifest.yaml").is_file():
        raise PackageError(f"get declaration error: {package} has no manifest.yaml")
    return target

"""File URIs and local paths, as editors write them on Linux, macOS and Windows.

One Windows file reaches the server in several spellings: VS Code sends ``file:///c%3A/Users/me/p/a.py``
(drive letter lower-cased, colon percent-encoded), Neovim and Python's ``Path.as_uri()`` send
``file:///C:/Users/me/p/a.py``, a network share is ``file://server/share/p/a.py``.  All of them name the
path ``C:\\Users\\me\\p\\a.py``: the drive letter is upper-cased (as ``os.getcwd()`` and ``os.path.abspath``
write it), so a file has one identity whichever spelling the editor used.  Windows compares paths without
regard to case (``pathlib`` does too), which is what makes ``c:`` and ``C:`` one drive.

The ``windows`` flag chooses the rules; it defaults to this machine's, and tests pass it to check the
Windows rules on any machine.

Letter case matters once more for the files a plugin names: macOS and Windows open ``tools/LLM.yaml`` for
``tools/llm.yaml``, Linux, where Dify runs plugins, does not (:func:`on_disk_spelling`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ON_WINDOWS = os.name == "nt"
_DRIVE = re.compile(r"^/?([A-Za-z])(:|%3[Aa])")


def uri_to_fs_path(uri: str, windows: bool = ON_WINDOWS) -> str | None:
    """The local path a ``file:`` URI names, in the chosen OS's form; None for any other scheme
    (``untitled:``, ``vscode-notebook-cell:``, ``git:``, ...)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    host = parts.netloc if parts.netloc.lower() != "localhost" else ""
    path = unquote(parts.path)
    if not windows:
        return f"//{host}{path}" if host else (path or "/")
    if host:
        return "\\\\" + host + path.replace("/", "\\")
    drive = _DRIVE.match(path)
    if drive:
        path = drive.group(1).upper() + ":" + path[drive.end() :]
        if len(path) == 2:
            path += "/"  # file:///c%3A is the drive's root
    return path.replace("/", "\\")


def uri_to_path(uri: str) -> Path | None:
    """The absolute local path of a ``file:`` URI on this machine; None for any other scheme."""
    fs_path = uri_to_fs_path(uri)
    return Path(os.path.abspath(fs_path)) if fs_path is not None else None


# Where file systems ignore letter case by default; Dify runs plugins on Linux, where they do not.
CASE_INSENSITIVE_BY_DEFAULT = sys.platform in ("darwin", "win32")


def on_disk_spelling(root: Path, path: Path) -> str | None:
    """When ``path`` (inside ``root``) exists on disk only under another letter case, its path relative to
    ``root`` as the disk spells it (``tools/LLM.yaml`` for ``tools/llm.yaml``); else None (spelled the same,
    or not on disk at all, or not inside ``root``).

    A case-insensitive file system (macOS, Windows) opens such a file, Linux does not: reading one directory
    listing per path component tells them apart on any OS.
    """
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    folder, spelled, differs = root, [], False
    for part in parts:
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        if part not in names:
            matches = [n for n in names if n.casefold() == part.casefold()]
            if len(matches) != 1:
                return None
            part, differs = matches[0], True
        spelled.append(part)
        folder = folder / part
    return "/".join(spelled) if differs else None

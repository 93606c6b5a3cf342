"""Where a plugin's ``[tool.dify-lsp]`` table is, and what it holds, as written.

The nearest ``pyproject.toml`` from the plugin folder up to the repository root (the first
folder holding ``.git``) that has the table.  :mod:`dify_lsp.config` validates it and turns it
into rule selection; a rule family that only needs one flag of it (``marketplace``) reads it here,
below the rules.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Callable, Iterable

CONFIG_FILE = "pyproject.toml"
CONFIG_TABLE = ("tool", "dify-lsp")

ReadText = Callable[[Path], "str | None"]


def config_candidates(root: Path) -> Iterable[Path]:
    """pyproject.toml in the plugin folder, then upwards to the repository root (a folder with .git)."""
    for folder in (root, *root.parents):
        yield folder / CONFIG_FILE
        if (folder / ".git").exists():
            return


def find_config_table(root: Path, read_text: ReadText) -> tuple[Path, str, Any] | None:
    """(pyproject.toml, its text, the ``[tool.dify-lsp]`` value) nearest to the plugin, or None.
    ``read_text(path)`` returns a file's text or None; a file that is not valid TOML is passed over."""
    for path in config_candidates(root):
        text = read_text(path)
        if text is None:
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue  # not ours to report: packaging tools say it loudly
        table: Any = data
        for key in CONFIG_TABLE:
            table = table.get(key) if isinstance(table, dict) else None
        if table is not None:
            return path, text, table
    return None

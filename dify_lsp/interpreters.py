"""Finding a Python interpreter for a plugin (jedi's completions) and a base Python for run environments.

A run picks its interpreter in :func:`dify_lsp.invocation.engine.resolve_python` (explicit choices first, then
the plugin's ``.venv``, then a built environment); this module only discovers interpreters.  Discovery order:
the plugin's own ``.venv`` (or ``venv``), then an explicit setting or the ``DIFY_LSP_PYTHON`` environment
variable, then ``python3.12`` / ``python3.13`` / ``python3`` on PATH when it is new enough, then interpreters
managed by pyenv or uv (``~/.pyenv/versions/3.12*``).  Each candidate is
asked for its version, so a broken shim is skipped rather than trusted.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MIN_PLUGIN_PYTHON = (3, 12)
ENV_VAR = "DIFY_LSP_PYTHON"


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: tuple[int, int, int]
    source: str  # where it was found: ".venv", "setting", "PATH", "pyenv", ...


def venv_python(folder: Path) -> Path | None:
    for name in (".venv", "venv"):
        for rel in ("bin/python", "Scripts/python.exe"):
            cand = folder / name / rel
            if cand.exists():
                return cand
    return None


# An interpreter's version is a fact of the machine, not of any checked file: remembered per process.
@functools.lru_cache(maxsize=64)
def probe(path: str) -> tuple[int, int, int] | None:
    """Ask an interpreter for its version; None when it does not run."""
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=10,
            env={**os.environ, "PYTHONNOUSERSITE": "1"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        major, minor, micro = (int(x) for x in out.stdout.strip().split("."))
    except ValueError:
        return None
    return (major, minor, micro)


def _managed_candidates() -> list[Path]:
    found: list[Path] = []
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        versions = Path(root) / "versions"
        if versions.is_dir():
            # Python 3.12 first: the daemon always builds plugin venvs with it.
            for name in ("python3.12", "python3.13", "python3.14"):
                for v in sorted(versions.iterdir(), reverse=True):
                    cand = v / "bin" / name
                    if cand.exists():
                        found.append(cand)
    uv_root = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local/share/uv/python"))
    if uv_root.is_dir():
        for v in sorted(uv_root.iterdir(), reverse=True):
            cand = v / "bin" / "python3"
            if cand.exists():
                found.append(cand)
    return found


def find_python(
    plugin_root: Path | None = None,
    configured: str | None = None,
    minimum: tuple[int, int] = MIN_PLUGIN_PYTHON,
    exact: bool = False,
) -> Interpreter | None:
    """The first interpreter (in the order above) at least ``minimum``, or None when there is none.

    With ``exact`` only ``minimum``'s own minor version is accepted (run environments are built with 3.12,
    as the daemon builds them).
    """
    candidates: list[tuple[str, str]] = []
    if plugin_root is not None:
        vp = venv_python(plugin_root)
        if vp is not None:
            candidates.append((str(vp), ".venv"))
    if configured:
        candidates.append((configured, "setting"))
    if os.environ.get(ENV_VAR):
        candidates.append((os.environ[ENV_VAR], ENV_VAR))
    for name in ("python3.12", "python3.13", "python3.14", "python3"):
        which = shutil.which(name)
        if which:
            candidates.append((which, "PATH"))
    if sys.version_info[:2] >= minimum:
        candidates.append((sys.executable, "current"))
    candidates.extend((str(p), "pyenv/uv") for p in _managed_candidates())
    for path, source in candidates:
        version = probe(path)
        if version is not None and (version[:2] == minimum if exact else version[:2] >= minimum):
            return Interpreter(Path(path), version, source)
    return None

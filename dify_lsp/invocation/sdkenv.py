"""A cached Python 3.12 virtual environment with the Dify plugin SDK.

Used by the tests (one venv shared between runs) and by users who want to try
``dify-lsp run`` on a plugin that has no ``.venv`` yet::

    python -m dify_lsp.invocation.sdkenv            # prints the venv's python
    python -m dify_lsp.invocation.sdkenv --plugin . # installs the plugin's requirements too

The venv lives in ``~/.cache/dify-lsp/sdk-venv-<version>`` (``$XDG_CACHE_HOME``
is honoured) and is reused as long as it imports ``dify_plugin``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dify_lsp.interpreters import MIN_PLUGIN_PYTHON, find_python

SDK_VERSION = "0.10.2"


class SdkEnvError(RuntimeError):
    """The SDK venv could not be created (no Python 3.12, pip failed...)."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dify-lsp"


def sdk_venv_dir(version: str = SDK_VERSION) -> Path:
    return cache_dir() / f"sdk-venv-{version}"


def venv_bin_python(folder: Path) -> Path | None:
    """The interpreter of the venv *at* ``folder`` (not of a .venv inside it)."""
    for rel in ("bin/python", "Scripts/python.exe"):
        cand = folder / rel
        if cand.exists():
            return cand
    return None


def imports_sdk(python: Path) -> bool:
    """True when ``python`` runs and can import dify_plugin."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import dify_plugin"],
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0


def how_to_create_venv(plugin_root: Path | None = None) -> str:
    """Instructions for a user whose plugin has no usable interpreter."""
    where = str(plugin_root) if plugin_root else "<plugin folder>"
    return (
        f"no Python >= {MIN_PLUGIN_PYTHON[0]}.{MIN_PLUGIN_PYTHON[1]} with the plugin's requirements was found. "
        f"Either create the plugin's own venv: `cd {where} && python3.12 -m venv .venv && "
        f".venv/bin/pip install -r requirements.txt`, "
        f"or create a shared one with `python -m dify_lsp.invocation.sdkenv --plugin {where}` "
        f"and pass its python with --python (or the dify.python setting, or DIFY_LSP_PYTHON)"
    )


def ensure_sdk_venv(
    version: str = SDK_VERSION,
    requirements: Path | None = None,
    base_python: str | None = None,
    log=None,
) -> Path:
    """The python of a venv that has ``dify-plugin==version``; created when missing.

    Raises :class:`SdkEnvError` when no Python 3.12+ exists or pip fails.
    """
    folder = sdk_venv_dir(version)
    python = venv_bin_python(folder) if folder.exists() else None
    if python is not None and imports_sdk(python):
        if requirements is not None:
            _pip(python, ["-r", str(requirements)], log)
        return python
    interp = find_python(configured=base_python)
    if interp is None:
        raise SdkEnvError(
            f"no Python >= {MIN_PLUGIN_PYTHON[0]}.{MIN_PLUGIN_PYTHON[1]} found to create {folder}; "
            f"install Python 3.12 (e.g. `pyenv install 3.12` or `uv python install 3.12`)"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    if log:
        log(f"creating {folder} with {interp.path} (Python {interp.version_text})")
    made = subprocess.run([str(interp.path), "-m", "venv", str(tmp)], capture_output=True, text=True)
    if made.returncode != 0:
        raise SdkEnvError(f"`{interp.path} -m venv` failed: {made.stderr.strip()[-2000:]}")
    tmp_python = venv_bin_python(tmp)
    assert tmp_python is not None
    _pip(tmp_python, [f"dify-plugin=={version}"], log)
    # venvs hard-code their own path in scripts; python itself works after a rename.
    tmp.rename(folder)
    python = venv_bin_python(folder)
    assert python is not None
    if requirements is not None:
        _pip(python, ["-r", str(requirements)], log)
    if not imports_sdk(python):
        raise SdkEnvError(f"{python} cannot import dify_plugin after installing dify-plugin=={version}")
    return python


def _pip(python: Path, args: list[str], log=None) -> None:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    if log:
        log("running " + " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SdkEnvError(f"pip install {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create (or reuse) a Python 3.12 venv with the Dify plugin SDK")
    parser.add_argument("--sdk-version", default=SDK_VERSION)
    parser.add_argument("--plugin", type=Path, help="also install this plugin's requirements.txt")
    parser.add_argument("--python", help="base interpreter (Python >= 3.12)")
    args = parser.parse_args(argv)
    req = None
    if args.plugin is not None:
        cand = args.plugin / "requirements.txt"
        req = cand if cand.exists() else None
    try:
        python = ensure_sdk_venv(args.sdk_version, req, args.python, log=lambda m: print(m, file=sys.stderr))
    except SdkEnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

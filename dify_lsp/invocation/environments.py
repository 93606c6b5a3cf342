"""Run environments: a Python 3.12 venv with a plugin's dependencies, built with uv as the Dify daemon builds it.

The daemon (``internal/core/local_runtime/setup_python_environment.go``) creates ``.venv`` with
``uv venv .venv --python 3.12`` and installs the dependencies with ``uv sync --no-dev`` (``--frozen`` when the
plugin ships a ``uv.lock``) when the plugin has a ``pyproject.toml``, else ``uv pip install -r requirements.txt``.
This module does the same, with three differences that keep a user's folder untouched and builds reusable:

- the venv lives in the dify-lsp cache (``$XDG_CACHE_HOME/dify-lsp/envs/<source>-<hash>``), not in the plugin;
  ``<hash>`` is the SHA-256 of the dependency files (``uv.lock`` + ``pyproject.toml``, or ``pyproject.toml``, or
  ``requirements.txt``) and the Python version, so an edit to them builds a new environment, and every copy of a
  plugin (and the folder PluginRunner unpacks a package into) shares one;
- a ``pyproject.toml`` without ``uv.lock`` is installed with ``uv pip install -r pyproject.toml`` (``uv sync``
  would write a ``uv.lock`` into the plugin folder);
- ``uv sync`` runs with ``--no-install-project`` (the daemon's plugins are virtual projects; the plugin runs from
  its own folder, so its modules import without being installed, and no build artefacts land in the folder).

uv is the ``uv`` package from PyPI (a dependency of dify-lsp; found with ``uv._find_uv.find_uv_bin``, else on
``PATH``); it never downloads a Python (``UV_PYTHON_DOWNLOADS=never``): it is given a Python 3.12 found on the
machine (:func:`dify_lsp.interpreters.find_python` with ``exact=True``).  A plugin that declares no dependencies
at all (the daemon refuses to install it) gets the shared SDK environment (``dify-plugin==SDK_VERSION``).

Public API used by the run engine and the other run faces (keep stable):

- :func:`dependency_source` - which file an environment would be built from;
- :func:`environment_dir` / :func:`cached_environment` - where it is and whether it is ready;
- :func:`ensure_environment` - the environment's python, built when missing (blocking: call it in a thread);
- :func:`ensure_sdk_environment` - the shared environment with only the SDK.

``python -m dify_lsp.invocation.sdkenv --plugin PLUGIN_DIR [--rebuild]`` builds one and prints its python.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from dify_lsp.interpreters import find_python, probe
from dify_lsp.invocation.processes import run_killable

SDK_VERSION = "0.10.2"
ENV_PYTHON = (3, 12)  # the daemon always builds plugin venvs with 3.12
BUILDER_VERSION = "1"  # part of the hash: a change to how environments are built rebuilds them
MARKER = "dify-lsp-environment.json"  # written last: an environment without it is incomplete
INSTALL_TIMEOUT = 15 * 60  # the daemon gives an install 10 minutes of inactivity

StepFn = Callable[[str], None]


class EnvironmentBuildError(Exception):
    """The environment could not be built (no uv, no Python 3.12, an install failed)."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dify-lsp"


@dataclass(frozen=True)
class DependencySource:
    """What an environment is built from: ``kind`` is uv.lock, pyproject.toml, requirements.txt or sdk."""

    kind: str
    files: tuple[Path, ...]

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(f"{BUILDER_VERSION}\0{ENV_PYTHON}\0{self.kind}\0".encode())
        if self.kind == "sdk":
            h.update(SDK_VERSION.encode())
        for path in self.files:
            h.update(path.name.encode() + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
        return h.hexdigest()

    @property
    def label(self) -> str:
        return f"dify-plugin=={SDK_VERSION} (the plugin declares no dependencies)" if self.kind == "sdk" else self.kind


def dependency_source(plugin_root: Path) -> DependencySource:
    """The daemon's choice: pyproject.toml (frozen with its uv.lock) first, then requirements.txt."""
    pyproject = plugin_root / "pyproject.toml"
    lock = plugin_root / "uv.lock"
    requirements = plugin_root / "requirements.txt"
    if pyproject.is_file():
        if lock.is_file():
            return DependencySource("uv.lock", (lock, pyproject))
        return DependencySource("pyproject.toml", (pyproject,))
    if requirements.is_file():
        return DependencySource("requirements.txt", (requirements,))
    return DependencySource("sdk", ())


def environment_dir(plugin_root: Path, source: DependencySource | None = None) -> Path:
    """Where the environment of ``plugin_root`` lives (whether built or not)."""
    source = source or dependency_source(plugin_root)
    digest = source.digest()[:16]
    if source.kind == "sdk":
        return cache_dir() / "envs" / f"sdk-{SDK_VERSION}-{digest}"  # shared by every plugin without dependencies
    # named by what it is built from, not by the folder: every copy of a plugin (and the folder PluginRunner
    # unpacks a package into) shares one environment
    return cache_dir() / "envs" / f"{re.sub(r'[^a-z0-9]+', '-', source.kind)}-{digest}"


def env_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def cached_environment(plugin_root: Path) -> Path | None:
    """The python of the plugin's environment when it is built and complete, else None (no build, fast)."""
    folder = environment_dir(plugin_root)
    python = env_python(folder)
    if (folder / MARKER).is_file() and python.exists():
        return python
    return None


def find_uv() -> Path:
    """The uv binary of the ``uv`` PyPI package (the daemon's own lookup), else ``uv`` on PATH."""
    try:
        from uv._find_uv import find_uv_bin  # type: ignore[import-not-found]

        return Path(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return Path(found)
    raise EnvironmentBuildError("uv was not found: install dify-lsp with its dependencies (`pip install uv`)")


def find_env_python(base_python: str | None = None) -> Path:
    """A Python 3.12 on this machine for uv to build with (uv itself never downloads one here).

    ``base_python``, when given, is used as is (a newer Python too), or refused: never silently replaced.
    """
    if base_python:
        version = probe(base_python)
        if version is None or version[:2] < ENV_PYTHON:
            found = "does not run" if version is None else f"is Python {'.'.join(map(str, version))}"
            raise EnvironmentBuildError(f"{base_python} {found}; run environments are built with Python 3.12")
        return Path(base_python)
    interp = find_python(minimum=ENV_PYTHON, exact=True)
    if interp is not None:
        return interp.path
    # uv knows more places (its own managed installs, the Windows registry); it must not download
    try:
        done = subprocess.run([str(find_uv()), "python", "find", "3.12"], capture_output=True, text=True,
                              timeout=60, env=_uv_env())
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    raise EnvironmentBuildError(
        "no Python 3.12 was found on this machine, and dify-lsp does not let uv download one "
        "(UV_PYTHON_DOWNLOADS=never). Install Python 3.12 (your package manager, `pyenv install 3.12` or "
        "`uv python install 3.12`), or pass an interpreter that has the plugin's dependencies with --python "
        "(or the dify.python setting, or DIFY_LSP_PYTHON)"
    )


def _uv_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONHOME")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    env.update(extra or {})
    return env


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """One build of an environment at a time (an editor run and a CLI run may start together)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock_path = folder.with_name(folder.name + ".lock")
    with open(lock_path, "w") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: no lock, builds are rare
            pass
        yield


def _run(cmd: list[str], cwd: Path, env: dict[str, str], what: str, abort: threading.Event | None = None) -> None:
    try:
        done = run_killable(cmd, cwd=cwd, env=env, timeout=INSTALL_TIMEOUT, abort=abort)
    except subprocess.TimeoutExpired:
        raise EnvironmentBuildError(f"{what} did not finish within {INSTALL_TIMEOUT // 60} minutes") from None
    except OSError as exc:
        raise EnvironmentBuildError(f"{what}: cannot run {cmd[0]}: {exc}") from None
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip())[-3000:]
        raise EnvironmentBuildError(f"{what} failed (`{' '.join(cmd)}`, exit {done.returncode}):\n{output}")


def ensure_environment(
    plugin_root: Path,
    step: StepFn | None = None,
    rebuild: bool = False,
    base_python: str | None = None,
    abort: threading.Event | None = None,
) -> Path:
    """The python of the plugin's run environment; built first when missing, incomplete or ``rebuild``.

    ``abort`` stops a build within a tenth of a second (uv's process tree killed, the half-built folder removed;
    raises :class:`~dify_lsp.invocation.processes.Aborted`).

    Blocking (uv installs take seconds to minutes): call it in a thread, never on an event loop.
    ``step(text)`` is called once per build step, after it, with the elapsed time in the text; it is not
    called at all when the environment is already built.  Raises :class:`EnvironmentBuildError`.
    """
    root = plugin_root.resolve()
    source = dependency_source(root)
    return _ensure(root, source, environment_dir(root, source), step, rebuild, base_python, abort)


SDK_SOURCE = DependencySource("sdk", ())


def ensure_sdk_environment(step: StepFn | None = None, rebuild: bool = False, base_python: str | None = None) -> Path:
    """The python of the shared environment with only ``dify-plugin==SDK_VERSION`` (the tests' SDK venv, and the
    environment of a plugin that declares no dependencies).  Blocking, like :func:`ensure_environment`."""
    folder = cache_dir() / "envs" / f"sdk-{SDK_VERSION}-{SDK_SOURCE.digest()[:16]}"
    return _ensure(None, SDK_SOURCE, folder, step, rebuild, base_python)


def _ensure(root: Path | None, source: DependencySource, folder: Path, step: StepFn | None, rebuild: bool,
            base_python: str | None, abort: threading.Event | None = None) -> Path:
    python = env_python(folder)
    if not rebuild and (folder / MARKER).is_file() and python.exists():
        return python
    with _build_lock(folder):
        # another process may have finished the same build while this one waited for the lock
        if not rebuild and (folder / MARKER).is_file() and python.exists():
            return python
        try:
            _build(root, source, folder, step or (lambda _text: None), base_python, abort)
        except BaseException:
            # nothing half-built stays behind (it has no marker, but it would hold the disk and confuse people)
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return python


def _build(root: Path | None, source: DependencySource, folder: Path, step: StepFn, base_python: str | None,
           abort: threading.Event | None = None) -> None:
    t0 = time.perf_counter()

    def done(text: str) -> None:
        step(f"[{time.perf_counter() - t0:5.1f} s] {text}")

    uv = find_uv()
    base = find_env_python(base_python)
    what = f"environment for {root.name}" if root is not None else "shared SDK environment"
    done(f"{what}: uv {uv}, Python {base}, dependencies from {source.label}")
    cwd = root if root is not None else folder.parent
    if folder.exists():
        shutil.rmtree(folder)
    env = _uv_env({"VIRTUAL_ENV": str(folder), "UV_PROJECT_ENVIRONMENT": str(folder)})
    _run([str(uv), "venv", str(folder), "--python", str(base), "--no-project", "--quiet"], cwd, env, "uv venv", abort)
    done(f"created {folder}")
    python = env_python(folder)
    common = ["--python", str(python), "--compile-bytecode"]
    if source.kind == "uv.lock":
        assert root is not None
        cmd = [str(uv), "sync", "--frozen", "--no-dev", "--no-install-project", "--project", str(root), *common]
    elif source.kind == "sdk":
        cmd = [str(uv), "pip", "install", f"dify-plugin=={SDK_VERSION}", *common]
    else:
        cmd = [str(uv), "pip", "install", "-r", str(source.files[0]), *common]
    _run(cmd, cwd, env, f"installing the dependencies from {source.label}", abort)
    done(f"installed the dependencies from {source.label} (`{' '.join([Path(cmd[0]).name, *cmd[1:3]])} ...`)")
    (folder / MARKER).write_text(json.dumps({
        "plugin": str(root) if root else None, "source": source.kind, "files": [str(p) for p in source.files],
        "digest": source.digest(), "base_python": str(base), "built_at": time.time(),
    }, indent=2))

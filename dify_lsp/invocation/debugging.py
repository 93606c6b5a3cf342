"""Running a plugin under a debugger: ``dify-lsp run ... --debug [HOST:]PORT``.

The plugin starts under `debugpy <https://pypi.org/project/debugpy/>`_ listening on HOST:PORT (127.0.0.1 unless
given) and waits there until a debugger attaches (VS Code's Python Debugger ``debugpy`` attach configuration,
nvim-dap, any DAP client); only then does it declare itself and receive the run's request, so a breakpoint in the
plugin's own code (a tool's ``_invoke``, an endpoint's ``_invoke``...) is hit by the run.

debugpy comes from PyPI, installed by uv into its own folder beside the run environment
(``$XDG_CACHE_HOME/dify-lsp/debugpy/<python version>-<debugpy version>``) and put on the plugin's ``sys.path`` by a
small launcher: the run environment itself (and the plugin's own ``.venv``) are never changed.  The SDK patches the
standard library with gevent, so the launcher sets ``GEVENT_SUPPORT=True`` for debugpy.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

from dify_lsp.i18n import msg
from dify_lsp.interpreters import probe
from dify_lsp.invocation.environments import EnvironmentBuildError, cache_dir, find_uv
from dify_lsp.invocation.parameters import InvocationError

DEBUGPY_SPEC = "debugpy>=1.8,<2"
# the launcher's stderr line once debugpy listens: a debugger may attach from then on (a probe connection would
# take debugpy's one client slot, so editors wait for this instead)
LISTENING = "dify-lsp: debugpy is listening"
MARKER = "dify-lsp-debugpy.json"
# runs in the plugin's interpreter: debugpy from its own folder, listen, wait for the debugger, then the plugin
LAUNCHER = (
    "import os, runpy, sys\n"
    "sys.path.insert(0, os.environ['DIFY_LSP_DEBUGPY_PATH'])\n"
    "import debugpy\n"
    "sys.path.remove(os.environ['DIFY_LSP_DEBUGPY_PATH'])\n"
    "debugpy.listen((os.environ['DIFY_LSP_DEBUG_HOST'], int(os.environ['DIFY_LSP_DEBUG_PORT'])))\n"
    "sys.stderr.write(os.environ['DIFY_LSP_DEBUG_MARKER'] + '\\n')\n"
    "sys.stderr.flush()\n"
    "debugpy.wait_for_client()\n"
    "sys.argv = [sys.argv[0]]\n"
    "runpy.run_module(os.environ['DIFY_LSP_DEBUG_MODULE'], run_name='__main__', alter_sys=True)\n"
)


def parse_address(text: str) -> tuple[str, int]:
    """``[HOST:]PORT`` -> (host, port); the host defaults to loopback."""
    host, _, port = str(text).strip().rpartition(":")
    if not re.fullmatch(r"\d{1,5}", port) or not 0 < int(port) < 65536:
        raise InvocationError(msg("--debug {given}: expected [HOST:]PORT, e.g. 5678 or 127.0.0.1:5678",
                                  given=repr(text)))
    return (host.strip("[]") or "127.0.0.1"), int(port)


def debugpy_folder(python: Path, step: Callable[[str], None] | None = None) -> Path:
    """The folder with debugpy for ``python``'s version, installed with uv when missing.  Blocking."""
    version = probe(str(python))
    if version is None:
        raise InvocationError(msg("{python} does not run", python=str(python)))
    base = cache_dir() / "debugpy"
    found = sorted(base.glob(f"py{version[0]}.{version[1]}-*/{MARKER}")) if base.is_dir() else []
    if found:
        return found[-1].parent
    target = base / f"py{version[0]}.{version[1]}-new-{os.getpid()}"
    try:
        uv = find_uv()
    except EnvironmentBuildError as exc:
        raise InvocationError(str(exc)) from None
    from dify_lsp.invocation.processes import run_killable

    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    done = run_killable([str(uv), "pip", "install", "--target", str(target), "--python", str(python), DEBUGPY_SPEC],
                        cwd=base.parent if base.parent.is_dir() else Path.cwd(), env=env, timeout=600)
    if done.returncode != 0:
        raise InvocationError(msg("debugpy could not be installed from PyPI: {output}",
                                  output=(done.stderr or done.stdout).strip()[-2000:]))
    installed = next(target.glob("debugpy-*.dist-info"), None)
    dversion = installed.name.removesuffix(".dist-info").split("-", 1)[1] if installed else "unknown"
    final = base / f"py{version[0]}.{version[1]}-{dversion}"
    (target / MARKER).write_text(json.dumps({"python": str(python), "debugpy": dversion}))
    try:
        target.rename(final)
    except OSError:  # another run installed the same one meanwhile
        import shutil

        shutil.rmtree(target, ignore_errors=True)
    if step is not None:
        step(msg("installed debugpy {version} into {folder}", version=dversion, folder=str(final)))
    return final


class DebugListener:
    """How one run's plugin is started under debugpy."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.folder: Path | None = None
        self.on_listening: Callable[[], None] | None = None  # called once debugpy listens

    async def prepare(self, python: Path, report: Callable[[str, str], None]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.folder = await asyncio.to_thread(
            debugpy_folder, python, lambda text: loop.call_soon_threadsafe(report, "environment", text))
        return {"host": self.host, "port": self.port, "debugpy": str(self.folder)}

    def command(self, python: Path, module: str) -> tuple[list[str], dict[str, str]]:
        assert self.folder is not None, "prepare() first"
        return [str(python), "-c", LAUNCHER], {
            "DIFY_LSP_DEBUGPY_PATH": str(self.folder), "DIFY_LSP_DEBUG_HOST": self.host,
            "DIFY_LSP_DEBUG_PORT": str(self.port), "DIFY_LSP_DEBUG_MODULE": module, "GEVENT_SUPPORT": "True",
            "DIFY_LSP_DEBUG_MARKER": LISTENING,
        }

    def stderr_line(self, line: str) -> bool:
        """True (and ``on_listening`` called) for the launcher's line saying debugpy listens."""
        if line.strip() != LISTENING:
            return False
        if self.on_listening is not None:
            self.on_listening()
        return True


def debug_listener(address: Any) -> DebugListener | None:
    if address is None:
        return None
    host, port = address if isinstance(address, tuple) else parse_address(str(address))
    return DebugListener(host, int(port))

"""The servers the benchmark drives, and how to install the peers.

- ``dify-lsp``: this project, ``<python> -m dify_lsp`` with the benchmark's
  Python (the one running the benchmark, where dify-lsp is installed).
- ``jedi-language-server``: in its own Python 3.12 venv with
  ``dify-plugin==0.10.2`` (so it sees the same SDK), built once under the
  cache folder.
- ``yaml-language-server``: from npm, installed once under the cache folder,
  given JSON schemas generated from dify-lsp's schema data.
- ``floor``: ``bench/floor_server.py``, a pygls server that answers instantly.

The cache folder is ``$DIFY_LSP_BENCH_CACHE`` or ``~/.cache/dify-lsp-bench``.
A peer that cannot be installed (no network, no Python 3.12, no node) is
reported as unavailable with the reason; the other servers still run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
SDK_REQUIREMENT = "dify-plugin==0.10.2"
JEDI_LS_REQUIREMENT = "jedi-language-server"
YAML_LS_PACKAGE = "yaml-language-server"

PYTHON = "python"
YAML = "yaml"

DIFY, JEDI, YAMLLS, FLOOR = "dify-lsp", "jedi-language-server", "yaml-language-server", "floor"
ALL_SERVERS = (DIFY, JEDI, YAMLLS, FLOOR)
SHORT_NAMES = {"dify": DIFY, "jedi": JEDI, "yaml": YAMLLS, "floor": FLOOR}


class PeerUnavailable(Exception):
    pass


@dataclass
class ServerSpec:
    name: str
    command: list[str]
    languages: tuple[str, ...]
    version: str
    initialization_options: Any = None
    settings: dict[str, Any] = field(default_factory=dict)  # answered to workspace/configuration by section
    env: dict[str, str] | None = None
    after_initialized: Callable[[Any], None] | None = None  # e.g. send didChangeConfiguration

    def configuration(self, section: str | None) -> Any:
        if section is None:
            return self.settings
        value: Any = self.settings
        for part in section.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


def cache_dir() -> Path:
    return Path(os.environ.get("DIFY_LSP_BENCH_CACHE") or Path.home() / ".cache" / "dify-lsp-bench")


def _run(cmd: list[str], log: Path, timeout: float = 900) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        raise PeerUnavailable(f"`{' '.join(cmd[:4])} ...` failed (exit {proc.returncode}); see {log}")


def _versions_in(python: Path) -> dict[str, str] | None:
    code = (
        "import importlib.metadata as m, json, sys;"
        "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3],"
        "'jedi-language-server': m.version('jedi-language-server'), 'jedi': m.version('jedi'),"
        "'dify-plugin': m.version('dify-plugin')}))"
    )
    try:
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def ensure_jedi_venv(log=print) -> tuple[Path, dict[str, str]]:
    """A Python 3.12 venv with jedi-language-server and the SDK; built on first use."""
    venv = cache_dir() / "jedi-venv"
    python = venv / "bin" / "python"
    versions = _versions_in(python) if python.exists() else None
    if versions and versions.get("dify-plugin") == SDK_REQUIREMENT.split("==")[1]:
        return python, versions
    from dify_lsp.interpreters import find_python

    interp = find_python(minimum=(3, 12))
    if interp is None:
        raise PeerUnavailable("no Python >= 3.12 found (dify_lsp.interpreters.find_python)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    install_log = venv.parent / "jedi-install.log"
    log(f"building {venv} with {interp.path} ({'.'.join(map(str, interp.version))}); log: {install_log}")
    if venv.exists():
        shutil.rmtree(venv)
    _run([str(interp.path), "-m", "venv", str(venv)], install_log)
    _run([str(python), "-m", "pip", "install", "-q", JEDI_LS_REQUIREMENT, SDK_REQUIREMENT], install_log)
    versions = _versions_in(python)
    if not versions:
        raise PeerUnavailable(f"jedi venv at {venv} does not import its packages; see {install_log}")
    return python, versions


def ensure_yaml_ls(log=print) -> tuple[list[str], str]:
    """yaml-language-server installed with npm under the cache folder; returns (command, version)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise PeerUnavailable("node and npm are needed for yaml-language-server")
    prefix = cache_dir() / "yaml-ls"
    package = prefix / "node_modules" / YAML_LS_PACKAGE
    entry = package / "bin" / YAML_LS_PACKAGE
    if not entry.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        install_log = prefix.parent / "yaml-install.log"
        log(f"installing {YAML_LS_PACKAGE} into {prefix} with npm; log: {install_log}")
        _run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", YAML_LS_PACKAGE], install_log)
    try:
        version = json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        raise PeerUnavailable(f"{package} has no readable package.json")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    return [node, str(entry), "--stdio"], f"{version} (node {node_version})"


def dify_spec(python_for_plugins: Path | None, profile_dir: Path | None = None) -> ServerSpec:
    """dify-lsp with the benchmark's Python; under cProfile (a wrapper writing one .prof per process) when profiling."""
    from dify_lsp import __version__

    command = [sys.executable, "-m", "dify_lsp"]
    if profile_dir is not None:
        command = [sys.executable, str(HERE / "profiled_server.py"), str(profile_dir)]

    options: dict[str, Any] = {}
    if python_for_plugins is not None:
        options["python"] = str(python_for_plugins)
    return ServerSpec(
        name=DIFY,
        command=command,
        languages=(PYTHON, YAML),
        version=f"{__version__} (Python {'.'.join(map(str, sys.version_info[:3]))})",
        initialization_options=options,
        settings={"dify": options},
    )


def jedi_spec(python: Path, versions: dict[str, str]) -> ServerSpec:
    return ServerSpec(
        name=JEDI,
        command=[str(python.parent / "jedi-language-server")],
        languages=(PYTHON,),
        version=f"{versions['jedi-language-server']} (jedi {versions['jedi']}, Python {versions['python']}, dify-plugin {versions['dify-plugin']})",
        initialization_options={"diagnostics": {"enable": True, "didOpen": True, "didChange": True, "didSave": True}},
    )


def yaml_spec(command: list[str], version: str, schemas: dict[str, list[str]]) -> ServerSpec:
    settings = {
        "yaml": {
            "schemas": schemas,
            "validate": True,
            "hover": True,
            "completion": True,
            "format": {"enable": False},
            "schemaStore": {"enable": False},
        }
    }
    return ServerSpec(name=YAMLLS, command=command, languages=(YAML,), version=version, settings=settings)


def floor_spec() -> ServerSpec:
    import pygls

    try:
        from importlib.metadata import version as dist_version

        pygls_version = dist_version("pygls")
    except Exception:  # pragma: no cover
        pygls_version = getattr(pygls, "__version__", "?")
    return ServerSpec(
        name=FLOOR,
        command=[sys.executable, str(HERE / "floor_server.py")],
        languages=(PYTHON, YAML),
        version=f"pygls {pygls_version} (Python {'.'.join(map(str, sys.version_info[:3]))})",
    )

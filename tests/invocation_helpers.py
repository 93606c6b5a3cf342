"""Shared fixtures for the Run invocation tests: the shared SDK environment (built once with uv), copies of fixture
plugins, a real PNG, process checks."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from dify_lsp.interpreters import find_python
from dify_lsp.invocation.environments import EnvironmentBuildError as SdkEnvError, ensure_sdk_environment

FIXTURES = Path(__file__).parent / "fixtures" / "run_plugins"
EXAMPLE = Path(__file__).parent.parent / "examples" / "llm-tool"

KEY = "good-key-123"  # the only API key the uv_project fixture's _validate_credentials accepts

_python: Path | None = None


def sdk_python() -> Path:
    """The python of the shared dify-plugin==0.10.2 environment (built once with uv); skips without Python 3.12."""
    global _python
    if _python is not None:
        return _python
    if find_python() is None:
        pytest.skip("no Python >= 3.12 on this machine: real plugin runs need one (dify-plugin >= 0.8 requires it)")
    try:
        _python = ensure_sdk_environment()
    except SdkEnvError as exc:
        pytest.fail(f"could not create the SDK venv: {exc}")
    return _python


def plugin_copy(tmp_path: Path, name: str) -> Path:
    """A private copy of a fixture plugin (runs write .dify/ into the plugin folder)."""
    src = EXAMPLE if name == "llm-tool" else FIXTURES / name
    dst = tmp_path / name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".dify", "__pycache__", ".venv"))
    return dst


def zombie_children(pid: int | None = None) -> list[int]:
    """Children of ``pid`` (default: this process) that are zombies."""
    pid = pid or os.getpid()
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def red_png(width: int = 8, height: int = 8) -> bytes:
    """A real PNG (8-bit RGB, every pixel red)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

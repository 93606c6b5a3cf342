"""Run environments: built with uv from uv.lock / pyproject.toml / requirements.txt, cached, and the interpreter order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dify_lsp.invocation import environments
from dify_lsp.invocation.engine import resolve_python
from dify_lsp.invocation.environments import (
    EnvironmentBuildError,
    cached_environment,
    dependency_source,
    environment_dir,
    find_env_python,
)
from dify_lsp.invocation.parameters import InvocationError
from invocation_helpers import plugin_copy, sdk_python

pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIFY_LSP_PYTHON", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def dify_run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", "run", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or clean_env())


def test_dependency_source_follows_the_daemon(tmp_path):
    assert dependency_source(tmp_path).kind == "sdk"
    (tmp_path / "requirements.txt").write_text("dify_plugin==0.10.2\n")
    assert dependency_source(tmp_path).kind == "requirements.txt"
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\nversion='0'\ndependencies=[]\n")
    assert dependency_source(tmp_path).kind == "pyproject.toml"  # pyproject.toml wins over requirements.txt
    (tmp_path / "uv.lock").write_text("version = 1\n")
    source = dependency_source(tmp_path)
    assert source.kind == "uv.lock" and [p.name for p in source.files] == ["uv.lock", "pyproject.toml"]
    # the environment is keyed by the files' content: an edit moves it, an identical copy shares it
    before = environment_dir(tmp_path)
    (tmp_path / "uv.lock").write_text("version = 1\n# changed\n")
    assert environment_dir(tmp_path) != before
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert environment_dir(tmp_path) == before


def test_fresh_cache_builds_from_uv_lock_then_reuses_it(tmp_path):
    """A plugin that declares its dependencies only in pyproject.toml + uv.lock runs with no manual step."""
    plugin = plugin_copy(tmp_path, "uv_project")
    uv_cache = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    env = clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"), UV_CACHE_DIR=uv_cache)
    args = (str(plugin), "--tool", "sizes", "--param", "bytes=123456789", "--credential", "api_key=k-123456")
    first = dify_run(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "117.7 MiB"  # humanize, a dependency only uv.lock names
    steps = [line for line in first.stderr.splitlines() if line.startswith("[environment] [")]
    assert len(steps) == 3, first.stderr
    assert "dependencies from uv.lock" in steps[0] and "installed the dependencies from uv.lock" in steps[2]
    built = list((tmp_path / "cache" / "dify-lsp" / "envs").glob("uv-lock-*/bin/python"))
    assert len(built) == 1
    assert f"python: {built[0]} (run environment from uv.lock, just built)" in first.stderr
    assert not (plugin / ".venv").exists() and sorted(p.name for p in plugin.iterdir()) == sorted(
        p.name for p in plugin_copy(tmp_path / "again", "uv_project").iterdir())  # nothing written into the plugin

    second = dify_run(*args, env=env)
    assert second.returncode == 0, second.stderr
    assert "[environment]" not in second.stderr
    assert f"python: {built[0]} (run environment from uv.lock)" in second.stderr

    # keyed by what it is built from: another copy, in a folder named as PluginRunner names its unpacked package
    other = tmp_path / "elsewhere" / "plugin"
    shutil.copytree(plugin, other, ignore=shutil.ignore_patterns(".dify"))
    third = dify_run(str(other), *args[1:], env=env)
    assert third.returncode == 0, third.stderr
    assert "[environment]" not in third.stderr
    assert f"python: {built[0]} (run environment from uv.lock)" in third.stderr


def test_explicit_python_wins_and_a_missing_one_is_a_usage_error(tmp_path):
    plugin = plugin_copy(tmp_path, "uv_project")
    done = dify_run(str(plugin), "--tool", "sizes", "--param", "bytes=1", "--credential", "api_key=k",
                    "--python", str(tmp_path / "no-such-python"))
    assert done.returncode == 2
    assert f"--python {tmp_path / 'no-such-python'}: no such file" in done.stderr
    assert "[environment]" not in done.stderr  # never silently replaced by a built environment

    sdk = str(sdk_python())
    # the SDK venv has no humanize: the run uses it anyway, as asked, and fails in the plugin
    done = dify_run(str(plugin), "--tool", "sizes", "--param", "bytes=1", "--credential", "api_key=k", "--python", sdk)
    assert done.returncode == 1
    assert "No module named 'humanize'" in done.stderr
    assert f"python: {sdk} (--python)" in done.stderr


def test_order_setting_env_var_own_venv_then_built(tmp_path, monkeypatch):
    plugin = plugin_copy(tmp_path, "uv_project")
    sdk = sdk_python()
    monkeypatch.delenv("DIFY_LSP_PYTHON", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    calls: list[Path] = []
    monkeypatch.setattr("dify_lsp.invocation.engine.ensure_environment",
                        lambda root, step=None, rebuild=False, **kw: calls.append(root) or Path("/built/python"))
    assert resolve_python(plugin, None) == (Path("/built/python"), "run environment from uv.lock, just built")
    own = plugin / ".venv" / "bin"
    own.mkdir(parents=True)
    (own / "python").symlink_to(sdk)
    assert resolve_python(plugin, None) == (own / "python", "the plugin's .venv")
    monkeypatch.setenv("DIFY_LSP_PYTHON", str(sdk))
    assert resolve_python(plugin, None) == (sdk, "DIFY_LSP_PYTHON")
    assert resolve_python(plugin, str(sdk)) == (sdk, "python setting")
    assert resolve_python(plugin, str(sdk), explicit=str(sdk)) == (sdk, "--python")
    with pytest.raises(InvocationError, match="the python setting /nope: no such file"):
        resolve_python(plugin, "/nope")
    monkeypatch.setenv("DIFY_LSP_PYTHON", "/nope")
    with pytest.raises(InvocationError, match=r"\$DIFY_LSP_PYTHON /nope: no such file"):
        resolve_python(plugin, None)
    assert calls == [plugin]


def test_no_python_312_is_said_clearly_and_nothing_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(environments, "find_python", lambda **kw: None)
    real_env = environments._uv_env
    # uv sees no interpreter at all: an empty PATH and an empty managed-Python folder
    monkeypatch.setattr(environments, "_uv_env", lambda extra=None: {
        **real_env(extra), "PATH": str(tmp_path), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "managed"),
        "UV_PYTHON_PREFERENCE": "only-managed"})
    with pytest.raises(EnvironmentBuildError) as info:
        find_env_python()
    assert "no Python 3.12 was found" in str(info.value) and "UV_PYTHON_DOWNLOADS=never" in str(info.value)
    assert not (tmp_path / "managed").exists() or not any((tmp_path / "managed").iterdir())


def test_cached_environment_is_only_a_complete_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    plugin = plugin_copy(tmp_path, "uv_project")
    folder = environment_dir(plugin)
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(sys.executable)
    assert cached_environment(plugin) is None  # no marker: an interrupted build is rebuilt
    (folder / environments.MARKER).write_text("{}")
    assert cached_environment(plugin) == folder / "bin" / "python"


def test_requirements_txt_plugin_builds_with_uv_pip(tmp_path):
    """The daemon's other route: requirements.txt through `uv pip install -r` (the example plugin)."""
    plugin = plugin_copy(tmp_path, "llm-tool")
    assert dependency_source(plugin).kind == "requirements.txt"
    uv_cache = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    env = clean_env(UV_CACHE_DIR=uv_cache)
    done = dify_run(str(plugin), "--tool", "llm", "--param", "prompt=hi", env=env)
    assert done.returncode == 0, done.stderr
    assert "run environment from requirements.txt" in done.stderr, done.stderr

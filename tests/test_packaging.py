"""`python -m build` gives an sdist and a wheel (built from the sdist, so the sdist is complete) without
setuptools deprecation warnings, and the wheel installs into a fresh venv whose `dify-lsp` runs.

Offline: the build uses this venv's setuptools (a test dependency), and the fresh venv gets dify-lsp's
dependencies from this venv through a path entry, while dify_lsp itself comes only from the wheel."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import dify_lsp

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout + proc.stderr


def test_build_has_no_deprecation_warnings(dist):
    _, log = dist
    for word in ("Deprecat", "deprecat", "SetuptoolsWarning", "License classifiers"):
        assert word not in log, [line for line in log.splitlines() if word in line]


def test_sdist_and_wheel_carry_one_version_and_the_license(dist):
    out, _ = dist
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    version = dify_lsp.__version__
    assert sdist.name == f"dify_lsp-{version}.tar.gz" and wheel.name == f"dify_lsp-{version}-py3-none-any.whl"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(f"dify_lsp-{version}.dist-info/METADATA").decode()
    assert f"Version: {version}" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert f"dify_lsp-{version}.dist-info/licenses/LICENSE" in names
    assert "dify_lsp/py.typed" in names and "dify_lsp/report/sarif.py" in names
    # the compiled message catalogs (gettext reads the .mo files; the .po sources are not needed at run time)
    assert {"dify_lsp/locales/zh_Hans/LC_MESSAGES/dify_lsp.mo", "dify_lsp/locales/ja_JP/LC_MESSAGES/dify_lsp.mo"} <= set(names)
    assert not any(n.startswith(("tests/", "bench/", "examples/")) for n in names)
    with tarfile.open(sdist) as tf:
        members = tf.getnames()
    assert f"dify_lsp-{version}/LICENSE" in members and f"dify_lsp-{version}/README.md" in members


def test_wheel_installs_and_runs_in_a_fresh_venv(dist, tmp_path: Path):
    out, _ = dist
    (wheel,) = out.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # dify-lsp's dependencies (pygls, pydantic, ...) from this venv, after the fresh venv's own site-packages
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True).stdout.strip()
    Path(site, "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run([str(py), "-c", "import dify_lsp; print(dify_lsp.__file__)"], capture_output=True, text=True, cwd=tmp_path)
    assert where.stdout.startswith(str(env_dir)), where.stdout + where.stderr
    exe = env_dir / "bin" / "dify-lsp"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert version.stdout.strip() == f"dify-lsp {dify_lsp.__version__}"
    check = subprocess.run([str(exe), "check", str(REPO / "examples" / "llm-tool"), "--format", "sarif"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert check.returncode == 0, check.stderr
    assert '"ruleId": "DL207"' in check.stdout
    zh = subprocess.run([str(exe), "check", str(REPO / "examples" / "llm-tool"), "--lang", "zh_Hans"],
                        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, timeout=120)
    assert "DL207 工具参数 'query'" in zh.stdout, zh.stdout + zh.stderr
    schemas = subprocess.run([str(exe), "schema", "--out", str(tmp_path / "schemas")], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert schemas.returncode == 0 and (tmp_path / "schemas" / "tool.schema.json").is_file()

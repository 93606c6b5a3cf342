"""Bundles the dify-lsp server and its Python packages into bundled/libs for the .vsix.

As Microsoft's Python tools extension template does: `pip install --target bundled/libs` of the server
(from this repository) and its dependencies, so that installing the .vsix is the whole setup; the
extension starts bundled/tool/server.py with the user's Python (3.11 or newer).

The one compiled dependency is pydantic-core. Its extension module is named per CPython version
(`_pydantic_core.cpython-312-x86_64-linux-gnu.so`), so the modules for CPython 3.11 to 3.14 of this
platform are added beside the one pip installed: the bundle then runs on any of them. (PyYAML's C
accelerator is optional: PyYAML falls back to pure Python on other versions.)

Usage: python3 scripts/bundle_python.py      (run from vscode-client/; needs Python >= 3.11 with pip and
PyPI, or a pip configured with an index or --find-links that has the packages)
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent
REPO = CLIENT.parent
LIBS = CLIENT / "bundled" / "libs"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def manylinux_platforms() -> list[str]:
    plat = sysconfig.get_platform()  # linux-x86_64, linux-aarch64, macosx-..., win-amd64
    if plat.startswith("linux-"):
        arch = plat.split("-", 1)[1]
        return [f"manylinux_2_17_{arch}", f"manylinux2014_{arch}"]
    return []


def add_pydantic_core_builds() -> None:
    dist = next(iter(glob.glob(str(LIBS / "pydantic_core-*.dist-info"))), None)
    platforms = manylinux_platforms()
    if dist is None or not platforms:
        print("bundle: pydantic-core only for this Python (no other CPython builds added on this platform)")
        return
    version = Path(dist).name.removeprefix("pydantic_core-").removesuffix(".dist-info")
    target = LIBS / "pydantic_core"
    with tempfile.TemporaryDirectory() as tmp:
        for py in PYTHONS:
            if f"{sys.version_info[0]}.{sys.version_info[1]}" == py:
                continue
            dest = Path(tmp) / py
            args = ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
                    "--python-version", py, "--dest", str(dest), f"pydantic-core=={version}"]
            for plat in platforms:
                args += ["--platform", plat]
            try:
                pip(*args)
            except subprocess.CalledProcessError:
                print(f"bundle: no pydantic-core {version} wheel for CPython {py}; the bundle will not run on it")
                continue
            for wheel in dest.glob("*.whl"):
                with zipfile.ZipFile(wheel) as zf:
                    for name in zf.namelist():
                        if name.startswith("pydantic_core/_pydantic_core.") and name.endswith(".so"):
                            (target / Path(name).name).write_bytes(zf.read(name))
                            print(f"bundle: added {Path(name).name}")


def main() -> int:
    if sys.version_info < (3, 11):
        print(f"bundle: needs Python 3.11 or newer (dify-lsp does); this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    shutil.rmtree(LIBS, ignore_errors=True)
    LIBS.mkdir(parents=True)
    pip("install", "--quiet", "--no-compile", "--target", str(LIBS), str(REPO))
    # Console scripts point at the interpreter that built the bundle and are never used; binaries a
    # package runs from there (uv's) stay.
    for script in (LIBS / "bin").glob("*") if (LIBS / "bin").is_dir() else []:
        if script.is_file() and script.read_bytes()[:2] == b"#!":
            script.unlink()
    for cache in LIBS.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    add_pydantic_core_builds()
    size = sum(f.stat().st_size for f in LIBS.rglob("*") if f.is_file())
    print(f"bundle: {LIBS.relative_to(CLIENT)} holds {len(os.listdir(LIBS))} entries, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Builds the extension's packages: one .vsix per VS Code platform target, and a universal one.

A platform package carries the dify-lsp server with every Python package it needs in bundled/libs: the
pure-Python ones once, and the compiled ones (pydantic-core, PyYAML's accelerator) for CPython 3.11 to 3.14
of that platform, plus that platform's `uv` binary (Run invocation builds plugin environments with it).
They are installed from that platform's wheels on PyPI (uv's `--python-platform`/`--python-version`,
binary wheels only), so any machine builds every target.

The universal package carries no compiled code: bundled/wheels holds the dify-lsp wheel and the versions
the platform packages were built with (constraints.txt); on first start the extension installs them into a
private environment with the user's Python 3.11+ (src/bootstrap.ts).

Usage (from vscode-client/, after `npm ci`; `npm run package` runs it):
    python3 scripts/package.py                      all six packages into vsix/
    python3 scripts/package.py --target linux-x64   one (repeatable; `universal` for the universal one)
    python3 scripts/package.py --bundle-only --target darwin-arm64   fill bundled/ only, no .vsix
Needs Python 3.11+ with uv (`python -m uv`, a dependency of dify-lsp, or uv on PATH), and PyPI (or the index
uv is configured with).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent
REPO = CLIENT.parent
BUNDLED = CLIENT / "bundled"
LIBS = BUNDLED / "libs"
WHEELS = BUNDLED / "wheels"
OUT = CLIENT / "vsix"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
UNIVERSAL = "universal"


@dataclass(frozen=True)
class Target:
    """A VS Code platform target and the wheels that fit it."""

    name: str  # vsce --target
    uv_platform: str  # uv pip --python-platform
    binary_format: str  # what its compiled files are: ELF, Mach-O or PE
    machine: str  # their CPU: x86-64 or arm64
    extension_suffix: str  # regex: a CPython extension module's file name suffix there


TARGETS = {
    t.name: t
    for t in (
        Target("linux-x64", "x86_64-manylinux_2_17", "ELF", "x86-64", r"\.cpython-3\d+-x86_64-linux-gnu\.so$"),
        Target("linux-arm64", "aarch64-manylinux_2_17", "ELF", "arm64", r"\.cpython-3\d+-aarch64-linux-gnu\.so$"),
        Target("darwin-x64", "x86_64-apple-darwin", "Mach-O", "x86-64", r"\.cpython-3\d+-darwin\.so$"),
        Target("darwin-arm64", "aarch64-apple-darwin", "Mach-O", "arm64", r"\.cpython-3\d+-darwin\.so$"),
        Target("win32-x64", "x86_64-pc-windows-msvc", "PE", "x86-64", r"\.cp3\d+-win_amd64\.pyd$"),
    )
}
ALL = (UNIVERSAL, *TARGETS)
EXTENSION_MODULE = re.compile(r"\.(so|pyd)$")
CPYTHON_TAG = re.compile(r"^cp3\d+-cp3\d+-")


def log(msg: str) -> None:
    print(f"package: {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def uv_command() -> list[str]:
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    if found:
        return [found]
    raise SystemExit("package: needs uv: `python3 -m pip install uv` (or install dify-lsp, which depends on it)")


def vsce_command() -> list[str]:
    local = CLIENT / "node_modules" / ".bin" / ("vsce.cmd" if os.name == "nt" else "vsce")
    if local.exists():
        return [str(local)]
    found = shutil.which("vsce")
    if found:
        return [found]
    raise SystemExit("package: needs vsce: run `npm ci` in vscode-client first")


def server_wheel(work: Path) -> Path:
    """The dify-lsp wheel built from this repository (pure Python)."""
    out = work / "server-wheel"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)])
    (wheel,) = out.glob("dify_lsp-*.whl")
    return wheel


def dists(folder: Path) -> dict[str, tuple[str, Path]]:
    """Installed distributions in a --target folder: normalized name -> (version, dist-info folder)."""
    out = {}
    for info in folder.glob("*.dist-info"):
        fields = dict(
            line.split(": ", 1) for line in (info / "METADATA").read_text(encoding="utf-8").splitlines()[:20] if ": " in line
        )
        out[re.sub(r"[-_.]+", "-", fields["Name"]).lower()] = (fields["Version"], info)
    return out


def wheel_tags(info: Path) -> list[str]:
    return [line.split(": ", 1)[1] for line in (info / "WHEEL").read_text(encoding="utf-8").splitlines() if line.startswith("Tag: ")]


def record_files(info: Path) -> list[str]:
    return [line.split(",", 1)[0] for line in (info / "RECORD").read_text(encoding="utf-8").splitlines() if line]


def uv_install(uv: list[str], target: Target, python: str, dest: Path, requirements: list[str], *extra: str) -> None:
    run(
        [
            *uv, "pip", "install", "--quiet", "--target", str(dest),
            "--python-version", python, "--python-platform", target.uv_platform,
            "--only-binary", ":all:", "--no-compile", *extra, *requirements,
        ]
    )  # fmt: skip


def bundle_platform(uv: list[str], target: Target, wheel: Path, work: Path) -> dict:
    """Fills bundled/libs for one platform target; returns what went in (for bundled/libs/BUNDLE.json)."""
    shutil.rmtree(LIBS, ignore_errors=True)
    shutil.rmtree(WHEELS, ignore_errors=True)
    base = PYTHONS[0]
    uv_install(uv, target, base, LIBS, [str(wheel)])
    installed = dists(LIBS)
    pins = work / f"pins-{target.name}.txt"
    pins.write_text("".join(f"{name}=={version}\n" for name, (version, _) in sorted(installed.items())), encoding="utf-8")
    per_python = {base: sorted(f.name for f in LIBS.rglob("*") if EXTENSION_MODULE.search(f.name))}
    # The other CPython versions: the same versions of everything (constraints), and from each the parts
    # that differ: compiled modules named for that version, and any package only that version needs.
    for python in PYTHONS[1:]:
        dest = work / f"{target.name}-{python}"
        shutil.rmtree(dest, ignore_errors=True)
        uv_install(uv, target, python, dest, [str(wheel)], "--constraint", str(pins))
        added = []
        for name, (version, info) in dists(dest).items():
            if name not in installed:
                files = record_files(info) + [f"{info.name}/{f}" for f in ("METADATA", "WHEEL", "RECORD")]
            elif any(CPYTHON_TAG.match(tag) for tag in wheel_tags(info)):
                files = [f for f in record_files(info) if EXTENSION_MODULE.search(f)]
            else:
                continue
            for rel in files:
                src, dst = dest / rel, LIBS / rel
                if src.is_file() and not dst.exists() and not rel.startswith(("bin/", "../")):
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
                    if EXTENSION_MODULE.search(rel):
                        added.append(Path(rel).name)
        per_python[python] = sorted(added)
        shutil.rmtree(dest, ignore_errors=True)
    # Console scripts point at an interpreter of the build machine and are never used: only uv's binary stays
    # (uv.find_uv_bin() looks for it in bin/ beside the uv package).
    for entry in (LIBS / "bin").iterdir():
        if entry.name not in ("uv", "uv.exe"):
            entry.unlink()
    for cache in list(LIBS.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "target": target.name,
        "python_platform": target.uv_platform,
        "binary_format": target.binary_format,
        "machine": target.machine,
        "pythons": list(PYTHONS),
        "distributions": {name: version for name, (version, _) in sorted(dists(LIBS).items())},
        "extension_modules": per_python,
    }


def bundle_universal(uv: list[str], wheel: Path, work: Path) -> dict:
    """Fills bundled/wheels: the dify-lsp wheel and the versions to install beside it (no compiled code)."""
    shutil.rmtree(LIBS, ignore_errors=True)
    shutil.rmtree(WHEELS, ignore_errors=True)
    WHEELS.mkdir(parents=True)
    shutil.copy2(wheel, WHEELS / wheel.name)
    # The versions the platform packages carry (resolved for Linux x86-64 and CPython 3.11; none of the
    # dependencies pins by platform), so that every package runs the same code.
    probe = work / "universal-probe"
    shutil.rmtree(probe, ignore_errors=True)
    uv_install(uv, TARGETS["linux-x64"], PYTHONS[0], probe, [str(wheel)])
    pins = {name: version for name, (version, _) in sorted(dists(probe).items()) if name != "dify-lsp"}
    shutil.rmtree(probe, ignore_errors=True)
    (WHEELS / "constraints.txt").write_text(
        "# The versions the platform packages of this release carry; the extension installs dify-lsp with them.\n"
        + "".join(f"{name}=={version}\n" for name, version in pins.items()),
        encoding="utf-8",
    )
    return {"target": UNIVERSAL, "wheel": wheel.name, "constraints": pins}


def package(target: str) -> Path:
    OUT.mkdir(exist_ok=True)
    out = OUT / f"dify-lsp-{target}.vsix"
    out.unlink(missing_ok=True)
    cmd = [
        *vsce_command(), "package", "--no-dependencies", "--allow-missing-repository", "--skip-license",
        "--no-rewrite-relative-links", "--allow-package-all-secrets", "--out", str(out),
    ]  # fmt: skip
    if target != UNIVERSAL:
        cmd += ["--target", target]
    run(cmd, cwd=CLIENT, stdout=subprocess.DEVNULL)
    return out


# What a package is made of: a change to any of these makes it stale (for --if-stale).
SOURCES = (
    REPO / "dify_lsp", REPO / "pyproject.toml", CLIENT / "src", CLIENT / "bundled" / "tool", CLIENT / "package.json",
    CLIENT / "package-lock.json", CLIENT / "README.md", CLIENT / ".vscodeignore", CLIENT / "esbuild.mjs", Path(__file__),
)  # fmt: skip


def up_to_date(package_file: Path) -> bool:
    if not package_file.exists():
        return False
    built = package_file.stat().st_mtime
    for source in SOURCES:
        files = source.rglob("*") if source.is_dir() else [source]
        if any(f.stat().st_mtime > built for f in files if f.is_file() and "__pycache__" not in f.parts):
            return False
    return True


def host_target() -> str | None:
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    return f"{system}-{machine}" if machine and system else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=ALL, help="a target to build (default: all six)")
    parser.add_argument("--if-stale", action="store_true", help="build only when a package is missing or older than its sources")
    parser.add_argument("--bundle-only", action="store_true", help="fill bundled/ for the (one) target, no .vsix")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):
        print(f"package: needs Python 3.11 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    # The host's package last: its bundle then stays in bundled/ for a debug session of the extension.
    targets = sorted(args.target or ALL, key=lambda name: name == host_target())
    if args.bundle_only and len(targets) != 1:
        parser.error("--bundle-only fills bundled/ for one --target")
    if args.if_stale and not args.bundle_only:
        fresh = [name for name in targets if up_to_date(OUT / f"dify-lsp-{name}.vsix")]
        if fresh:
            log(f"up to date in {OUT.relative_to(CLIENT)}, kept: {', '.join(fresh)}")
        targets = [name for name in targets if name not in fresh]
        if not targets:
            return 0
    uv = uv_command()
    sizes = []
    with tempfile.TemporaryDirectory(prefix="dify-vsix-") as tmp:
        work = Path(tmp)
        wheel = server_wheel(work)
        for name in targets:
            started = time.monotonic()
            log(f"{name}: bundling the server's Python packages")
            manifest = bundle_universal(uv, wheel, work) if name == UNIVERSAL else bundle_platform(uv, TARGETS[name], wheel, work)
            folder = WHEELS if name == UNIVERSAL else LIBS
            (folder / "BUNDLE.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            if args.bundle_only:
                log(f"{name}: {folder.relative_to(CLIENT)} filled")
                return 0
            out = package(name)
            sizes.append((name, out, time.monotonic() - started))
            log(f"{name}: {out.relative_to(CLIENT)} {out.stat().st_size / 1e6:.1f} MB ({time.monotonic() - started:.0f} s)")
    log("packages:")
    for name, out, _ in sizes:
        log(f"  {out.name:32} {out.stat().st_size / 1e6:6.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The six VS Code packages `npm run package` builds, opened and inspected one by one.

Each platform package must carry, for its own OS and CPU only, the compiled modules of CPython 3.11 to 3.14
(named as that platform's CPython imports them) and uv's binary; the universal package no compiled file at
all. What a file is gets decided by its first bytes (ELF, Mach-O or PE header and CPU field), not by its name.
The Linux x86-64 package is also run here, with every CPython 3.11+ this machine has; the others can only be
inspected on this machine (the CI workflow runs the test suite on macOS and Windows runners too).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import dify_lsp
from dify_lsp.interpreters import find_python

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "vscode-client"
PACKAGES = CLIENT / "vsix"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
LIBS = "extension/bundled/libs/"

# target -> (binary format, CPU, the file name suffix CPython X.Y imports an extension module by, a wheel
# platform tag pattern)
PLATFORMS = {
    # (uv's Linux wheels are tagged musllinux too: its binary is static and runs on glibc and musl alike)
    "linux-x64": ("ELF", "x86-64", ".cpython-{v}-x86_64-linux-gnu.so", r"(many|musl)linux\w*_x86_64"),
    "linux-arm64": ("ELF", "arm64", ".cpython-{v}-aarch64-linux-gnu.so", r"(many|musl)linux\w*_aarch64"),
    "darwin-x64": ("Mach-O", "x86-64", ".cpython-{v}-darwin.so", r"macosx_\d+_\d+_(x86_64|universal2)"),
    "darwin-arm64": ("Mach-O", "arm64", ".cpython-{v}-darwin.so", r"macosx_\d+_\d+_(arm64|universal2)"),
    "win32-x64": ("PE", "x86-64", ".cp{v}-win_amd64.pyd", r"win_amd64"),
}
TARGETS = (*PLATFORMS, "universal")
# Packages with compiled parts: each must have a module for every CPython version.
COMPILED = {"pydantic_core": "_pydantic_core", "yaml": "_yaml"}
PURE_TOP_LEVEL = ("dify_lsp", "pygls", "lsprotocol", "pydantic", "jedi", "parso", "httpx", "anyio", "uv", "packaging", "cattrs")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def binary_kind(head: bytes) -> tuple[str, str | set[str]] | None:
    """(format, CPU) of an executable or library from its first bytes; None for anything else."""
    if head[:4] == b"\x7fELF":
        endian = "<" if head[5] == 1 else ">"
        (machine,) = struct.unpack(endian + "H", head[18:20])
        return "ELF", {62: "x86-64", 183: "arm64", 3: "x86", 40: "arm"}.get(machine, f"machine {machine}")
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        (cpu,) = struct.unpack("<I", head[4:8])
        return "Mach-O", {0x01000007: "x86-64", 0x0100000C: "arm64"}.get(cpu, f"cpu {cpu:#x}")
    if head[:4] == b"\xca\xfe\xba\xbe":  # a fat (universal) Mach-O: big-endian list of its architectures
        (count,) = struct.unpack(">I", head[4:8])
        if count > 30:
            return None  # a Java class file has the same magic
        cpus = {struct.unpack(">I", head[8 + 20 * i : 12 + 20 * i])[0] for i in range(count)}
        return "Mach-O", {{0x01000007: "x86-64", 0x0100000C: "arm64"}.get(c, f"cpu {c:#x}") for c in cpus}
    if head[:2] == b"MZ" and len(head) >= 0x40:
        (pe_offset,) = struct.unpack("<I", head[0x3C:0x40])
        if head[pe_offset : pe_offset + 4] == b"PE\0\0":
            (machine,) = struct.unpack("<H", head[pe_offset + 4 : pe_offset + 6])
            return "PE", {0x8664: "x86-64", 0xAA64: "arm64", 0x14C: "x86"}.get(machine, f"machine {machine:#x}")
        return "PE", "unknown"
    return None


def test_binary_kind_reads_each_header():
    elf = b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 183) + bytes(40)
    macho = b"\xcf\xfa\xed\xfe" + struct.pack("<I", 0x01000007) + bytes(40)
    fat = b"\xca\xfe\xba\xbe" + struct.pack(">I", 2) + struct.pack(">I", 0x01000007) + bytes(16) + struct.pack(">I", 0x0100000C) + bytes(16)
    pe = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80) + bytes(0x40) + b"PE\0\0" + struct.pack("<H", 0x8664) + bytes(20)
    assert binary_kind(elf) == ("ELF", "arm64")
    assert binary_kind(macho) == ("Mach-O", "x86-64")
    assert binary_kind(fat) == ("Mach-O", {"x86-64", "arm64"})
    assert binary_kind(pe) == ("PE", "x86-64")
    assert binary_kind(b"#!/usr/bin/env python\n") is None
    assert binary_kind(b"\xca\xfe\xba\xbe\x00\x00\x00\x34") is None  # a Java class file


@pytest.fixture(scope="module")
def packages() -> dict[str, Path]:
    """The six .vsix files, built by `npm run package` (only when missing or older than their sources)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to build the .vsix packages (Node 20+)")
    env = {**os.environ, "PYTHON": sys.executable}
    if not (CLIENT / "node_modules" / ".bin").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT, check=True, env=env, timeout=900)
    if os.name == "nt":  # cmd.exe cannot expand the npm script's ${PYTHON:-python3}
        cmd = [sys.executable, "scripts/package.py", "--if-stale"]
    else:
        cmd = [npm, "run", "package", "--", "--if-stale"]
    done = subprocess.run(cmd, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=2000)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = {target: PACKAGES / f"dify-lsp-{target}.vsix" for target in TARGETS}
    missing = [str(p) for p in found.values() if not p.is_file()]
    assert not missing, f"npm run package did not write {missing}"
    sizes = ", ".join(f"{t} {p.stat().st_size / 1e6:.1f} MB" for t, p in found.items())
    print(f"\npackages: {sizes}")
    return found


def members(vsix: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(vsix) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}


@pytest.fixture(scope="module")
def contents(packages) -> dict[str, dict[str, bytes]]:
    return {target: members(vsix) for target, vsix in packages.items()}


@pytest.mark.parametrize("target", TARGETS)
def test_manifest_names_the_target_and_the_server_version(contents, target):
    files = contents[target]
    package_json = json.loads(files["extension/package.json"])
    assert package_json["version"] == dify_lsp.__version__
    manifest = files["extension.vsixmanifest"].decode()
    declared = re.search(r'TargetPlatform="([^"]+)"', manifest)
    if target == "universal":
        assert declared is None, "the universal package must not declare a platform"
    else:
        assert declared and declared.group(1) == target


@pytest.mark.parametrize("target", PLATFORMS)
def test_every_binary_is_for_the_target_platform(contents, target):
    fmt, cpu, _, _ = PLATFORMS[target]
    binaries = {name: binary_kind(data[:4096]) for name, data in contents[target].items()}
    binaries = {name: kind for name, kind in binaries.items() if kind is not None}
    assert len(binaries) >= 9, f"expected uv and 2 compiled modules x 4 Pythons, found {sorted(binaries)}"
    wrong = {}
    for name, (found_fmt, found_cpu) in binaries.items():
        cpu_ok = cpu in found_cpu if isinstance(found_cpu, set) else found_cpu == cpu
        if found_fmt != fmt or not cpu_ok:
            wrong[name] = (found_fmt, found_cpu)
    assert not wrong, f"binaries not for {fmt} {cpu} in the {target} package: {wrong}"


@pytest.mark.parametrize("target", PLATFORMS)
def test_compiled_modules_for_every_cpython_under_their_import_names(contents, target):
    _, _, suffix, _ = PLATFORMS[target]
    names = set(contents[target])
    for package, module in COMPILED.items():
        for version in PYTHONS:
            expected = f"{LIBS}{package}/{module}{suffix.format(v=version.replace('.', ''))}"
            assert expected in names, f"{target}: no {module} for CPython {version} ({expected})"
    stray = [n for n in names if n.startswith(LIBS) and re.search(r"\.(so|pyd|dylib|dll)$", n) and not any(
        n.endswith(suffix.format(v=v.replace(".", ""))) for v in PYTHONS
    )]  # fmt: skip
    assert not stray, f"{target}: compiled files no CPython 3.11-3.14 of this platform imports: {stray}"


@pytest.mark.parametrize("target", PLATFORMS)
def test_uv_binary_and_pure_packages_are_there(contents, target):
    fmt, _, _, _ = PLATFORMS[target]
    files = contents[target]
    uv = f"{LIBS}bin/uv.exe" if fmt == "PE" else f"{LIBS}bin/uv"
    assert uv in files, f"{target}: no uv binary at {uv}"
    assert binary_kind(files[uv][:4096])[0] == fmt
    scripts = [n for n in files if n.startswith(f"{LIBS}bin/") and n != uv]
    assert not scripts, f"{target}: console scripts of the build machine left in bin/: {scripts}"
    for top in PURE_TOP_LEVEL:
        assert f"{LIBS}{top}/__init__.py" in files, f"{target}: {top} is missing"
    assert "extension/bundled/tool/server.py" in files
    assert not any(n.startswith("extension/bundled/wheels/") for n in files), "a platform package installs nothing"


@pytest.mark.parametrize("target", PLATFORMS)
def test_wheel_tags_of_compiled_distributions_fit_the_target(contents, target):
    _, _, _, tag_pattern = PLATFORMS[target]
    files = contents[target]
    wheel_files = {n: files[n].decode() for n in files if n.startswith(LIBS) and n.endswith(".dist-info/WHEEL")}
    platform_tags = {}
    for name, text in wheel_files.items():
        tags = re.findall(r"^Tag: (\S+)$", text, re.M)
        specific = [t for t in tags if not t.endswith("-any")]
        if specific:
            platform_tags[name.split("/")[-2]] = specific
    dists = {n.split("-")[0].lower() for n in platform_tags}
    assert {"pydantic_core", "pyyaml", "uv"} <= dists, platform_tags
    for dist, tags in platform_tags.items():
        assert all(re.fullmatch(tag_pattern, t.split("-")[-1]) for t in tags), f"{target}: {dist} has tags {tags}"
    bundle = json.loads(files[f"{LIBS}BUNDLE.json"])
    assert bundle["target"] == target and bundle["pythons"] == list(PYTHONS)
    assert bundle["distributions"]["dify-lsp"] == dify_lsp.__version__


def test_universal_package_has_no_compiled_code(contents):
    files = contents["universal"]
    binaries = {n: binary_kind(d[:4096]) for n, d in files.items() if binary_kind(d[:4096])}
    assert not binaries, f"the universal package carries compiled files: {binaries}"
    assert not any(n.startswith(LIBS) for n in files)
    wheel = f"extension/bundled/wheels/dify_lsp-{dify_lsp.__version__}-py3-none-any.whl"
    assert wheel in files
    import io

    with zipfile.ZipFile(io.BytesIO(files[wheel])) as zf:
        assert "dify_lsp/server.py" in zf.namelist()
        assert not [n for n in zf.namelist() if re.search(r"\.(so|pyd)$", n)]
    pins = dict(
        line.split("==") for line in files["extension/bundled/wheels/constraints.txt"].decode().splitlines() if "==" in line
    )
    platform_bundle = json.loads(contents["linux-x64"][f"{LIBS}BUNDLE.json"])
    expected = {k: v for k, v in platform_bundle["distributions"].items() if k != "dify-lsp"}
    assert pins == expected, "the universal package installs other versions than the platform packages carry"


def cpythons_here() -> dict[str, str]:
    """CPython 3.11+ interpreters on this machine (PATH, pyenv and uv installs), by version."""
    found = {}
    for version in PYTHONS:
        interpreter = find_python(minimum=tuple(int(n) for n in version.split(".")), exact=True)
        if interpreter is not None:
            found[version] = str(interpreter.path)
    return found


def host_target() -> str | None:
    import platform

    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    return f"{system}-{machine}" if machine and system else None


def test_host_package_runs_on_every_cpython_here(packages, tmp_path):
    """The package for this machine, unpacked: its server starts and its compiled modules load, on each CPython
    3.11+ found here (the other versions are covered by the module-name test above)."""
    target = host_target()
    assert target in packages, f"no package for this machine ({target})"
    with zipfile.ZipFile(packages[target]) as zf:
        zf.extractall(tmp_path)
    server = tmp_path / "extension" / "bundled" / "tool" / "server.py"
    libs = tmp_path / "extension" / "bundled" / "libs"
    if os.name != "nt":
        (libs / "bin" / "uv").chmod(0o755)  # the VS Code installer keeps the mode; zipfile does not
    pythons = cpythons_here() or {f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable}
    print(f"\n{target} package run with CPython {', '.join(pythons)}")
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import pydantic_core._pydantic_core as c, yaml, uv;"
        "assert c.__file__.startswith(sys.argv[1]), c.__file__; assert yaml.__with_libyaml__;"
        "import subprocess; print(subprocess.run([uv.find_uv_bin(), '--version'], capture_output=True, text=True, check=True).stdout)"
    )
    for version, exe in pythons.items():
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        done = subprocess.run([exe, server, "--version"], capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0 and dify_lsp.__version__ in done.stdout + done.stderr, (version, done.stdout, done.stderr)
        done = subprocess.run([exe, "-I", "-c", probe, str(libs)], capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0 and done.stdout.startswith("uv "), (version, done.stdout, done.stderr)

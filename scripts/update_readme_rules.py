"""Rewrite the rule table in README.md from the rule registry."""

import re
from pathlib import Path

from dify_lsp.rules.registry import rules_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
text = README.read_text(encoding="utf-8")
new = re.sub(
    r"<!-- rules:start -->.*?<!-- rules:end -->",
    lambda _: f"<!-- rules:start -->\n{rules_markdown()}\n<!-- rules:end -->",
    text,
    flags=re.S,
)
README.write_text(new, encoding="utf-8")

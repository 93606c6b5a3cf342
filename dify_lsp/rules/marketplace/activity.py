"""Prohibited activities: Marketplace guidelines forbid plugins that move money or assets.  The review
searches the package's prose and code for payment, trading and transfer words and hands every hit to a
reviewer; so does this, one finding per line."""

from __future__ import annotations

import re
from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import N_, Message, msg
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import MAX_SCAN_BYTES, PackageView
from dify_lsp.textpos import Span

FINANCIAL = define_rule("DL655", "marketplace-financial-activity", "Text about payments, trading or asset and token transfers: Marketplace guidelines prohibit financial transactions, and the review asks for a strong manual review.", Severity.WARNING, FAMILY)

SUFFIXES = (".md", ".yaml", ".yml", ".json", ".toml", ".py", ".js", ".ts")
NAMES = frozenset({"README", "manifest.yaml", "manifest.yml"})
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".tox", ".nox", "node_modules"})
MAX_FINDINGS = 100
CATEGORIES = (
    (N_("payment processing"), (r"\bpayment\s+processing\b", r"\bprocess(?:ing)?\s+payments?\b", r"\bpayments?\b", r"\bcheckout\b",
                                r"\bcharge(?:s|d)?\b", r"\brefund(?:s|ed)?\b", r"\bpayout(?:s)?\b")),
    (N_("financial transactions"), (r"\bfinancial\s+transactions?\b", r"\btransactions?\b", r"\btrading\b", r"\btrade\s+(?:stock|crypto|token|asset)s?\b",
                                    r"\bplace\s+(?:an?\s+)?orders?\b", r"\bbuy\s+(?:stock|crypto|token|asset)s?\b", r"\bsell\s+(?:stock|crypto|token|asset)s?\b")),
    (N_("asset transfer"), (r"\basset\s+transfers?\b", r"\btransfer\s+(?:funds?|assets?|money|cash)\b", r"\bsend\s+(?:funds?|money|cash)\b",
                            r"\bwire\s+transfer\b", r"\bwithdraw(?:al|s)?\b", r"\bdeposit(?:s)?\b")),
    (N_("token transfer"), (r"\btoken\s+transfers?\b", r"\btransfer\s+(?:crypto|tokens?|coins?|nft)s?\b", r"\bsend\s+(?:crypto|tokens?|coins?|nft)s?\b",
                            r"\bswap\s+(?:crypto|tokens?|coins?)\b", r"\bbridge\s+(?:crypto|tokens?|coins?)\b", r"\bwallet\s+transfer\b")),
)
# Every pattern starts with one of these words (lower-cased): a line with none of them cannot match.
STEMS = ("payment", "process", "checkout", "charge", "refund", "payout", "financial", "transaction", "trading", "trade",
         "place", "buy", "sell", "asset", "transfer", "send", "wire", "withdraw", "deposit", "token", "swap", "bridge", "wallet")
# One alternation per category (a line reports its first category only, as the review does).
PATTERNS = tuple((name, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)) for name, patterns in CATEGORIES)
ANY = re.compile("|".join(p.pattern for _, p in PATTERNS), re.IGNORECASE)


@package_check(FINANCIAL)
def financial_activity(package: PackageView) -> Iterator[Finding]:
    count = 0
    for member in package.members:
        if any(p in SKIPPED_DIRS for p in member.parts[:-1]) or member.size > MAX_SCAN_BYTES:
            continue
        if member.filename not in NAMES and not member.filename.lower().endswith(SUFFIXES):
            continue
        text = package.text(member.name)
        if not text:
            continue
        lowered = text.lower()
        starts: set[int] = set()
        for stem in STEMS:
            at = lowered.find(stem)
            while at >= 0:
                starts.add(lowered.rfind("\n", 0, at) + 1)
                end = lowered.find("\n", at)
                if end < 0:
                    break
                at = lowered.find(stem, end + 1)
        if not starts:
            continue
        path = package.path(member.name)
        lines = text.split("\n")
        line_no, last = 0, 0
        for start in sorted(starts):  # offsets in the lower-cased text: its line ends are the text's
            line_no += lowered.count("\n", last, start)
            last = start
            line = lines[line_no]
            if not ANY.search(line):
                continue
            for category, pattern in PATTERNS:
                match = pattern.search(line)
                if match:
                    if count >= MAX_FINDINGS:
                        return
                    count += 1
                    yield FINANCIAL.at(path, Span.at(line_no, match.start(), line_no, match.end()), msg(
                        "'{words}' reads as {category}: Marketplace guidelines prohibit financial transactions, so the review asks for a strong manual review; say plainly what the plugin does if it moves no money",
                        words=match.group(0), category=Message(category)))
                    break


RULES = (FINANCIAL,)

"""Credentials packed into the package: vendor-shaped tokens, private keys, JWTs and secret literals.

Findings name the kind of secret and where it is, never the value (not even part of it): check output
ends up in CI logs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import PurePosixPath
from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import N_, Message, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import MAX_SCAN_BYTES, PackageView
from dify_lsp.textpos import Span

SECRET = define_rule("DL610", "package-secret", "A provider API key, cloud key, token, JWT or private key is in a package file: the review blocks the package.", Severity.ERROR, FAMILY)
SECRET_ASSIGNMENT = define_rule("DL611", "package-secret-assignment", "A secret-named key is assigned a literal with the shape and entropy of a credential: the review blocks the package.", Severity.ERROR, FAMILY)
POSSIBLE_SECRET = define_rule("DL612", "package-possible-secret", "A secret-named key is assigned a literal: the review asks a reviewer whether it is a credential.", Severity.WARNING, FAMILY)
NOT_SCANNED = define_rule("DL613", "package-file-not-scanned", "A package file over 1 MiB: the review's secret scan skips it and says so.", Severity.WARNING, FAMILY)

# Folders the review's secret scan does not enter.
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules"})
BINARY_SUFFIXES = frozenset({
    ".7z", ".avif", ".bmp", ".bz2", ".dylib", ".eot", ".exe", ".gif", ".gz", ".ico", ".jpeg", ".jpg", ".mov", ".mp3",
    ".mp4", ".otf", ".pdf", ".png", ".rar", ".so", ".tar", ".tgz", ".ttf", ".webm", ".webp", ".woff", ".woff2", ".xz", ".zip",
})
CODE_SUFFIXES = frozenset({
    ".c", ".cc", ".cpp", ".cs", ".go", ".h", ".hpp", ".java", ".js", ".jsx", ".kt", ".m", ".mjs", ".mm", ".php", ".py",
    ".pyi", ".rb", ".rs", ".scala", ".swift", ".ts", ".tsx",
})

# (kind, pattern): self-identifying secrets, an error wherever they appear.
TOKEN_PATTERNS = (
    (N_("a private key block"), re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (N_("an OpenAI-style API key"), re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b")),
    (N_("a GitHub token"), re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{20,}\b")),
    (N_("a Slack token"), re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b")),
    (N_("an AWS access key id"), re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    (N_("a JWT"), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),
)
ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<key>[A-Z0-9_.-]*(?:api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|password|private[_-]?key|secret|token)[A-Z0-9_.-]*)
    \s*[:=]\s*
    (?P<value>"[^"]*"|'[^']*'|[^"',\s#}]+)
    """
)
PLACEHOLDERS = frozenset({
    "", "changeme", "dummy", "example", "fake", "none", "null", "placeholder", "test", "todo", "xxx", "xxxx",
    "your-api-key", "your_api_key", "your-key", "your-secret", "your-token",
})
NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off"})
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9+/=_.-]+$")
MIN_HEX_ENTROPY = 3.0  # bits per character, as detect-secrets
MIN_TOKEN_ENTROPY = 4.5


def placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in PLACEHOLDERS or lowered.startswith("${") or (lowered.startswith("<") and lowered.endswith(">")):
        return True
    if "your" in lowered and any(w in lowered for w in ("key", "secret", "token", "password")):
        return True
    return set(lowered) <= {"x", "*", "-", "_"}


def entropy(value: str) -> float:
    total = len(value)
    return -sum((n / total) * math.log2(n / total) for n in Counter(value).values()) if total else 0.0


def credential_shaped(value: str) -> bool:
    if len(value) < 12 or value.startswith(("http://", "https://", "./", "../", "/")):
        return False
    if HEX.match(value):
        return entropy(value) >= MIN_HEX_ENTROPY
    if TOKEN_SHAPE.match(value):
        return entropy(value) >= MIN_TOKEN_ENTROPY
    return False


def scanned_members(package: PackageView):
    """The members the review's secret scan reads: not in a skipped folder, not binary by name."""
    for member in package.members:
        if any(part in SKIPPED_DIRS for part in member.parts[:-1]) or member.suffix in BINARY_SUFFIXES:
            continue
        yield member


# Every pattern above holds one of these (lower-cased): a line without any cannot match.
LITERALS = ("key", "token", "secret", "password", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "akia", "eyj")


def candidate_lines(text: str) -> list[int]:
    """The lines holding a literal some pattern needs, found with str.find (uv.lock files run to
    megabytes, and a regex over every line of them costs seconds)."""
    lowered = text.lower()
    offsets: set[int] = set()
    for literal in LITERALS:
        at = lowered.find(literal)
        while at >= 0:
            offsets.add(lowered.rfind("\n", 0, at) + 1)  # the start of its line
            end = lowered.find("\n", at)
            if end < 0:
                break
            at = lowered.find(literal, end + 1)
    lines: list[int] = []
    line, last = 0, 0
    for start in sorted(offsets):  # offsets in the lower-cased text: its line ends are the text's
        line += lowered.count("\n", last, start)
        last = start
        lines.append(line)
    return lines


KEY_WORD = re.compile(r"(?i)key|token|secret|password")
KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def assignments(line: str) -> Iterator[re.Match[str]]:
    """ASSIGNMENT.finditer(line), anchored: a match's key holds a secret word, so each match starts where
    the run of key characters around such a word starts (a scan from every position of a long line, as
    finditer does, costs seconds on uv.lock files)."""
    end = 0
    for word in KEY_WORD.finditer(line):
        if word.start() < end:
            continue
        start = word.start()
        while start > 0 and line[start - 1] in KEY_CHARS:
            start -= 1
        match = ASSIGNMENT.match(line, max(start, end))
        if match is not None:
            end = match.end()
            yield match


def scan_text(package: PackageView, name: str, text: str) -> Iterator[Finding]:
    """The review reads line by line; only the lines holding a literal some pattern needs are read here."""
    path = package.path(name)
    code_file = PurePosixPath(name).suffix.lower() in CODE_SUFFIXES
    candidates = candidate_lines(text)
    if not candidates:
        return
    lines = text.split("\n")
    for line_no in candidates:
        line = lines[line_no]
        vendor = False
        for kind, pattern in TOKEN_PATTERNS:
            match = pattern.search(line)
            if match:
                vendor = vendor or kind != TOKEN_PATTERNS[0][0]
                yield SECRET.at(path, Span.at(line_no, match.start(), line_no, match.end()), msg(
                    "{kind} is in {name}: the review blocks the package; remove it, revoke it, and read credentials from the provider's credentials instead",
                    kind=Message(kind), name=name))
        if vendor:
            continue  # the review reports a vendor token once, not again as an assignment
        for match in assignments(line):
            key, value = match.group("key"), match.group("value")
            quoted = len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]
            cleaned = value.strip().strip("\"'")
            if not cleaned or placeholder(cleaned) or NUMBER.match(cleaned) or cleaned.lower() in NOT_SECRETS:
                continue
            if code_file and not quoted:
                continue  # an expression: code reading a credential, not holding one
            span = Span.at(line_no, match.start("value"), line_no, match.end("value"))
            if credential_shaped(cleaned):
                yield SECRET_ASSIGNMENT.at(path, span, msg(
                    "`{key}` is assigned a value that looks like a real credential: the review blocks the package (\"matched secret assignment\"); remove it and revoke it",
                    key=key))
            else:
                yield POSSIBLE_SECRET.at(path, span, msg(
                    "`{key}` is assigned a literal: the review asks a reviewer whether it is a credential (\"review possible secret field\"); use a placeholder such as <your-api-key> if it is an example",
                    key=key))


@package_check(SECRET, SECRET_ASSIGNMENT, POSSIBLE_SECRET, NOT_SCANNED)
def package_secrets(package: PackageView) -> Iterator[Finding]:
    for member in scanned_members(package):
        if member.size > MAX_SCAN_BYTES:
            yield NOT_SCANNED.at(package.path(member.name), ZERO_SPAN, msg(
                "{name} is {size} bytes: the review's secret scan skips files over 1 MiB and says so; a reviewer may ask what it is",
                name=member.name, size=member.size))
            continue
        if b"\0" in package.head(member.name, 4096):
            continue
        text = package.text(member.name)
        if text:
            yield from scan_text(package, member.name, text)


RULES = (SECRET, SECRET_ASSIGNMENT, POSSIBLE_SECRET, NOT_SCANNED)

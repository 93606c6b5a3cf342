"""Python the review compiles and reads: every .py in the package must compile; requests without a timeout
and credential-named values on their way into logs, exceptions or results are handed to a reviewer."""

from __future__ import annotations

import ast
import re
import sys
from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import msg
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import BLOCKED_DIR_NAMES, MAX_SCAN_BYTES, PackageView
from dify_lsp.textpos import Span

COMPILE = define_rule("DL650", "marketplace-python-compile", "A .py file in the package does not compile: the review's `python -m compileall` fails and blocks the package.", Severity.ERROR, FAMILY)
TIMEOUT = define_rule("DL651", "marketplace-requests-timeout", "A requests call without timeout=: the review warns that it can hang the plugin forever.", Severity.WARNING, FAMILY)
EXPOSURE = define_rule("DL652", "marketplace-credential-exposure", "A credential-named value goes into a log call, an exception, a return or a yield: the review asks a reviewer to look.", Severity.WARNING, FAMILY)

REVIEW_PYTHON = (3, 12)  # the Pre Check Plugin workflow's Python (3.12.7)
REQUESTS_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
LEAK_WORDS = ("credential", "api_key", "apikey", "secret", "token", "password", "passwd")
LOGGER_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
MAX_WARNINGS = 100  # the review stops listing after this many


def python_members(package: PackageView):
    for member in package.members:
        if member.name.endswith(".py") and not any(p in BLOCKED_DIR_NAMES for p in member.parts[:-1]):
            yield member


def column(line: str, byte_offset: int) -> int:
    """ast gives UTF-8 byte offsets; the engine counts code points."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def node_span(lines: list[str], node: ast.AST) -> Span:
    line = node.lineno - 1
    end_line = (node.end_lineno or node.lineno) - 1
    text = lines[line] if line < len(lines) else ""
    end_text = lines[end_line] if end_line < len(lines) else ""
    return Span.at(line, column(text, node.col_offset), end_line, column(end_text, node.end_col_offset or 0))


def parse(package: PackageView, name: str) -> ast.Module | Exception | None:
    """The module's syntax tree (parsed from its bytes, as compileall reads them), or why there is none;
    parsed once for both checks."""
    key = ("python-tree", name)
    if key not in package.memo:
        data = package.read(name)
        try:
            package.memo[key] = None if data is None else compile(data, name, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            package.memo[key] = exc
    return package.memo[key]


@package_check(COMPILE)
def python_compiles(package: PackageView) -> Iterator[Finding]:
    for member in python_members(package):
        tree = parse(package, member.name)
        if tree is None:
            continue
        try:
            if isinstance(tree, Exception):
                raise tree
            compile(tree, member.name, "exec", dont_inherit=True)  # what only the compiler rejects ('return' outside a function)
        except SyntaxError as exc:
            line = max((exc.lineno or 1) - 1, 0)
            col = max((exc.offset or 1) - 1, 0)
            end_line = (exc.end_lineno - 1) if exc.end_lineno else line
            end_col = (exc.end_offset - 1) if exc.end_offset and exc.end_offset > 0 else col
            if (end_line, end_col) < (line, col):
                end_line, end_col = line, col
            span = Span.at(line, col, end_line, end_col)
            if sys.version_info < REVIEW_PYTHON:
                # Newer syntax (3.12's f-strings, type parameters) fails here and compiles in the review.
                yield COMPILE.at(package.path(member.name), span, msg(
                    "{name} does not compile with Python {running} ({reason}); the review compiles with Python 3.12, which may accept it: run dify-lsp with Python 3.12 to be sure",
                    name=member.name, running=f"{sys.version_info[0]}.{sys.version_info[1]}", reason=exc.msg), severity=Severity.WARNING)
                continue
            yield COMPILE.at(package.path(member.name), span, msg(
                "{name} does not compile ({reason}): the review's compileall fails and blocks the package", name=member.name, reason=exc.msg))
        except (ValueError, MemoryError, RecursionError) as exc:
            yield COMPILE.at(package.path(member.name), Span.at(0, 0), msg(
                "{name} does not compile ({reason}): the review's compileall fails and blocks the package", name=member.name, reason=str(exc)))


def mentions_secret(node: ast.AST) -> bool:
    """Does a credential-like name reach this expression?  A name or attribute counts; a call counts by its
    arguments only (``self.get_token()`` returns what the function makes of nothing), as the review reads it."""
    if isinstance(node, ast.Name):
        return any(w in node.id.lower() for w in LEAK_WORDS)
    if isinstance(node, ast.Attribute):
        return any(w in node.attr.lower() for w in LEAK_WORDS) or mentions_secret(node.value)
    if isinstance(node, ast.Call):
        return any(mentions_secret(a) for a in node.args) or any(mentions_secret(k.value) for k in node.keywords)
    return any(mentions_secret(child) for child in ast.iter_child_nodes(node))


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


LEAK_TEXT = re.compile("|".join(LEAK_WORDS), re.IGNORECASE)


def scan_module(tree: ast.Module, requests_used: bool, leaks_possible: bool) -> Iterator[tuple[ast.AST, str]]:
    modules = {"requests"}
    functions: set[str] = set()
    nodes = list(ast.walk(tree))
    if requests_used:
        for node in nodes:
            if isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names if a.name == "requests")
            elif isinstance(node, ast.ImportFrom) and node.module == "requests":
                functions.update(a.asname or a.name for a in node.names if a.name in REQUESTS_METHODS)
    for node in nodes:
        if not leaks_possible and not isinstance(node, ast.Call):
            continue
        if isinstance(node, ast.Call):
            if not requests_used and not leaks_possible:
                continue
            func = node.func
            is_requests = (isinstance(func, ast.Attribute) and dotted(func.value) in modules and func.attr in REQUESTS_METHODS) or (
                isinstance(func, ast.Name) and func.id in functions)
            if is_requests and not any(k.arg == "timeout" for k in node.keywords):
                yield node, "timeout"
            if leaks_possible and isinstance(func, ast.Attribute) and func.attr in LOGGER_METHODS:
                target = dotted(func.value).lower()
                if (target in {"logging", "logger", "log"} or target.endswith((".logger", ".log"))) and mentions_secret(node):
                    yield node, "log"
        elif isinstance(node, ast.Raise) and node.exc is not None and mentions_secret(node):
            yield node, "raise"
        elif isinstance(node, (ast.Return, ast.Yield)) and node.value is not None and mentions_secret(node.value):
            yield node, "return" if isinstance(node, ast.Return) else "yield"


@package_check(TIMEOUT, EXPOSURE)
def python_safety(package: PackageView) -> Iterator[Finding]:
    count = 0
    for member in python_members(package):
        if member.size > MAX_SCAN_BYTES:
            continue
        text = package.text(member.name)
        if not text:
            continue
        # Neither a requests call nor a credential-like name can be in a module whose text lacks the words.
        requests_used = "requests" in text
        leaks_possible = LEAK_TEXT.search(text) is not None
        if not requests_used and not leaks_possible:
            continue
        tree = parse(package, member.name)
        if not isinstance(tree, ast.Module):
            continue  # DL650 says why
        lines = text.split("\n")
        path = package.path(member.name)
        try:
            found = sorted(scan_module(tree, requests_used, leaks_possible), key=lambda item: (item[0].lineno, item[0].col_offset))
        except RecursionError:
            continue  # an expression nested past Python's recursion limit: nothing a reviewer reads either
        for node, what in found:
            if count >= MAX_WARNINGS:
                return
            count += 1
            span = node_span(lines, node)
            if what == "timeout":
                yield TIMEOUT.at(path, span, msg("this requests call has no timeout=: the review warns that it can hang the plugin forever; pass timeout=(connect, read) seconds"))
            elif what == "log":
                yield EXPOSURE.at(path, span, msg("a credential-named value goes into a log call: the review asks a reviewer to look; never log credentials"))
            elif what == "raise":
                yield EXPOSURE.at(path, span, msg("a credential-named value goes into an exception: the review asks a reviewer to look; keep credentials out of error messages"))
            else:
                yield EXPOSURE.at(path, span, msg("a credential-named value is returned or yielded: the review asks a reviewer to look; make sure no credential reaches the result"))


RULES = (COMPILE, TIMEOUT, EXPOSURE)

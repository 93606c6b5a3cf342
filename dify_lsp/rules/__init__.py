"""The rule registry: every diagnostic code, its description, and the checks.

A rule is one stable code with a one-line description and a default
severity.  A *check* is a small function over a :class:`CheckContext` that
yields findings for one or more of its rules.  Checks live in the family
modules listed in ``RULE_MODULES``; they register themselves on import.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from dify_lsp.findings import Finding, Fix, Related, Severity
from dify_lsp.index import Plugin, PluginIndex
from dify_lsp.textpos import Span

log = logging.getLogger(__name__)

# Family modules, imported in this order by load_rules().
RULE_MODULES = (
    "dify_lsp.rules.files",
    "dify_lsp.rules.yaml_schema",
    "dify_lsp.rules.model_files",
    "dify_lsp.rules.endpoint_files",
    "dify_lsp.rules.trigger_files",
    "dify_lsp.rules.scopes",
    "dify_lsp.rules.python_session",
    "dify_lsp.rules.python_plugin",
    "dify_lsp.rules.python_credentials",
    "dify_lsp.rules.permissions",
    "dify_lsp.rules.suppression",
)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    description: str
    severity: Severity
    family: str

    def at(
        self,
        path: Path,
        span: Span,
        message: str,
        *,
        severity: Severity | None = None,
        related: Iterable[Related] = (),
        fixes: Iterable[Fix] = (),
        tags: Iterable[str] = (),
        **data: Any,
    ) -> Finding:
        return Finding(
            path=path,
            span=span,
            code=self.code,
            message=message,
            severity=severity or self.severity,
            related=tuple(related),
            fixes=tuple(fixes),
            tags=tuple(tags),
            data=data,
        )


RULES: dict[str, Rule] = {}


def define_rule(code: str, name: str, description: str, severity: Severity, family: str) -> Rule:
    if code in RULES and RULES[code].name != name:
        raise ValueError(f"rule code {code} is taken by {RULES[code].name}")
    rule = Rule(code, name, description, severity, family)
    RULES[code] = rule
    return rule


CheckFn = Callable[["CheckContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    fn: CheckFn
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


CHECKS: list[Check] = []


def check(*rules: Rule) -> Callable[[CheckFn], CheckFn]:
    """Register a check function that reports the given rules."""

    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(fn, rules))
        return fn

    return register


_loaded = False


def load_rules() -> None:
    global _loaded
    if _loaded:
        return
    for name in RULE_MODULES:
        importlib.import_module(name)
    _loaded = True


@dataclass
class CheckContext:
    """What a check sees: one plugin, the index, and a memo for shared analyses."""

    plugin: Plugin
    index: PluginIndex
    settings: dict[str, Any] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def disabled_families(settings: dict[str, Any]) -> set[str]:
    families = settings.get("diagnostics", {}) if isinstance(settings.get("diagnostics"), dict) else {}
    return {name for name, on in families.items() if on is False}


def run_checks(ctx: CheckContext) -> tuple[list[Finding], list[str]]:
    """Run every registered check; returns (findings, crash reports).

    One failing check never hides the others: its traceback is logged and
    reported back, and the remaining checks still run.
    """
    load_rules()
    off = disabled_families(ctx.settings)
    findings: list[Finding] = []
    crashes: list[str] = []
    for chk in CHECKS:
        if chk.rules and all(r.family in off for r in chk.rules):
            continue
        try:
            for f in chk.fn(ctx):
                if RULES[f.code].family not in off:
                    findings.append(f)
        except Exception:
            tb = traceback.format_exc()
            log.error("check %s failed:\n%s", chk.name, tb)
            crashes.append(f"{chk.name}: {tb}")
    findings.sort(key=Finding.sort_key)
    return findings, crashes


def suggest(word: str, candidates: list[str] | tuple[str, ...]) -> list[str]:
    """Did-you-mean candidates for a misspelt name: a different-case match first, else close matches."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return [lowered[word.lower()]]
    return difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)


def did_you_mean(options: list[str]) -> str:
    """`` (did you mean 'a' or 'b'?)`` for a message, or nothing."""
    return (" (did you mean " + " or ".join(f"'{o}'" for o in options) + "?)") if options else ""


def iter_rules() -> Iterator[Rule]:
    load_rules()
    yield from sorted(RULES.values(), key=lambda r: r.code)


def rules_markdown() -> str:
    lines = ["| code | name | severity | family | description |", "|---|---|---|---|---|"]
    for r in iter_rules():
        lines.append(f"| {r.code} | {r.name} | {r.severity.label} | {r.family} | {r.description} |")
    return "\n".join(lines)

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
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from dify_lsp.findings import Finding, Fix, Related, Severity
from dify_lsp.i18n import ENGLISH, Listing, msg, tr
from dify_lsp.index import CONTENT_READS, Plugin, PluginIndex
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
    "dify_lsp.rules.python_parameters",
    "dify_lsp.rules.python_print",
    "dify_lsp.rules.python_plugin",
    "dify_lsp.rules.python_credentials",
    "dify_lsp.rules.permissions",
    "dify_lsp.rules.suppression",
    "dify_lsp.rules.marketplace",
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


_load_lock = threading.Lock()


def load_rules() -> None:
    global _loaded
    if _loaded:
        return
    # One thread imports the rule modules while any other waits (the server starts loading them early on
    # a thread of its own): two threads importing the same cycle of modules can see it half-initialized.
    with _load_lock:
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
    _memo_reads: dict[Any, dict[Path, str | None]] = field(default_factory=dict)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        reads = CONTENT_READS.get()
        if key not in self._memo:
            if reads is None:
                self._memo[key] = compute()
            else:
                # A shared analysis read files on behalf of every check that uses it.
                own: dict[Path, str | None] = {}
                token = CONTENT_READS.set(own)
                try:
                    self._memo[key] = compute()
                finally:
                    CONTENT_READS.reset(token)
                self._memo_reads[key] = own
        if reads is not None:
            reads.update(self._memo_reads.get(key, ()))
        return self._memo[key]


@dataclass
class PreviousRun:
    """One plugin's last check, rule by rule, for the editor: a rule runs again only when a file it
    read changed (or the plugin's shape, the settings or the disk did); otherwise its findings are kept.

    What a rule read is observed, not declared: every read of a file's content (``YamlFile.text/doc/
    root``, ``PythonFile.text``, ``TextSource.read``) while it runs is noted with the text it saw.
    """

    shape: Any = None
    rules: dict[str, tuple[dict[Path, str | None], list[Finding], list[str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reran: list[str] = field(default_factory=list)  # the checks the last run executed (for tests and profiles)


def _plugin_shape(ctx: CheckContext) -> Any:
    """Everything about a plugin except file contents: which files, of which kind, referenced how
    (where a reference sits is content: reading ``PathRef.span`` counts as reading its file)."""
    p = ctx.plugin
    return (
        repr(sorted(ctx.settings.items(), key=lambda kv: kv[0])),
        ctx.index.disk_generation,
        p.root,
        tuple((path, yf.kind, yf.problem) for path, yf in p.yaml_files.items()),
        tuple((path, pf.problem) for path, pf in p.python_files.items()),
        tuple((r.owner, r.key, r.raw, r.target_kind, r.target, r.escapes, r.exists, r.loaded_as) for r in p.refs),
        tuple((yf.path, yf.problem) for yf in p.loose_tools),
    )


def _current_text(ctx: CheckContext, path: Path) -> str | None:
    p = ctx.plugin
    yf = p.yaml_files.get(path)
    if yf is not None:
        return yf._text
    pf = p.python_files.get(path)
    if pf is not None:
        return pf._text
    for loose in p.loose_tools:
        if loose.path == path:
            return loose._text
    return ctx.index.source.read(path).text


def disabled_families(settings: dict[str, Any]) -> set[str]:
    families = settings.get("diagnostics", {}) if isinstance(settings.get("diagnostics"), dict) else {}
    return {name for name, on in families.items() if on is False}


def _run_one(chk: Check, ctx: CheckContext, off: set[str]) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    try:
        for f in chk.fn(ctx):
            if RULES[f.code].family not in off:
                findings.append(f)
    except Exception:
        tb = traceback.format_exc()
        log.error("check %s failed:\n%s", chk.name, tb)
        return findings, [f"{chk.name}: {tb}"]
    return findings, []


def _order(f: Finding) -> tuple:
    return (*f.sort_key(), f.span.end, f.message)


def run_checks(ctx: CheckContext, previous: PreviousRun | None = None) -> tuple[list[Finding], list[str]]:
    """Run every registered check; returns (findings, crash reports).

    One failing check never hides the others: its traceback is logged and
    reported back, and the remaining checks still run.  With ``previous`` (the
    editor's last run of this plugin), a check whose inputs did not change is
    not run again: its last findings are kept.
    """
    load_rules()
    off = disabled_families(ctx.settings)
    findings: list[Finding] = []
    crashes: list[str] = []
    if previous is None:
        for chk in CHECKS:
            if chk.rules and all(r.family in off for r in chk.rules):
                continue
            found, crashed = _run_one(chk, ctx, off)
            findings.extend(found)
            crashes.extend(crashed)
        findings.sort(key=_order)
        return findings, crashes
    with previous.lock:
        shape = _plugin_shape(ctx)
        if shape != previous.shape:
            previous.rules.clear()
            previous.shape = shape
        previous.reran = []
        for chk in CHECKS:
            if chk.rules and all(r.family in off for r in chk.rules):
                continue
            last = previous.rules.get(chk.name)
            if last is not None and all(_current_text(ctx, path) == text for path, text in last[0].items()):
                findings.extend(last[1])
                crashes.extend(last[2])
                continue
            reads: dict[Path, str | None] = {}
            token = CONTENT_READS.set(reads)
            try:
                found, crashed = _run_one(chk, ctx, off)
            finally:
                CONTENT_READS.reset(token)
            previous.reran.append(chk.name)
            if not crashed:  # a crash is never remembered: the next run tries again
                previous.rules[chk.name] = (reads, found, crashed)
            else:
                previous.rules.pop(chk.name, None)
            findings.extend(found)
            crashes.extend(crashed)
    findings.sort(key=_order)
    return findings, crashes


def suggest(word: str, candidates: list[str] | tuple[str, ...]) -> list[str]:
    """Did-you-mean candidates for a misspelt name: a different-case match first, else close matches."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return [lowered[word.lower()]]
    return difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)


def did_you_mean(options: list[str]) -> str:
    """`` (did you mean 'a', 'b' or 'c'?)`` for a message, or nothing."""
    if not options:
        return ""
    return msg(" (did you mean {options}?)", options=Listing((f"'{o}'" for o in options), last="or"))


def iter_rules() -> Iterator[Rule]:
    load_rules()
    yield from sorted(RULES.values(), key=lambda r: r.code)


def rules_markdown(language: str = ENGLISH) -> str:
    lines = ["| code | name | severity | family | description |", "|---|---|---|---|---|"]
    for r in iter_rules():
        lines.append(f"| {r.code} | {r.name} | {r.severity.label} | {r.family} | {tr(r.description, language)} |")
    return "\n".join(lines)

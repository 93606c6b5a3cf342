"""What a rule is: a stable code with a one-line description and a default severity.

A *check* is a small function over a :class:`CheckContext` that yields findings
for one or more of its rules.  Each family module (``files``, ``yaml_schema``,
``python_session``, ...) defines its rules and checks and lists them in its
``RULES`` and ``CHECKS`` tuples; :mod:`dify_lsp.rules.registry` puts the
families together into the one code -> rule table.  Nothing here is filled as
a side effect of importing a module.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from dify_lsp.findings import Finding, Fix, Related, Severity
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import Plugin, PluginIndex, Reader
from dify_lsp.settings import ServerSettings
from dify_lsp.textpos import Span


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


def define_rule(code: str, name: str, description: str, severity: Severity, family: str) -> Rule:
    """A rule; it counts once its family module lists it in ``RULES`` (see dify_lsp.rules.registry)."""
    return Rule(code, name, description, severity, family)


CheckFn = Callable[["CheckContext"], Iterable[Finding]]


def check(*rules: Rule) -> Callable[[CheckFn], CheckFn]:
    """Mark ``fn`` as the check that reports ``rules``; it runs once its family lists it in ``CHECKS``."""

    def mark(fn: CheckFn) -> CheckFn:
        fn.reports = rules  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass
class CheckContext:
    """What a check sees: one plugin, the index, ``read`` (the one way to a file's content:
    ``ctx.read.root(yf)``, ``ctx.read.text(pf)``, ``ctx.read.span(ref)``, ``ctx.read.file(path)``, which
    records what the check read) and a memo for shared analyses."""

    plugin: Plugin
    index: PluginIndex
    settings: ServerSettings = field(default_factory=ServerSettings)
    read: Reader = None  # type: ignore[assignment]  # set in __post_init__: a reader that records nothing
    _memo: dict[Any, Any] = field(default_factory=dict)
    _memo_reads: dict[Any, dict[Path, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.read is None:
            self.read = Reader(self.index.source, None)

    def recording(self, seen: dict[Path, str | None]) -> "CheckContext":
        """This context (same memo) with a reader that records into ``seen`` every file read through it."""
        return replace(self, read=Reader(self.index.source, seen))

    def memo(self, key: Any, compute: Callable[["CheckContext"], Any]) -> Any:
        """``compute(ctx)`` once per check run.  What it reads through the context it is given counts as read
        by every check that asks for it, so it must read through that context, not one it closes over."""
        if key not in self._memo:
            if self.read.seen is None:
                self._memo[key] = compute(self)
            else:
                own: dict[Path, str | None] = {}
                self._memo[key] = compute(self.recording(own))
                self._memo_reads[key] = own
        seen = self._memo_reads.get(key)
        if seen:
            self.read.took(seen)
        return self._memo[key]


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

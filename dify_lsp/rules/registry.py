"""The one code -> rule table and the list of checks, put together from the rule families.

Adding a family is one line: its module (or package) in ``FAMILIES``.  A family
lists its rules in ``RULES``, its check functions (marked with
:func:`dify_lsp.rules.check`) in ``CHECKS`` and the rules it reports some other
way in ``REPORTED_ELSEWHERE``; the table below is built from those tuples when
this module is imported, and refuses a code used twice, a check reporting a rule
no family lists, and a rule nothing reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Iterator

from dify_lsp.i18n import ENGLISH, tr
from dify_lsp.rules import (
    CheckFn,
    Rule,
    endpoint_files,
    files,
    marketplace,
    model_files,
    permissions,
    python_credentials,
    python_parameters,
    python_plugin,
    python_print,
    python_session,
    scopes,
    suppression,
    trigger_files,
    yaml_schema,
)

# The rule families, in the order their checks run.
FAMILIES: tuple[ModuleType, ...] = (
    files,
    yaml_schema,
    model_files,
    endpoint_files,
    trigger_files,
    scopes,
    python_session,
    python_parameters,
    python_print,
    python_plugin,
    python_credentials,
    permissions,
    suppression,
    marketplace,
)


@dataclass(frozen=True)
class Check:
    fn: CheckFn
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


def _rule_table(families: tuple[ModuleType, ...]) -> dict[str, Rule]:
    table: dict[str, Rule] = {}
    for family in families:
        for rule in family.RULES:
            if rule.code in table:
                raise ValueError(f"rule code {rule.code} is used by {table[rule.code].name} and {rule.name}")
            table[rule.code] = rule
    return dict(sorted(table.items()))


def _checks(families: tuple[ModuleType, ...], table: dict[str, Rule]) -> tuple[Check, ...]:
    out = []
    # A family may report some rules outside its checks (listed in its REPORTED_ELSEWHERE).
    reported = {r.code for family in families for r in getattr(family, "REPORTED_ELSEWHERE", ())}
    for family in families:
        for fn in family.CHECKS:
            rules = tuple(getattr(fn, "reports", ()))
            if not rules:
                raise ValueError(f"{fn.__module__}.{fn.__qualname__} is not marked with @check(rules...)")
            for rule in rules:
                if table.get(rule.code) is not rule:
                    raise ValueError(f"{fn.__qualname__} reports {rule.code}, which no family lists in RULES")
                reported.add(rule.code)
            out.append(Check(fn, rules))
    silent = sorted(set(table) - reported)
    if silent:
        raise ValueError(f"no check reports {', '.join(silent)}")
    return tuple(out)


RULES: dict[str, Rule] = _rule_table(FAMILIES)
CHECKS: tuple[Check, ...] = _checks(FAMILIES, RULES)


def families() -> list[str]:
    """The family names a selector or the `diagnostics` setting may use."""
    return sorted({r.family for r in RULES.values()})


def iter_rules() -> Iterator[Rule]:
    yield from RULES.values()


def rules_markdown(language: str = ENGLISH) -> str:
    lines = ["| code | name | severity | family | description |", "|---|---|---|---|---|"]
    for r in iter_rules():
        lines.append(f"| {r.code} | {r.name} | {r.severity.label} | {r.family} | {tr(r.description, language)} |")
    return "\n".join(lines)

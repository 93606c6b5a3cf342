"""Rules about the suppression comments and the configuration themselves.

They are not produced by a check over the plugin but by
:func:`dify_lsp.config.apply_configuration`, after every check has run,
because only then is it known which ``# noqa`` silenced something.
"""

from __future__ import annotations

from dify_lsp.findings import Severity
from dify_lsp.rules import define_rule

UNUSED_NOQA = define_rule(
    "DL020",
    "unused-noqa",
    "A `# noqa: DLxxx` code in a Python or YAML file that silences nothing on its line (no such finding there, or no such rule).",
    Severity.HINT,
    "files",
)

INVALID_CONFIG = define_rule(
    "DL021",
    "invalid-config",
    "`[tool.dify-lsp]` in pyproject.toml has an unknown key, rule selector or value; that setting is not applied.",
    Severity.ERROR,
    "files",
)


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNUSED_NOQA, INVALID_CONFIG)
CHECKS = ()
# Reported by dify_lsp.config after the checks ran (it alone knows which `# noqa` silenced something).
REPORTED_ELSEWHERE = (UNUSED_NOQA, INVALID_CONFIG)

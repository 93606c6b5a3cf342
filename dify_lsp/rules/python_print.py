"""``print()`` in plugin code (family "python", DL209): stdout carries the plugin protocol."""

from __future__ import annotations

from typing import Iterator

from dify_lsp.analysis.plugin import never_true_flags, python_of, reachable_files, unreachable_functions
from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import msg
from dify_lsp.rules import CheckContext, check, define_rule

FAMILY = "python"

PRINT_CALL = define_rule("DL209", "print-in-plugin", "`print()` to stdout in code the plugin runs (the entry point, the YAML-named classes' methods Dify calls, and what they call; not under a flag only ever set false): stdout carries the plugin protocol, and the daemon fails to parse the line as a protocol event, so the text is lost.", Severity.WARNING, FAMILY)


@check(PRINT_CALL)
def no_print(ctx: CheckContext) -> Iterator[Finding]:
    runs = reachable_files(ctx)
    for unit in python_of(ctx).units:
        if unit.path not in runs or not unit.scan.prints:
            continue  # scripts the plugin never imports print to their own stdout
        dead = unreachable_functions(ctx).get(unit.path, ())
        for call in unit.scan.prints:
            if call.function is not None and call.function in dead:
                continue  # in a function nothing calls
            if call.guards and any(g in never_true_flags(ctx) for g in call.guards):
                continue  # under `if DEBUG:` with DEBUG only ever False
            yield PRINT_CALL.at(
                unit.path, call.span,
                msg("print() writes to stdout, which carries the plugin's protocol: the daemon fails to parse the line as a "
                    "protocol event and hands the error to the plugin instance's notifiers, which in current daemon versions do "
                    "nothing with it, so the text is lost. Log instead: logging.getLogger(__name__) with "
                    "logger.addHandler(dify_plugin.config.logger_format.plugin_logger_handler)"),
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (PRINT_CALL,)
CHECKS = (no_print,)

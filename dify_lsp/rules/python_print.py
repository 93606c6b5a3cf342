"""``print()`` in plugin code (family "python", DL209): stdout carries the plugin protocol."""

from __future__ import annotations

from typing import Iterator

from dify_lsp.analysis.plugin import python_of, reachable_files
from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import msg
from dify_lsp.rules import CheckContext, check, define_rule

FAMILY = "python"

PRINT_CALL = define_rule("DL209", "print-in-plugin", "`print()` to stdout in code the plugin runs (its entry point, the YAML-named sources and what they import): stdout carries the plugin protocol, so the daemon logs the line as an error and drops it.", Severity.WARNING, FAMILY)


# -- print ------------------------------------------------------------------------------------------------------------


@check(PRINT_CALL)
def no_print(ctx: CheckContext) -> Iterator[Finding]:
    runs = reachable_files(ctx)
    for unit in python_of(ctx).units:
        if unit.path not in runs:
            continue  # scripts the plugin never imports print to their own stdout
        for span in unit.scan.prints:
            yield PRINT_CALL.at(
                unit.path, span,
                msg("print() writes to stdout, which carries the plugin's protocol: the daemon logs the line as an error "
                "(\"invalid character ... looking for beginning of value\") and drops it, so the text is lost. Log instead: "
                "logging.getLogger(__name__) with logger.addHandler(dify_plugin.config.logger_format.plugin_logger_handler)"),
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (PRINT_CALL,)
CHECKS = (no_print,)

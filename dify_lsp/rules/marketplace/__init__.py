"""Marketplace readiness: what Dify Marketplace review decides from the package (see :mod:`.family`)."""

from dify_lsp.rules.marketplace import activity, binaries, contents, dependencies, manifest, python, readme, secrets
from dify_lsp.rules.marketplace.family import folder_check

# The review's checks in its order (contents first: when the package cannot be unpacked, the review stops there).
PACKAGE_CHECKS = (
    contents.package_contents,
    secrets.package_secrets,
    binaries.package_binaries,
    manifest.manifest_metadata,
    readme.readme_metadata,
    dependencies.package_dependencies,
    python.python_compiles,
    python.python_safety,
    activity.financial_activity,
)

# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (*contents.RULES, *secrets.RULES, *binaries.RULES, *manifest.RULES, *readme.RULES, *dependencies.RULES, *python.RULES, *activity.RULES)
CHECKS = tuple(folder_check(fn) for fn in PACKAGE_CHECKS)
# Reported only when a .difypkg is checked in place (dify_lsp.checker.check_package_file), after the checks.
REPORTED_ELSEWHERE = (contents.NOT_READ,)

"""The marketplace family: what Dify Marketplace review decides from a plugin package alone.

The rules follow langgenius/dify-marketplace-toolkit (``validator/validate-difypkg.py`` and the checks it
runs: ``toolkit/checks/*.py`` as of the commits with ``source_hosts.py``, 9b618f8 / a9c59ca) and the icon
and author steps of langgenius/dify-plugins' "Pre Check Plugin" workflow.  What the review blocks is an
error here, what it hands a reviewer as a warning is a warning.

A check is written once over a :class:`PackageView` and runs two ways: on a plugin folder, as a rule
check the family's setting turns on (``--marketplace``, ``marketplace = true`` in ``[tool.dify-lsp]``, or
the editor's ``marketplace`` setting), and on a ``.difypkg`` read in place (:func:`dify_lsp.checker.check_package_file`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from dify_lsp.findings import Finding
from dify_lsp.pyproject import find_config_table
from dify_lsp.rules import CheckContext, CheckFn, Rule, check
from dify_lsp.rules.marketplace.package import FolderPackage, PackageView

FAMILY = "marketplace"
SETTING = "marketplace"

PackageCheck = Callable[[PackageView], Iterable[Finding]]


def enabled(ctx: CheckContext) -> bool:
    """The family runs when the settings say so, else when the plugin's ``[tool.dify-lsp]`` does."""
    value = ctx.settings.marketplace
    if value is not None:
        return value

    def from_config(ctx: CheckContext) -> bool:
        found = find_config_table(ctx.plugin.root, lambda path: ctx.read.file(path).text)
        return found is not None and isinstance(found[2], dict) and found[2].get(SETTING) is True

    return ctx.memo((FAMILY, "config"), from_config)


def folder_package(ctx: CheckContext) -> FolderPackage:
    """The plugin folder as a package, listed once per check run; its files' texts are read through this
    check's reader, so they count as read by the check that reads them."""
    listed = ctx.memo((FAMILY, "package"), lambda ctx: FolderPackage(ctx.plugin.root))
    return listed.reading_with(ctx.read.file)


def package_check(*rules: Rule) -> Callable[[PackageCheck], PackageCheck]:
    """Mark ``fn(package)`` as the check of ``rules``; the family lists it in ``PACKAGE_CHECKS``."""

    def mark(fn: PackageCheck) -> PackageCheck:
        fn.reports = rules  # type: ignore[attr-defined]
        return fn

    return mark


def folder_check(fn: PackageCheck) -> CheckFn:
    """``fn`` as a rule check of plugin folders, gated by the family's setting."""

    def run(ctx: CheckContext) -> Iterable[Finding]:
        if not enabled(ctx):
            return ()
        return fn(folder_package(ctx))

    run.__module__, run.__name__, run.__qualname__ = fn.__module__, fn.__name__, fn.__qualname__
    return check(*fn.reports)(run)  # type: ignore[attr-defined]

"""The marketplace family: what Dify Marketplace review decides from a plugin package alone.

The rules follow langgenius/dify-marketplace-toolkit (``validator/validate-difypkg.py`` and the checks it
runs: ``toolkit/checks/*.py`` as of the commits with ``source_hosts.py``, 9b618f8 / a9c59ca) and the icon
and author steps of langgenius/dify-plugins' "Pre Check Plugin" workflow.  What the review blocks is an
error here, what it hands a reviewer as a warning is a warning.

A check is written once over a :class:`PackageView` and runs two ways: on a plugin folder, as a rule
check the family's setting turns on (``--marketplace``, ``marketplace = true`` in ``[tool.dify-lsp]``, or
the editor's ``marketplace`` setting), and on a ``.difypkg`` read in place (:func:`check_package_file`).
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from dify_lsp.findings import Finding
from dify_lsp.rules import CheckContext, CheckFn, Rule, check
from dify_lsp.rules.marketplace.package import FolderPackage, PackageView, ZipPackage

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.settings import ServerSettings

log = logging.getLogger(__name__)

FAMILY = "marketplace"
SETTING = "marketplace"

PackageCheck = Callable[[PackageView], Iterable[Finding]]


def enabled(ctx: CheckContext) -> bool:
    """The family runs when the settings say so, else when the plugin's ``[tool.dify-lsp]`` does."""
    value = ctx.settings.marketplace
    if value is not None:
        return value

    def from_config() -> bool:
        from dify_lsp.config import load_plugin_config

        return load_plugin_config(ctx.plugin.root, lambda path: ctx.index.source.read(path).text).marketplace is True

    return ctx.memo((FAMILY, "config"), from_config)


def folder_package(ctx: CheckContext) -> FolderPackage:
    return ctx.memo((FAMILY, "package"), lambda: FolderPackage(ctx.plugin.root, ctx.index.source.read))


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


def check_package_file(path: Path, settings: "ServerSettings | dict[str, Any] | None" = None) -> tuple[list[Finding], dict[Path, str], list[str]]:
    """Every marketplace check on one ``.difypkg``, read in place: (findings, the text of each member a
    finding points into, crash reports).

    Findings point at ``PATH!/member``.  The command line's selection applies; nothing else does (a
    package carries no ``[tool.dify-lsp]`` of the author's checkout)."""
    from dify_lsp.config import enabled_codes, layer_from_settings
    from dify_lsp.settings import as_settings
    from dify_lsp.rules.marketplace import PACKAGE_CHECKS
    from dify_lsp.rules.marketplace.contents import unread_members

    package = ZipPackage(path)
    findings: list[Finding] = []
    crashes: list[str] = []
    texts: dict[Path, str] = {}
    try:
        for fn in (*PACKAGE_CHECKS, unread_members):
            try:
                findings.extend(fn(package))
            except Exception:
                tb = traceback.format_exc()
                log.error("check %s failed:\n%s", fn.__qualname__, tb)
                crashes.append(f"{fn.__module__}.{fn.__qualname__}: {tb}")
            if package.broken is not None or package.unsafe:
                break  # the review stops here too: nothing is unpacked
        for f in findings:
            name = f.path.relative_to(package.location).as_posix() if package.location in f.path.parents else None
            if name is not None and f.path not in texts and package.member(name) is not None and name not in package.unread:
                texts[f.path] = package.text(name) or ""
    finally:
        if isinstance(package, ZipPackage):
            package.close()
    layer = layer_from_settings(as_settings(settings))
    codes = enabled_codes([layer] if layer is not None else [])
    findings = [f for f in findings if f.code in codes]
    findings.sort(key=Finding.sort_key)
    return findings, texts, crashes

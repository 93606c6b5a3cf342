"""Files and references: YAML syntax, missing or unreadable files, stray tools."""

from __future__ import annotations

from typing import Iterator

from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import CheckContext, check, define_rule
from dify_lsp.schema.references import ICON, ICON_FOLDER, KIND_TITLES

FAMILY = "files"

YAML_SYNTAX = define_rule("DL001", "yaml-syntax", "A plugin YAML file is not valid YAML.", Severity.ERROR, FAMILY)
MISSING_FILE = define_rule("DL002", "missing-file", "A referenced provider, tool, Python source or icon file does not exist.", Severity.ERROR, FAMILY)
UNREFERENCED_TOOL = define_rule("DL003", "unreferenced-tool", "A tool YAML that no tool provider lists in `tools`.", Severity.WARNING, FAMILY)
OUTSIDE_ROOT = define_rule("DL004", "path-outside-plugin", "A referenced path is absolute or climbs out of the plugin folder (it is never read).", Severity.ERROR, FAMILY)
UNREADABLE = define_rule("DL005", "unreadable-file", "A plugin file is binary, not UTF-8, or too large to check.", Severity.ERROR, FAMILY)
DUPLICATE_KEY = define_rule("DL006", "duplicate-key", "A mapping repeats a key (the daemon's YAML parser rejects it).", Severity.ERROR, FAMILY)


@check(YAML_SYNTAX, DUPLICATE_KEY, UNREADABLE)
def yaml_files_parse(ctx: CheckContext) -> Iterator[Finding]:
    for yf in [*ctx.plugin.yaml_files.values(), *ctx.plugin.loose_tools]:
        if yf.problem and yf.problem != "missing":
            yield UNREADABLE.at(yf.path, ZERO_SPAN, f"{KIND_TITLES.get(yf.kind, 'file')} {ctx.plugin.relative(yf.path)}: {yf.problem}")
            continue
        if yf.doc is None:
            continue
        if yf.doc.error is not None:
            yield YAML_SYNTAX.at(yf.path, yf.doc.error.span, yf.doc.error.message)
        for first, repeat in yf.doc.duplicate_keys:
            yield DUPLICATE_KEY.at(
                yf.path,
                repeat.key.span,
                f"duplicate key '{repeat.key_text}': it is already defined on line {first.key.span.start.line + 1}",
                related=[Related(yf.path, first.key.span, "first definition")],
            )
    for pf in ctx.plugin.python_files.values():
        if pf.problem and pf.problem != "missing":
            yield UNREADABLE.at(pf.path, ZERO_SPAN, f"Python source {ctx.plugin.relative(pf.path)}: {pf.problem}")


@check(MISSING_FILE, OUTSIDE_ROOT)
def references_resolve(ctx: CheckContext) -> Iterator[Finding]:
    for ref in ctx.plugin.refs:
        what = KIND_TITLES.get(ref.target_kind, "file")
        if ref.escapes or ref.target is None:
            yield OUTSIDE_ROOT.at(
                ref.owner,
                ref.span,
                f"'{ref.raw}' is outside the plugin folder: a {what} path must be relative to the plugin root and stay inside it",
            )
            continue
        if ref.exists:
            continue
        if ref.target_kind == ICON:
            msg = f"icon '{ref.raw}' not found in {ICON_FOLDER}/ (packaging fails with \"plugin icon not found\")"
        else:
            msg = f"{what} '{ref.raw}' not found (paths are relative to the plugin root {ctx.plugin.root.name}/)"
        yield MISSING_FILE.at(ref.owner, ref.span, msg, target=str(ref.target))


@check(UNREFERENCED_TOOL)
def tools_are_listed(ctx: CheckContext) -> Iterator[Finding]:
    for yf in ctx.plugin.loose_tools:
        root = yf.root
        ident = root.pair("identity") if root else None
        span = ident.key.span if ident else ZERO_SPAN
        rel = ctx.plugin.relative(yf.path)
        yield UNREFERENCED_TOOL.at(
            yf.path,
            span,
            f"this tool is not listed in any tool provider's `tools`, so Dify never loads it (add '{rel}' to a provider's tools list)",
        )

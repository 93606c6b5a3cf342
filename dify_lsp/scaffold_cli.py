"""``dify-lsp new tool NAME [--plugin DIR] [--provider FILE]``: scaffold a tool on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dify_lsp import i18n
from dify_lsp.index import PluginIndex, norm

# The parser is built at every start of the command line (the language server's too): the scaffold
# (and the Python scanner it uses) is imported by `dify-lsp new` itself.
if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.scaffold import Scaffold

EXIT_OK, EXIT_USAGE = 0, 2


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = "Create new plugin pieces from templates that `dify-lsp check` accepts and `dify-lsp run` runs."
    kinds = parser.add_subparsers(dest="new_kind", metavar="KIND")
    tool = kinds.add_parser(
        "tool",
        help="a tool: its YAML and Python, listed in the plugin's tool provider",
        description="Create tools/NAME.yaml and tools/NAME.py (a Tool subclass reading one `query` parameter) "
        "and add the YAML to the tool provider's `tools` list.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes:\n  0  created\n  2  usage error: no plugin, no tool provider, an invalid or taken name",
    )
    tool.add_argument("name", metavar="NAME", help="the tool's identity.name (letters, digits, '_' and '-')")
    tool.add_argument("--plugin", default=".", metavar="DIR", help="the plugin folder, or a folder inside it (default: .)")
    tool.add_argument("--provider", metavar="FILE", help="the tool provider YAML to list the tool in (when the plugin has several)")


def write_scaffold(plan: Scaffold) -> list[Path]:
    """Create the files and apply the edits; returns every path written."""
    from dify_lsp.yamledit import apply_edits

    written: list[Path] = []
    for path, text in plan.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="\n") as fh:  # never overwrite
            fh.write(text)
        written.append(path)
    by_path: dict[Path, list] = {}
    for edit in plan.edits:
        by_path.setdefault(edit.path, []).append(edit)
    for path, edits in by_path.items():
        text = path.read_text(encoding="utf-8")
        path.write_text(apply_edits(text, edits), encoding="utf-8")
        written.append(path)
    return written


def command(args: argparse.Namespace) -> int:
    from dify_lsp.scaffold import ScaffoldError, new_tool

    language = i18n.choose()
    if args.new_kind != "tool":
        print(i18n.tr(i18n.N_("dify-lsp new: say what to create: dify-lsp new tool NAME"), language), file=sys.stderr)
        return EXIT_USAGE
    index = PluginIndex()
    start = norm(args.plugin)
    root = index.root_for(start) if start.exists() else None
    if root is None:
        print(i18n.tr(i18n.msg("dify-lsp new tool: {path}: no Dify plugin (manifest.yaml) found", path=args.plugin), language), file=sys.stderr)
        return EXIT_USAGE
    plugin = index.plugin_at(root)
    provider = norm(args.provider) if args.provider else None
    try:
        plan = new_tool(plugin, index.source, args.name, provider)
        written = write_scaffold(plan)
    except ScaffoldError as exc:
        print(f"dify-lsp new tool: {i18n.tr(exc.args[0] if exc.args else str(exc), language)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"dify-lsp new tool: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)  # the system's own words
        return EXIT_USAGE
    for path in written:
        said = i18n.msg("created {path}", path=plugin.relative(path)) if path in plan.files else i18n.msg("updated {path}", path=plugin.relative(path))
        print(i18n.tr(said, language))
    return EXIT_OK

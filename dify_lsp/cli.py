"""Command line: serve LSP (default), `check`, `rules`, `run`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from dify_lsp import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _setup_logging(level: str) -> None:
    # Logs go to stderr (and window/logMessage once serving); stdout carries LSP.
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dify-lsp",
        description="Language server, checker and test runner for Dify plugins. With no command it serves LSP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"dify-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve LSP over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (with --tcp)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (with --tcp)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("serve", help="serve LSP (the default)")

    chk = sub.add_parser("check", help="check plugins without an editor (for CI and pre-commit)")
    chk.add_argument("paths", nargs="*", default=["."], help="plugin folders, files inside plugins, or folders to search for plugins")
    chk.add_argument("--format", choices=["text", "json"], default="text")
    chk.add_argument("--disable", action="append", default=[], metavar="FAMILY", help="turn off a rule family (repeatable)")

    rules = sub.add_parser("rules", help="list every rule with its code and description")
    rules.add_argument("--format", choices=["text", "markdown", "json"], default="text")

    run = sub.add_parser("run", help="run a test invocation of a tool, as the Dify daemon would")
    try:
        from dify_lsp.invocation import cli as run_cli
    except ImportError:  # pragma: no cover - the invocation engine ships with the package
        run_cli = None
    if run_cli is not None:
        run_cli.configure_parser(run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    _setup_logging(args.log_level)
    command = args.command or "serve"
    if command == "serve":
        return serve(args)
    if command == "check":
        return cmd_check(args.paths, args.format, args.disable)
    if command == "rules":
        return cmd_rules(args.format)
    if command == "run":
        from dify_lsp.invocation import cli as run_cli

        return run_cli.command(args)
    parser.print_usage(sys.stderr)
    return EXIT_USAGE


def serve(args: argparse.Namespace) -> int:
    from dify_lsp.server import create_server

    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return EXIT_OK


# -- check -------------------------------------------------------------------


def _display_path(arg: str, arg_abs: Path, file: Path) -> str:
    try:
        rel = file.relative_to(arg_abs)
    except ValueError:
        return str(file)
    if arg in (".", "./"):
        return rel.as_posix()
    return os.path.join(arg, rel.as_posix()) if str(rel) != "." else arg


def cmd_check(paths: list[str], fmt: str, disable: list[str] | None = None) -> int:
    from dify_lsp.checker import check_plugin
    from dify_lsp.index import PluginIndex, find_plugin_roots, norm
    from dify_lsp.textpos import utf16_col

    index = PluginIndex()
    settings = {"diagnostics": {family: False for family in (disable or [])}}
    rows = []
    usage_error = False
    seen_roots: set[Path] = set()
    for arg in paths:
        p = norm(arg)
        if not p.exists():
            print(f"dify-lsp check: {arg}: no such file or folder", file=sys.stderr)
            usage_error = True
            continue
        base = p if p.is_dir() else p.parent
        root = index.root_for(p)
        roots = [root] if root is not None else find_plugin_roots(p)
        if not roots:
            print(f"dify-lsp check: {arg}: no Dify plugin (manifest.yaml) found", file=sys.stderr)
            usage_error = True
            continue
        for root in roots:
            if root in seen_roots:
                continue
            seen_roots.add(root)
            report = check_plugin(index, root, settings)
            for crash in report.crashes:
                print(f"dify-lsp check: internal error in {crash}", file=sys.stderr)
            texts = {}
            for f in report.findings:
                if p.is_file() and f.path != p:
                    continue
                if f.path not in texts:
                    ft = index.source.read(f.path)
                    texts[f.path] = (ft.text or "").split("\n")
                lines = texts[f.path]
                rows.append((_display_path(arg, base, f.path), f, lines))
    errors = 0
    if fmt == "json":
        out = []
        for display, f, lines in rows:
            def pos(pt, lines=lines):
                text = lines[pt.line] if pt.line < len(lines) else ""
                return {"line": pt.line, "character": utf16_col(text, pt.col)}

            out.append({
                "path": display,
                "range": {"start": pos(f.span.start), "end": pos(f.span.end)},
                "severity": f.severity.label,
                "code": f.code,
                "message": f.message,
            })
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for display, f, _ in rows:
            print(f"{display}:{f.span.start.line + 1}:{f.span.start.col + 1}: {f.severity.label} {f.code} {f.message}")
        if rows:
            counts: dict[str, int] = {}
            for _, f, _ in rows:
                counts[f.severity.label] = counts.get(f.severity.label, 0) + 1
            summary = ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in sorted(counts.items()))
            print(f"{len(seen_roots)} plugin{'s' if len(seen_roots) != 1 else ''} checked: {summary}", file=sys.stderr)
        elif seen_roots:
            print(f"{len(seen_roots)} plugin{'s' if len(seen_roots) != 1 else ''} checked: no problems", file=sys.stderr)
    errors = sum(1 for _, f, _ in rows if f.severity.label == "error")
    if usage_error:
        return EXIT_USAGE
    return EXIT_FINDINGS if errors else EXIT_OK


def cmd_rules(fmt: str) -> int:
    from dify_lsp.rules import iter_rules, rules_markdown

    if fmt == "markdown":
        print(rules_markdown())
    elif fmt == "json":
        print(json.dumps([
            {"code": r.code, "name": r.name, "severity": r.severity.label, "family": r.family, "description": r.description}
            for r in iter_rules()
        ], indent=2))
    else:
        for r in iter_rules():
            print(f"{r.code}  {r.name:<28} {r.severity.label:<11} {r.description}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

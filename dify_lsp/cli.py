"""Command line: serve LSP (default), `check`, `rules`, `schema`, `run`, `mcp`."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import re
import sys
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from dify_lsp import __version__, i18n

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.settings import ServerSettings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

EXIT_CODES_HELP = i18n.N_("""\
exit codes:
  0  no finding at or above the --fail-on severity (default: error)
  1  at least one finding at or above it
  2  usage error: unknown option or rule selector, a path that does not exist or holds no plugin""")

SERVER_ON_TERMINAL = i18n.N_("""\
dify-lsp is a language server: it speaks the Language Server Protocol on stdin/stdout and is now
waiting for an editor to connect. Editors start it themselves (see the README's "Editor setup").
To check plugins from the shell:   dify-lsp check PATH      (dify-lsp --help for every command)
Press Ctrl-C to stop.""")

# argparse's own texts (usage line, section titles, -h, error messages), as it passes them to gettext,
# so that `--help` and usage errors are in the user's language too (Python 3.11 to 3.13 wordings).
ARGPARSE_TEXTS = (
    i18n.N_("usage: "),
    i18n.N_("positional arguments"),
    i18n.N_("options"),
    i18n.N_("show this help message and exit"),
    i18n.N_("show program's version number and exit"),
    i18n.N_("%(prog)s: error: %(message)s\n"),
    i18n.N_("argument %(argument_name)s: %(message)s"),
    i18n.N_("unrecognized arguments: %s"),
    i18n.N_("the following arguments are required: %s"),
    i18n.N_("one of the arguments %s is required"),
    i18n.N_("not allowed with argument %s"),
    i18n.N_("ignored explicit argument %r"),
    i18n.N_("expected one argument"),
    i18n.N_("expected at most one argument"),
    i18n.N_("expected at least one argument"),
    i18n.N_("expected %s argument"),
    i18n.N_("expected %s arguments"),
    i18n.N_("ambiguous option: %(option)s could match %(matches)s"),
    i18n.N_("unexpected option string: %s"),
    i18n.N_("invalid %(type)s value: %(value)r"),
    i18n.N_("invalid choice: %(value)r (choose from %(choices)s)"),
    i18n.N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    i18n.N_("can't open '%(filename)s': %(error)s"),
)


class _ArgparseLanguage:
    """argparse asks ``gettext`` for its own texts; while this is active it gets them from our catalogs."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __enter__(self) -> "_ArgparseLanguage":
        self.saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
        if self.language != i18n.ENGLISH:
            cat = i18n.catalog(self.language)
            argparse._ = cat.gettext  # type: ignore[attr-defined]
            argparse.ngettext = lambda one, many, n: cat.gettext(one if n == 1 else many)  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc) -> None:
        argparse._, argparse.ngettext = self.saved  # type: ignore[attr-defined]


_FORMATTERS: dict[type, type] = {}


def _translating_formatter(base: type) -> type:
    """``base`` (a HelpFormatter class) saying help texts, descriptions and epilogs in the parser's language."""
    if base not in _FORMATTERS:

        class Translating(base):  # type: ignore[misc, valid-type]
            language = i18n.ENGLISH

            def _get_help_string(self, action):
                return i18n.tr(action.help, self.language) if action.help and action.help is not argparse.SUPPRESS else action.help

            def add_text(self, text):
                super().add_text(i18n.tr(text, self.language) if text and text is not argparse.SUPPRESS else text)

            def start_section(self, heading):
                super().start_section(i18n.tr(heading, self.language) if heading else heading)

            def _split_lines(self, text, width):
                if self.language == i18n.ENGLISH:
                    return super()._split_lines(text, width)
                return _wrap_cjk(self._whitespace_matcher.sub(" ", text).strip(), width)

            def _fill_text(self, text, width, indent):
                if self.language == i18n.ENGLISH or isinstance(self, argparse.RawDescriptionHelpFormatter):
                    return super()._fill_text(text, width, indent)
                return "\n".join(indent + line for line in _wrap_cjk(self._whitespace_matcher.sub(" ", text).strip(), width - len(indent)))

            def format_help(self):
                text = super().format_help()
                if self.language == i18n.ENGLISH:
                    return text
                # argparse ends each section heading with an ASCII colon; CJK text takes a full-width one.
                return "\n".join(line[:-1] + "：" if line.endswith(":") and i18n.CJK.search(line) and not line.startswith(" ") else line
                                 for line in text.split("\n"))

        _FORMATTERS[base] = Translating
    return _FORMATTERS[base]


_TOKEN = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+")


def _wrap_cjk(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns (a CJK character takes two) that break between CJK characters
    or at spaces, never inside a Latin word, and never start with closing punctuation."""
    lines: list[str] = []
    line, used = "", 0
    for token in _TOKEN.findall(text):
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in token)
        if line.strip() and used + w > width and token not in "，。、：；）」』！？":
            carry = ""
            if line.rstrip()[-1] in "（「『" and len(line.rstrip()) > 1:  # an opening bracket goes with what it opens
                line, carry = line.rstrip()[:-1], line.rstrip()[-1]
            lines.append(line.rstrip())
            line, used = carry, 2 * len(carry)
        line, used = line + token, used + w
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help is formatted in ``language`` (subcommand parsers are built as the same class).

    ``epilog_of`` makes the epilog when help is shown: every start of the command line builds the parser
    (the server's too), and an epilog naming the rule families would import every rule."""

    language = i18n.ENGLISH

    def __init__(self, *args, epilog_of=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.epilog_of = epilog_of

    def format_help(self):
        if self.epilog_of is not None and self.epilog is None:
            self.epilog = self.epilog_of()
        return super().format_help()

    def _get_formatter(self):
        formatter = _translating_formatter(self.formatter_class)(prog=self.prog)
        formatter.language = self.language
        return formatter


def _parser_class(language: str) -> type[argparse.ArgumentParser]:
    return type("Parser", (_Parser,), {"language": language})


def argv_language(argv: Sequence[str]) -> str:
    """The language a command line asks for (``--lang X`` / ``--lang=X``), else the environment's."""
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    return i18n.choose(lang)


def _setup_logging(level: str) -> None:
    # Logs go to stderr (and window/logMessage once serving); stdout carries LSP.
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _check_epilog() -> str:
    from dify_lsp.rules.registry import families
    from dify_lsp.report import FORMAT_HELP

    # Each part is a catalog text of its own: the formatter translates the whole epilog (a message)
    # and each format's line (a message argument) in the parser's language.
    formats = _Lines([i18n.msg("  {name} {text}", name=f"{name:<7}", text=i18n.Message(text)) for name, text in FORMAT_HELP.items()])
    return i18n.msg(
        """\
formats (--format):
{formats}

rule selectors (--select, --extend-select, --ignore; comma-separated or repeated):
  a code (DL209), a code prefix (DL2), a family ({families}) or ALL.
  The most specific selector wins: --select DL2 --ignore DL209 keeps every DL2xx rule but DL209.
  `dify-lsp rules` lists every code with its family.

configuration: [tool.dify-lsp] in the plugin's pyproject.toml (or one in a folder above it, up to the
repository root) with select, extend-select, ignore, fail-on and per-file-ignores; the command line's
--select replaces its select, --extend-select and --ignore add to it. The language server reads it too.

suppression: `# noqa: DL209` (or a bare `# noqa`) at the end of a line silences findings on that line,
in Python and YAML alike; an unused `# noqa: DLxxx` code is reported as DL020 (hint).

{exit_codes}""",
        formats=formats,
        families=i18n.Listing(families()),
        exit_codes=i18n.Message(EXIT_CODES_HELP),
    )


class _Lines(i18n.Message):
    """Several messages, one per line, each said in the reader's language."""

    def __new__(cls, lines: list[i18n.Message]) -> "_Lines":
        self = i18n.Message.__new__(cls, "\n".join(lines))
        self.lines = lines
        return self

    def translate(self, language: str) -> str:
        return "\n".join(line.translate(language) for line in self.lines)


LANG_HELP = i18n.N_(
    "language of messages: en_US, zh_Hans (zh, zh-CN) or ja_JP (ja); default: LANGUAGE / LC_ALL / LANG, "
    "else English. Codes and JSON field names never change; JSON adds message_en"
)


def build_parser(language: str = i18n.ENGLISH) -> argparse.ArgumentParser:
    """The command line; its help (argparse's own texts too, while :class:`_ArgparseLanguage` is
    active) is said in ``language``."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = _parser_class(language)(
        prog="dify-lsp",
        description="Language server, checker and test runner for Dify plugins. With no command it serves LSP over stdio.",
        formatter_class=raw,
        epilog="Run `dify-lsp COMMAND --help` for a command's options, formats and exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"dify-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve LSP over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (with --tcp)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (with --tcp)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"],
                        help=i18n.N_("how much the server logs on stderr (default: warning)"))
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("serve", help="serve LSP (the default)", description="Serve LSP over stdio (or TCP with --tcp before the command). Editors start this.")

    from dify_lsp.report import FORMATS

    chk = sub.add_parser(
        "check",
        help="check plugins without an editor (for CI and pre-commit)",
        description="Check Dify plugins with the same rules the editor shows. A PATH is a plugin folder, a file "
        "inside a plugin (only its findings are shown), or a folder searched for plugins.",
        formatter_class=raw,
        epilog_of=_check_epilog,
    )
    chk.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="plugin folders, files inside plugins, or folders to search for plugins (default: .)")
    chk.add_argument("--format", choices=FORMATS, default="text", help="output format (see below; default: text)")
    chk.add_argument("-o", "--output-file", metavar="FILE", help="write the findings to FILE instead of stdout")
    chk.add_argument("--select", action="append", default=[], metavar="SELECTOR", help="report only these rules (replaces the configuration's select)")
    chk.add_argument("--extend-select", action="append", default=[], metavar="SELECTOR", help="report these rules too")
    chk.add_argument("--ignore", action="append", default=[], metavar="SELECTOR", help="do not report these rules")
    chk.add_argument("--disable", action="append", default=[], metavar="SELECTOR", help="the same as --ignore (kept for old scripts)")
    chk.add_argument("--fail-on", choices=["error", "warning", "information", "hint"], default=None,
                     help="lowest severity that makes the exit code 1 (default: the configuration's fail-on, else error)")
    chk.add_argument("--statistics", action="store_true", help="print how many findings each rule has instead of the findings (text or json)")
    chk.add_argument("--color", "--colour", dest="color", choices=["auto", "always", "never"], default="auto",
                     help="colour the text output (auto: on a terminal unless NO_COLOR is set)")
    chk.add_argument("--show-source", action=argparse.BooleanOptionalAction, default=None,
                     help="show the source line with a caret span under each finding (default: on a terminal)")
    chk.add_argument("--no-cache", action="store_true", help="check every plugin afresh; neither read nor write the result cache")
    chk.add_argument("--cache-dir", metavar="DIR", help="where the result cache lives (default: $XDG_CACHE_HOME/dify-lsp/check)")
    chk.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="processes checking plugins in parallel (default: one per CPU)")
    chk.add_argument("--lang", metavar="LANG", help=LANG_HELP)
    chk.add_argument("--marketplace", action="store_true",
                     help="also run the marketplace family: what Dify Marketplace review blocks or warns about (a PATH may be a .difypkg)")

    rules = sub.add_parser(
        "rules",
        help="list every rule with its code, family and description",
        description="List every rule: code, name, default severity, family and description.",
        formatter_class=raw,
        epilog="formats:\n  text      aligned columns\n  markdown  the table in the README\n  json      a list of {code, name, severity, family, description}\n\n"
        "exit codes:\n  0  listed\n  2  usage error",
    )
    rules.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    rules.add_argument("--lang", metavar="LANG", help="language of the descriptions (as for check; markdown and json stay English unless given)")

    schema = sub.add_parser(
        "schema",
        help="write JSON Schemas of the plugin YAML files (for yaml-language-server)",
        description="Write one JSON Schema per plugin YAML kind (manifest, provider, tool, ...), generated from the "
        "schema data dify-lsp checks with, for editors that use yaml-language-server.",
        formatter_class=raw,
        epilog="use them with a modeline at the top of a YAML file:\n"
        "  # yaml-language-server: $schema=./schemas/tool.schema.json\n"
        "or with the yaml.schemas setting (VS Code's YAML extension):\n"
        '  "yaml.schemas": {"./schemas/manifest.schema.json": "**/manifest.yaml"}\n\n'
        "exit codes:\n  0  written\n  2  usage error or the folder cannot be written",
    )
    schema.add_argument("--out", required=True, metavar="DIR", help="folder to write the schemas into (created if missing)")

    from dify_lsp import scaffold_cli

    scaffold_cli.configure_parser(sub.add_parser("new", help="create a tool (YAML + Python, listed in its provider) from a template"))

    run = sub.add_parser("run", help="run a tool, endpoint, agent strategy, model, datasource or trigger offline, as Dify would")
    try:
        from dify_lsp.invocation import cli as run_cli
    except ImportError:  # pragma: no cover - the invocation engine ships with the package
        run_cli = None
    if run_cli is not None:
        run_cli.configure_parser(run)

    mcp = sub.add_parser(
        "mcp",
        help="serve the Model Context Protocol over stdio, for coding agents (check, explain, run, fix, package)",
        description="Serve dify-lsp's tools to a coding agent (Claude Code, Cursor, Copilot agent mode, Codex, Gemini CLI...) "
        "over the Model Context Protocol on stdin/stdout. Agents start this themselves: see the README's MCP section.",
        formatter_class=raw,
        epilog="exit codes:\n  0  the agent closed the connection; with --call: the tool answered\n  2  usage error, the MCP SDK is not installed (pip install 'dify-lsp[mcp]'), or the called tool answered with an error",
    )
    mcp.add_argument("--lang", metavar="LANG", help="language of the results' messages (as for check); tool descriptions stay English")
    mcp.add_argument("--call", metavar="TOOL", help="call one tool once and print its JSON result instead of serving (for scripts; no agent needed)")
    mcp.add_argument("--args", metavar="JSON", default="{}", help="the tool's arguments as a JSON object (with --call)")

    # the `dify` CLI's commands that the SDK's PluginRunner calls (DIFY_CLI_PATH=$(which dify-lsp))
    sub.add_parser("version", help="print the bare version (what `dify version` prints)")
    from dify_lsp.invocation import plugin_cli

    plugin_cli.configure_parser(sub.add_parser("plugin", help="`dify plugin package|run`: package a plugin, or run it over the JSON-lines protocol"))
    return parser


def _stdout_gone() -> None:
    """The reader of stdout went away (`dify-lsp rules | head`): stop writing without a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def parser_texts() -> list[str]:
    """Every help text, description and epilog of the command line (for the catalogs)."""
    texts: list[str] = []

    def walk(parser: argparse.ArgumentParser) -> None:
        for text in (parser.description, parser.epilog):
            if isinstance(text, str) and not isinstance(text, i18n.Message):
                texts.append(text)
        for group in parser._action_groups:
            for text in (group.title, group.description):
                if isinstance(text, str):
                    texts.append(text)
        for action in parser._actions:
            if isinstance(action.help, str) and action.help is not argparse.SUPPRESS:
                texts.append(action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if isinstance(choice.help, str):
                        texts.append(choice.help)
                seen: set[int] = set()
                for sub in action.choices.values():
                    if id(sub) not in seen:
                        seen.add(id(sub))
                        walk(sub)

    walk(build_parser())
    from dify_lsp.report import FORMAT_HELP

    texts.extend(FORMAT_HELP.values())
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with _ArgparseLanguage(argv_language(argv)) as lang:
        parser = build_parser(lang.language)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    _setup_logging(args.log_level)
    command = args.command or "serve"
    try:
        if command == "serve":
            return serve(args)
        if command == "check":
            return cmd_check(args)
        if command == "rules":
            return cmd_rules(args.format, args.lang)
        if command == "schema":
            return cmd_schema(args.out)
        if command == "new":
            from dify_lsp import scaffold_cli

            return scaffold_cli.command(args)
        if command == "run":
            from dify_lsp.invocation import cli as run_cli

            return run_cli.command(args)
        if command == "mcp":
            return cmd_mcp(args.lang, args.call, args.args)
        if command in ("version", "plugin"):
            from dify_lsp.invocation import plugin_cli

            return plugin_cli.version_command(args) if command == "version" else plugin_cli.command(args)
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_OK
    parser.print_usage(sys.stderr)
    return EXIT_USAGE


@contextmanager
def _building_what_lives_long() -> Iterator[None]:
    """Start-up makes some hundred thousand objects that live as long as the process (modules, lsprotocol's
    classes and converters, the rule tables): the cyclic collector would walk them again and again while
    they are made, and at every full collection afterwards.  So it pauses meanwhile, and what was made is
    frozen (moved to a generation the collector never walks)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def serve(args: argparse.Namespace) -> int:
    with _building_what_lives_long():
        from dify_lsp.server import create_server

        server = create_server()
    if not args.tcp and sys.stdin.isatty():
        print(i18n.tr(SERVER_ON_TERMINAL, i18n.choose()), file=sys.stderr, flush=True)
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return EXIT_OK


def cmd_mcp(lang: str | None, call: str | None = None, call_args: str = "{}") -> int:
    language = i18n.choose(lang)
    try:
        import mcp  # noqa: F401  # the optional SDK (the `mcp` extra)
    except ImportError:
        print(i18n.tr(i18n.N_("dify-lsp mcp needs the MCP SDK: pip install 'dify-lsp[mcp]' (or pip install 'mcp>=2.3,<3')"), language), file=sys.stderr)
        return EXIT_USAGE
    from dify_lsp.mcp.server import call_once, serve as serve_mcp

    if call is None:
        if sys.stdin.isatty():
            print(i18n.tr(i18n.N_("dify-lsp mcp speaks the Model Context Protocol on stdin/stdout and is now waiting for a coding agent; agents start it themselves (see the README's MCP section). Press Ctrl-C to stop."), language), file=sys.stderr, flush=True)
        return serve_mcp(language)
    try:
        arguments = json.loads(call_args)
    except ValueError as exc:
        arguments = exc
    if not isinstance(arguments, dict):
        print(i18n.tr(i18n.msg("dify-lsp mcp: --args must be a JSON object, e.g. '{example}'", example='{"path": "."}'), language), file=sys.stderr)
        return EXIT_USAGE
    ok, result = call_once(language, call, arguments)
    if not ok:
        print(f"dify-lsp mcp --call {call}: {i18n.tr(result, language)}", file=sys.stderr)  # the program, then its message
        return EXIT_USAGE
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


# -- check -------------------------------------------------------------------


def _selectors(values: list[str], option: str, language: str = i18n.ENGLISH) -> list[str] | None:
    """The selectors of one option, validated; None (after a message) when one is unknown."""
    from dify_lsp.config import parse_selectors

    try:
        parse_selectors(values)
    except ValueError as exc:
        print(f"dify-lsp check: {option}: {i18n.tr(exc.args[0] if exc.args else str(exc), language)}", file=sys.stderr)
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _plugin_roots(paths: list[str], index) -> list[Path]:
    from dify_lsp.index import find_plugin_roots, norm

    roots: list[Path] = []
    for arg in paths:
        p = norm(arg)
        if p.exists():
            root = index.root_for(p)
            roots.extend([root] if root is not None else find_plugin_roots(p))
    return roots


def cmd_check(args: argparse.Namespace) -> int:
    with _building_what_lives_long():
        from dify_lsp.cache import ResultCache
        from dify_lsp.checker import check_root, check_roots
        from dify_lsp.config import FAIL_ON, fail_on_for
        from dify_lsp.index import PluginIndex, find_plugin_roots, norm
        from dify_lsp.report import Row, display_path, rows_of, write
        from dify_lsp.report.text import TextWriter, summary, use_colour, write_statistics, statistics
        from dify_lsp.settings import ServerSettings

    language = i18n.choose(args.lang)
    if args.statistics and args.format not in ("text", "json"):
        print(i18n.tr(i18n.N_("dify-lsp check: --statistics works with --format text or json"), language), file=sys.stderr)
        return EXIT_USAGE
    chosen: dict = {}
    for option, key, values in (("--select", "select", args.select), ("--extend-select", "extendSelect", args.extend_select),
                                ("--ignore", "ignore", [*args.ignore, *args.disable])):
        if values:
            parsed = _selectors(values, option, language)
            if parsed is None:
                return EXIT_USAGE
            chosen[key] = parsed

    if args.marketplace:
        chosen["marketplace"] = True
    settings = ServerSettings.from_client(chosen)
    packages = _check_packages(args.paths, settings)
    index = PluginIndex()
    # Every plugin first (cached ones served, the rest across processes), then the report in argument order.
    # The marketplace family judges the package's file listing, which the result cache does not record.
    cache = None if args.no_cache or args.marketplace else ResultCache(Path(args.cache_dir) if args.cache_dir else None)
    results = check_roots(_plugin_roots([a for a in args.paths if a not in packages], index), settings, jobs=args.jobs, cache=cache)
    rows: list[Row] = []
    usage_error = False
    reports: dict[Path, object] = {}
    shown: set[tuple] = set()
    failing = 0
    for arg in args.paths:
        p = norm(arg)
        if not p.exists():
            print(i18n.tr(i18n.msg("dify-lsp check: {path}: no such file or folder", path=arg), language), file=sys.stderr)
            usage_error = True
            continue
        if arg in packages:
            findings, texts, crashes = packages[arg]
            for crash in crashes:
                print(i18n.tr(i18n.msg("dify-lsp check: internal error in {crash}", crash=crash), language), file=sys.stderr)
            reports[p] = findings
            fail_on = args.fail_on or "error"
            for f in findings:
                rows.append(Row(display_path(arg, p, f.path), f, tuple(texts.get(f.path, "").split("\n")), language))
                failing += f.severity <= FAIL_ON[fail_on]
            continue
        root = index.root_for(p)
        roots = [root] if root is not None else find_plugin_roots(p)
        if not roots:
            print(i18n.tr(i18n.msg("dify-lsp check: {path}: no Dify plugin (manifest.yaml) found", path=arg), language), file=sys.stderr)
            usage_error = True
            continue
        for root in roots:
            if root not in reports:
                report = results.get(root) or check_root(root, settings, cache)
                reports[root] = report
                for crash in report.crashes:
                    print(i18n.tr(i18n.msg("dify-lsp check: internal error in {crash}", crash=crash), language), file=sys.stderr)
            report = reports[root]
            fail_on = args.fail_on or fail_on_for(root, lambda path: index.source.read(path).text) or "error"
            texts: dict[Path, tuple[str, ...]] = {}
            for row in rows_of(report.findings, arg, p, lambda path: index.source.read(path).text, language, shown, texts):
                rows.append(row)
                if row.finding.severity <= FAIL_ON[fail_on]:
                    failing += 1

    code = EXIT_USAGE if usage_error else (EXIT_FINDINGS if failing else EXIT_OK)
    out = open(args.output_file, "w", encoding="utf-8") if args.output_file else sys.stdout
    try:
        colour = use_colour(args.color, out)
        if args.statistics:
            if args.format == "json":
                json.dump(statistics(rows), out, indent=2)
                out.write("\n")
            else:
                write_statistics(rows, out, colour)
        elif args.format == "text":
            show_source = args.show_source if args.show_source is not None else out.isatty()
            TextWriter(out, colour=colour, show_source=show_source).write(rows)
        else:
            write(args.format, rows, out)
        out.flush()
    except BrokenPipeError:
        _stdout_gone()
        return code
    finally:
        if out is not sys.stdout:
            out.close()
    if args.format == "text" and reports:
        print(summary(len(reports), rows, failing, args.fail_on, use_colour(args.color, sys.stderr), language), file=sys.stderr)
    return code


def _check_packages(paths: list[str], settings: "ServerSettings") -> dict[str, tuple]:
    """The .difypkg files among the paths, each checked in place by the marketplace family."""
    from dify_lsp.checker import check_package_file
    from dify_lsp.rules.marketplace.package import is_package_file

    return {arg: check_package_file(Path(os.path.abspath(arg)), settings) for arg in paths if is_package_file(Path(arg))}


def cmd_rules(fmt: str, lang: str | None = None) -> int:
    from dify_lsp.rules.registry import iter_rules, rules_markdown

    # The README table and JSON consumers get English unless a language is named; the terminal gets the user's.
    language = i18n.choose(lang) if lang or fmt == "text" else i18n.ENGLISH
    if fmt == "markdown":
        print(rules_markdown(language))
    elif fmt == "json":
        print(json.dumps([
            {"code": r.code, "name": r.name, "severity": r.severity.label, "family": r.family,
             "description": i18n.tr(r.description, language), "description_en": r.description}
            for r in iter_rules()
        ], indent=2, ensure_ascii=False))
    else:
        rules = list(iter_rules())
        name_w = max(len(r.name) for r in rules)
        family_w = max(len("family"), *(len(r.family) for r in rules))
        print(f"{'code':<6} {'name':<{name_w}}  {'severity':<11} {'family':<{family_w}}  description")
        for r in rules:
            print(f"{r.code:<6} {r.name:<{name_w}}  {r.severity.label:<11} {r.family:<{family_w}}  {i18n.tr(r.description, language)}")
    sys.stdout.flush()
    return EXIT_OK


def cmd_schema(out: str) -> int:
    from dify_lsp.schema_export import write_schemas

    try:
        written = write_schemas(Path(out))
    except OSError as exc:
        print(f"dify-lsp schema: {out}: {exc.strerror or exc}", file=sys.stderr)  # the system's own words
        return EXIT_USAGE
    for path in written:
        print(path)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

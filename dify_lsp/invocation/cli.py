"""`dify-lsp run PLUGIN_DIR --tool NAME ...`: one test invocation from the command line.

Exit codes: 0 the tool succeeded, 1 the tool failed (error, timeout, plugin crash),
2 usage errors (unknown tool, invalid parameters, no interpreter, bad files).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

from dify_lsp import i18n
from dify_lsp.i18n import N_, msg
from dify_lsp.invocation.backends import BACKENDS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a tool of a Dify plugin as the Dify daemon would: the plugin runs over the SDK's stdio protocol and "
        "its reverse invocations (models, storage, apps, tools) are answered by a backend."
    )
    parser.add_argument("plugin_dir", metavar="PLUGIN_DIR", help="the plugin folder (with manifest.yaml)")
    parser.add_argument("--tool", help="tool name (identity.name of the tool YAML); optional when the plugin has one tool")
    parser.add_argument("--provider", help="tool provider name, when several providers have the tool")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a tool parameter (repeatable); values are converted to the declared type; a file/files "
                             "parameter takes a local path (repeat it for several files)")
    parser.add_argument("--params-file", metavar="FILE",
                        help="JSON/YAML: a mapping of parameters, or an invocation file (parameters, credentials, models, responses)")
    parser.add_argument("--credential", action="append", default=[], metavar="NAME=VALUE",
                        help="a provider credential (repeatable); secret-input values are never printed")
    parser.add_argument("--credential-type", choices=["api-key", "oauth"], default="api-key",
                        help="what the credentials are (Dify's credential_type; oauth sends oauth2)")
    parser.add_argument("--validate", action="store_true",
                        help="first run the provider's _validate_credentials, as Dify does when credentials are saved")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="save every blob the tool sends to a file in DIR (named by its meta or mime type)")
    parser.add_argument("--no-saved", action="store_true",
                        help="ignore the saved invocation file <plugin>/.dify/invocations/<tool>.yaml")
    parser.add_argument("--backend", choices=BACKENDS, help="who answers reverse invocations (default: mock)")
    parser.add_argument("--openai-base-url", help="openai backend: base URL (default https://api.openai.com/v1)")
    parser.add_argument("--openai-api-key-env", help="openai backend: NAME of the env var holding the API key (default OPENAI_API_KEY)")
    parser.add_argument("--model", action="append", default=[], metavar="TYPE=MODEL",
                        help="openai backend model mapping, e.g. llm=gpt-4o-mini (repeatable)")
    parser.add_argument("--timeout", type=float, help="seconds before the plugin's process tree is killed (default 60)")
    parser.add_argument("--format", choices=["text", "json"], default="text", dest="output_format")
    parser.add_argument("--lang", metavar="LANG", help="language of the text report: en_US, zh_Hans or ja_JP (default: LANGUAGE / LC_ALL / LANG)")
    parser.add_argument("--python", help="the interpreter to run the plugin with, used as is (default: $DIFY_LSP_PYTHON, "
                        "the plugin's .venv, else an environment built with uv from uv.lock/pyproject.toml/requirements.txt)")
    parser.add_argument("--rebuild-env", action="store_true",
                        help="build the plugin's run environment again (after a change the hash does not see)")
    from dify_lsp.invocation import kinds

    kinds.add_arguments(parser)  # endpoints, agent strategies, models, datasources, triggers


def _pairs(values: list[str], flag: str, repeatable: bool = False) -> dict[str, Any]:
    """NAME=VALUE pairs; with ``repeatable`` a name given several times collects a list (several files)."""
    from dify_lsp.invocation.parameters import InvocationError

    out: dict[str, Any] = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvocationError(f"{flag} {pair.split('=')[0]!r}: expected NAME=VALUE")
        name = name.strip()
        if repeatable and name in out:
            out[name] = [*(out[name] if isinstance(out[name], list) else [out[name]]), value]
        else:
            out[name] = value
    return out


def build_spec(args: argparse.Namespace):
    from dify_lsp.invocation.engine import RunSpec
    from dify_lsp.invocation.parameters import InvocationError, read_invocation_file

    root = Path(args.plugin_dir)
    if not (root / "manifest.yaml").is_file():
        raise InvocationError(f"{args.plugin_dir}: no manifest.yaml (not a Dify plugin folder)")
    invocation = read_invocation_file(Path(args.params_file), plain_parameters=True) if args.params_file else None
    settings: dict[str, Any] = {}
    openai: dict[str, Any] = {}
    if args.openai_base_url:
        openai["baseUrl"] = args.openai_base_url
    if args.openai_api_key_env:
        openai["apiKeyEnv"] = args.openai_api_key_env
    if args.model:
        openai["models"] = _pairs(args.model, "--model")
    if openai:
        settings["openai"] = openai
    return RunSpec(
        plugin_root=root, tool=args.tool, provider=args.provider,
        parameters=_pairs(args.param, "--param", repeatable=True), credentials=_pairs(args.credential, "--credential"),
        invocation=invocation, use_saved=not args.no_saved, backend=args.backend, timeout=args.timeout,
        python=args.python, settings=settings, rebuild_environment=args.rebuild_env,
        credential_type=args.credential_type, validate_credentials=args.validate, out_dir=args.out,
    )


def command(args: argparse.Namespace) -> int:
    from dify_lsp.invocation.engine import run_invocation
    from dify_lsp.invocation.parameters import InvocationError

    fmt = getattr(args, "output_format", "text")
    from dify_lsp.invocation import kinds

    try:
        if kinds.wants(args):  # an endpoint, strategy, model, datasource or trigger run
            return kinds.command(args)
    except InvocationError as exc:
        print(f"dify-lsp run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = build_spec(args)
    except InvocationError as exc:
        print(f"dify-lsp run: {exc}", file=sys.stderr)
        return EXIT_USAGE

    streamed = {"text": False}
    shown_warnings: set[str] = set()

    def progress(kind: str, text: str) -> None:
        if kind == "environment":  # a first build takes a while: say what happens, in both formats
            print(f"[environment] {text}", file=sys.stderr, flush=True)
            return
        if fmt != "text":
            return
        if kind == "status" and text.startswith("starting "):
            print(f"[run] {text}", file=sys.stderr)
        elif kind == "text":
            sys.stdout.write(text)
            sys.stdout.flush()
            streamed["text"] = True
        elif kind == "message":
            print(("\n" if streamed["text"] else "") + text)
            streamed["text"] = False
        elif kind in ("log", "warning"):
            if kind == "warning":
                shown_warnings.add(text)
            print(f"[{kind}] {text}", file=sys.stderr)

    async def main() -> Any:
        task = asyncio.ensure_future(run_invocation(spec, progress))
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, task.cancel)
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass
        return await task

    try:
        result = asyncio.run(main())
    except InvocationError as exc:
        print(f"dify-lsp run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except asyncio.CancelledError:
        print("\n" + i18n.tr(N_("dify-lsp run: cancelled; the plugin's process tree was killed"), i18n.choose(getattr(args, "lang", None))), file=sys.stderr)
        return EXIT_FAILED
    if fmt == "json":
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        if streamed["text"]:
            sys.stdout.write("\n")
        print_summary(result, shown_warnings, language=i18n.choose(getattr(args, "lang", None)))
    return EXIT_OK if result.status == "success" else EXIT_FAILED


def print_summary(result, shown_warnings: set[str] = frozenset(), out=None, language: str = i18n.ENGLISH) -> None:
    """The text report after a run (stderr), in ``language``; the run's own texts (errors, warnings) as they are."""
    out = out or sys.stderr

    def say(template: str, **args: Any) -> None:
        print(i18n.tr(i18n.Message(template, **args), language), file=out)

    if result.transcript:
        say(N_("--- reverse invocations ({count})"), count=len(result.transcript))
        for entry in result.transcript:
            print(f"{entry['type']} [{entry['backend']}] {entry.get('duration_ms') or 0:.1f} ms", file=out)
            say(N_("  request:  {request}"), request=_short(entry.get("request")))
            if entry.get("error"):
                say(N_("  response: error: {error}"), error=entry["error"])
            else:
                say(N_("  response: {response}"), response=_short(entry.get("response")))
    for w in result.warnings:
        if w in shown_warnings:
            continue
        counted = re.match(r"(.*) \((\d+) times\)$", w, re.S)
        if counted and counted.group(1) in shown_warnings:
            say(N_("warning: the warning above happened {count} times"), count=counted.group(2))
        else:
            say(N_("warning: {warning}"), warning=w)
    if result.error:
        print(f"--- {result.status}: {result.error.get('type')}: {result.error.get('message')}", file=out)
        if result.error.get("traceback"):
            print(result.error["traceback"].rstrip(), file=out)
    else:
        built = i18n.tr(msg("; environment built in {seconds} s", seconds=f"{result.environment_ms / 1000:.1f}"), language) if "just built" in (result.python_source or "") else ""
        say(N_("--- {status} in {ms} ms (plugin start {start} ms{built})"), status=result.status, ms=f"{result.duration_ms:.0f}",
            start=f"{result.startup_ms or 0:.0f}", built=built)
    if result.python:
        print(f"python: {result.python} ({result.python_source})", file=out)


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"

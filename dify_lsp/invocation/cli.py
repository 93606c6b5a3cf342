"""``dify-lsp run PLUGIN_DIR ...``: one run of any plugin kind from the command line (and ``--serve``).

Exit codes: 0 the run succeeded, 1 it failed (the plugin raised or reported an error, an endpoint answered HTTP
5xx, a timeout, a crash, an interrupt), 2 usage errors before anything ran (unknown target, a value that cannot be
converted, required credentials or settings missing, no interpreter).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from dify_lsp import i18n
from dify_lsp.i18n import N_, msg
from dify_lsp.invocation.backends import BACKENDS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a tool, endpoint, agent strategy, model, datasource or trigger of a Dify plugin as the Dify daemon "
        "would: the plugin runs over the SDK's stdio protocol and its reverse invocations (models, storage, apps, "
        "tools) are answered by a backend."
    )
    parser.add_argument("plugin_dir", metavar="PLUGIN_DIR", help="the plugin folder (with manifest.yaml)")
    parser.add_argument("--tool", help="tool name (identity.name of the tool YAML); optional when the plugin has one tool")
    parser.add_argument("--provider", help="the provider, when several have the target")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter (repeatable); values are converted to the declared type; a file/files "
                             "parameter takes a local path (repeat it for several files)")
    parser.add_argument("--params-file", metavar="FILE",
                        help="JSON/YAML: a mapping of parameters, or an invocation file (parameters, credentials, models, responses)")
    parser.add_argument("--credential", action="append", default=[], metavar="NAME=VALUE",
                        help="a credential of the provider (repeatable); declared defaults fill the rest; "
                             "secret-input values are never printed")
    parser.add_argument("--credential-type", choices=["api-key", "oauth"], default="api-key",
                        help="what the credentials are (Dify's credential_type; oauth sends oauth2)")
    parser.add_argument("--validate", action="store_true",
                        help="tools: first run the provider's _validate_credentials, as Dify does when credentials are saved")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="save every blob the tool sends to a file in DIR (named by its meta or mime type)")
    parser.add_argument("--no-saved", action="store_true",
                        help="ignore the saved invocation file <plugin>/.dify/invocations/<name>.yaml")
    parser.add_argument("--backend", choices=BACKENDS, help="who answers reverse invocations (default: mock)")
    parser.add_argument("--openai-base-url", help="openai backend: base URL (default https://api.openai.com/v1)")
    parser.add_argument("--openai-api-key-env", help="openai backend: NAME of the env var holding the API key (default OPENAI_API_KEY)")
    parser.add_argument("--model", action="append", default=[], metavar="TYPE/NAME | TYPE=MODEL",
                        help="TYPE/NAME runs that model of a model provider plugin (e.g. llm/gpt-4o); TYPE=MODEL maps a "
                             "model type to a model of the openai backend (e.g. llm=gpt-4o-mini; repeatable)")
    parser.add_argument("--timeout", type=float, help="seconds before the plugin's process tree is killed (default 60)")
    parser.add_argument("--format", choices=["text", "json"], default="text", dest="output_format")
    parser.add_argument("--lang", metavar="LANG", help="language of the text report: en_US, zh_Hans or ja_JP (default: LANGUAGE / LC_ALL / LANG)")
    parser.add_argument("--python", help="the interpreter to run the plugin with, used as is (default: $DIFY_LSP_PYTHON, "
                        "the plugin's .venv, else an environment built with uv from uv.lock/pyproject.toml/requirements.txt)")
    parser.add_argument("--rebuild-env", action="store_true",
                        help="build the plugin's run environment again (after a change the hash does not see)")
    parser.add_argument("--debug", metavar="[HOST:]PORT",
                        help="run the plugin under debugpy listening on HOST:PORT (default host 127.0.0.1); the run "
                             "waits until a debugger attaches, then breakpoints in the plugin's code are hit")
    group = parser.add_argument_group("endpoints, agent strategies, models, datasources and triggers")
    group.add_argument("--endpoint", metavar="'METHOD /path'", help="call an endpoint with this request line")
    group.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="a request header (repeatable)")
    group.add_argument("--body", metavar="TEXT|@FILE", help="the request body (@FILE reads a file)")
    group.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                       help="an endpoint setting (repeatable; converted to its declared type, defaults filled)")
    group.add_argument("--serve", type=int, metavar="PORT",
                       help="serve the plugin's endpoints (or trigger webhooks) on 127.0.0.1:PORT until Ctrl-C (0: any port)")
    group.add_argument("--strategy", metavar="NAME", help="run an agent strategy")
    group.add_argument("--agent-tool", dest="agent_tools", action="append", default=[], metavar="PROVIDER/TOOL",
                       help="a tool the agent may call (repeatable); found in the plugin or a --tool-plugin folder")
    group.add_argument("--tool-plugin", dest="tool_plugins", action="append", default=[], metavar="DIR",
                       help="a plugin folder whose tools answer session.tool.invoke (repeatable)")
    group.add_argument("--prompt", help="model runs: the prompt (llm), text (embedding, moderation, tts) or query (rerank)")
    group.add_argument("--datasource", metavar="NAME", help="run a datasource")
    group.add_argument("--trigger", choices=["dispatch", "subscribe", "validate", "unsubscribe", "refresh"],
                       help="trigger plugins: dispatch a webhook request (--request/--header/--body), subscribe, "
                            "validate credentials, unsubscribe or refresh a subscription")
    group.add_argument("--request", dest="request_line", metavar="'METHOD /path'",
                       help="trigger dispatch: the webhook's request line; a tool provider's get_credentials: the OAuth callback")
    group.add_argument("--subscription", action="append", default=[], metavar="NAME=VALUE",
                       help="trigger: a property of the subscription (repeatable), e.g. a signing secret")
    group.add_argument("--action", dest="access_action", metavar="ACTION",
                       help="an access action other than the kind's default (e.g. validate_tool_credentials, "
                            "validate_provider_credentials, get_ai_model_schemas, validate_datasource_credentials)")


def _pairs(values: list[str], flag: str, sep: str = "=") -> list[tuple[str, str]]:
    from dify_lsp.invocation.parameters import InvocationError

    out = []
    for pair in values:
        name, found, value = pair.partition(sep)
        if not found or not name.strip():
            raise InvocationError(msg("{flag} {given}: expected NAME{sep}VALUE", flag=flag,
                                      given=repr(pair.split(sep)[0]), sep=sep))
        out.append((name.strip(), value.strip() if sep == ":" else value))
    return out


def _collect(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """NAME=VALUE pairs; a name given several times collects a list (several files, several tools)."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            out[name] = [*(out[name] if isinstance(out[name], list) else [out[name]]), value]
        else:
            out[name] = value
    return out


def build_request(args: argparse.Namespace):
    """The :class:`~dify_lsp.invocation.request.RunRequest` of a ``run`` command line."""
    from dify_lsp.invocation.debugging import parse_address
    from dify_lsp.invocation.kinds import json_value
    from dify_lsp.invocation.parameters import InvocationError, read_invocation_file
    from dify_lsp.invocation.request import RunRequest

    root = Path(args.plugin_dir)
    if not (root / "manifest.yaml").is_file():
        raise InvocationError(msg("{path}: no manifest.yaml (not a Dify plugin folder)", path=args.plugin_dir))
    model = next((m for m in args.model if "/" in m and "=" not in m), None)
    kind = ("endpoint" if args.endpoint or args.serve is not None else "strategy" if args.strategy else
            "model" if model else "datasource" if args.datasource else
            "trigger" if args.trigger or (args.request_line and not args.tool) else "tool" if args.tool else None)
    # --request is a webhook for a trigger, and the OAuth callback for a tool provider's get_credentials
    target = {"endpoint": args.endpoint, "strategy": args.strategy, "model": model, "datasource": args.datasource,
              "trigger": args.trigger or ("dispatch" if args.request_line else None), "tool": args.tool}.get(kind or "")
    body = b""
    if args.body:
        try:
            body = Path(args.body[1:]).read_bytes() if args.body.startswith("@") else args.body.encode("utf-8")
        except OSError as exc:
            raise InvocationError(msg("--body {path}: {reason}", path=args.body[1:], reason=exc.strerror or str(exc))) from None
    settings: dict[str, Any] = {}
    openai: dict[str, Any] = {}
    if args.openai_base_url:
        openai["baseUrl"] = args.openai_base_url
    if args.openai_api_key_env:
        openai["apiKeyEnv"] = args.openai_api_key_env
    mapping = [m for m in args.model if "=" in m]
    if mapping:
        openai["models"] = dict(_pairs(mapping, "--model"))
    if openai:
        settings["openai"] = openai
    parameters = _collect(_pairs(args.param, "--param"))
    parameters.update(_collect(_pairs(args.setting, "--setting")))
    agent_tools = list(args.agent_tools)
    if kind == "strategy" and args.tool:  # with --strategy, `--tool provider/tool` names an agent tool
        agent_tools.append(args.tool)
    return RunRequest(
        plugin_root=root, kind=kind, target=target, provider=args.provider, action=args.access_action,
        parameters=parameters, credentials=dict(_pairs(args.credential, "--credential")),
        credential_type=args.credential_type, validate_credentials=args.validate,
        headers=_pairs(args.header, "--header", ":"), body=body, prompt=args.prompt, request_line=args.request_line,
        subscription={k: json_value(v) for k, v in _pairs(args.subscription, "--subscription")},
        agent_tools=agent_tools, tool_plugins=[Path(p) for p in args.tool_plugins], backend=args.backend,
        settings=settings, timeout=args.timeout, python=args.python, rebuild_environment=args.rebuild_env,
        use_saved=not args.no_saved,
        invocation=read_invocation_file(Path(args.params_file), plain_parameters=True) if args.params_file else None,
        out_dir=args.out, debug=parse_address(args.debug) if args.debug else None,
    )


def command(args: argparse.Namespace) -> int:
    """``dify-lsp run``: exit 0 on success, 1 on failure, 2 on usage errors."""
    import asyncio

    from dify_lsp.invocation.parameters import InvocationError
    from dify_lsp.invocation.processes import run_main
    from dify_lsp.invocation.runner import run

    language = i18n.choose(getattr(args, "lang", None))
    fmt = getattr(args, "output_format", "text")

    def usage(exc: BaseException) -> int:
        text = exc.args[0] if exc.args else str(exc)
        print(f"dify-lsp run: {i18n.tr(text, language)}", file=sys.stderr)
        return EXIT_USAGE

    try:
        request = build_request(args)
    except (InvocationError, OSError) as exc:
        return usage(exc)
    if args.serve is not None:
        from dify_lsp.invocation.serve import serve

        def ready(bound: int) -> None:
            print(i18n.tr(msg("serving {plugin} on http://127.0.0.1:{port}/ (Ctrl-C stops)", plugin=str(request.plugin_root),
                              port=bound), language), file=sys.stderr, flush=True)

        try:
            return run_main(lambda: serve(request, args.serve, ready))
        except InvocationError as exc:
            return usage(exc)
        except asyncio.CancelledError:
            return EXIT_OK

    printer = Printer(fmt, language, request)
    try:
        result = run_main(lambda: run(request, printer.progress))
    except InvocationError as exc:
        return usage(exc)
    except asyncio.CancelledError:
        print("\n" + i18n.tr(N_("dify-lsp run: cancelled; the plugin's process tree was killed"), language), file=sys.stderr)
        return EXIT_FAILED
    if fmt == "json":
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        printer.finish(result)
    return EXIT_OK if result.status == "success" else EXIT_FAILED


class Printer:
    """The text output of a run: streamed text on stdout, progress on stderr, then the report."""

    def __init__(self, fmt: str, language: str, request: Any = None) -> None:
        self.request = request  # its kind is known once the run resolved it
        self.fmt = fmt
        self.language = language
        self.streamed = False
        self.shown_warnings: set[str] = set()

    def progress(self, kind: str, text: str) -> None:
        if kind == "environment":  # a first build takes a while: say what happens, in both formats
            print(f"[environment] {i18n.tr(text, self.language)}", file=sys.stderr, flush=True)
            return
        if kind == "debug":  # whatever the format: the user attaches now
            print(f"[debug] {i18n.tr(text, self.language)}", file=sys.stderr, flush=True)
        elif self.fmt != "text":
            return
        elif kind == "status" and text.startswith("starting "):
            print(f"[run] {i18n.tr(text, self.language)}", file=sys.stderr, flush=True)
        elif kind == "text":
            sys.stdout.write(text)
            sys.stdout.flush()
            self.streamed = True
        elif kind == "message" and getattr(self.request, "kind", "tool") == "tool" and \
                (getattr(self.request, "action", None) or "invoke_tool") == "invoke_tool":  # the rest: a summary at the end
            print(("\n" if self.streamed else "") + text)
            self.streamed = False
        elif kind in ("log", "warning"):
            if kind == "warning":
                self.shown_warnings.add(str(text))
            print(f"[{kind}] {i18n.tr(text, self.language)}", file=sys.stderr)

    def finish(self, result: Any) -> None:
        if self.streamed:
            sys.stdout.write("\n")
        print_result(result, self.shown_warnings, language=self.language)


def print_result(result: Any, shown_warnings: set[str] = frozenset(), out: Any = None,
                 language: str = i18n.ENGLISH) -> None:
    """What a run gave: the answer on stdout (an endpoint's HTTP response, a summary), the report on stderr."""
    err = out or sys.stderr
    stdout = sys.stdout if out is None else out

    def say(template: str, **kw: Any) -> None:
        print(i18n.tr(i18n.Message(template, **kw), language), file=err)

    summary = result.summary
    if result.kind == "endpoint" and isinstance(summary, dict) and summary.get("status") is not None:
        print(f"HTTP {summary['status']}", file=stdout)
        for k, v in (summary.get("headers") or {}).items():
            print(f"{k}: {v}", file=stdout)
        print("", file=stdout)
        body = summary.get("body")
        print(body if isinstance(body, str) else json.dumps(body), file=stdout)
    elif summary not in (None, [], {}) and not (result.kind == "tool" and result.action == "invoke_tool") and \
            not (result.kind in ("model", "strategy") and isinstance(summary, dict) and "text" in summary):
        # a tool's messages and a model's or agent's text were streamed already
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str), file=stdout)
    if result.transcript:
        say(N_("--- reverse invocations ({count})"), count=len(result.transcript))
        for entry in result.transcript:
            print(f"{entry['type']} [{entry['backend']}] {entry.get('duration_ms') or 0:.1f} ms", file=err)
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
        print(f"--- {result.status}: {result.error.get('type')}: {i18n.tr(result.error.get('message'), language)}",
              file=err)
        if result.error.get("traceback"):
            print(str(result.error["traceback"]).rstrip(), file=err)
        elif result.error.get("type") not in ("Timeout", "Cancelled", "HTTPError", "PluginExited"):
            say(N_("(no traceback: the SDK sent none with this error; dify-plugin 0.10.2 sends the plugin's traceback with every exception it catches)"))
    else:
        built = i18n.tr(msg("; environment built in {seconds} s", seconds=f"{(result.environment_ms or 0) / 1000:.1f}"),
                        language) if "just built" in (result.python_source or "") else ""
        say(N_("--- {status}: {kind} {target} ({action}) in {ms} ms (plugin start {start} ms{built})"),
            status=result.status, kind=result.kind, target=result.target, action=result.action,
            ms=f"{result.duration_ms:.0f}", start=f"{result.startup_ms or 0:.0f}", built=built)
    if result.python:
        print(f"python: {result.python} ({result.python_source})", file=err)


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"

"""The MCP server: dify-lsp's tools over stdio on the official ``mcp`` SDK (``MCPServer``).

Tool names, descriptions and input schemas are written for a model choosing among tools, so they stay in
English whatever the server's language (the agent reads them, not the user, and they are part of the
protocol surface clients cache); what the tools return (findings, rule and key descriptions, errors) is in
the server's language (``dify-lsp mcp --lang``), with English beside translated finding messages.

Every input is validated from the signatures below (pydantic): a wrong type, a missing argument or a value
out of range is an MCP error result, as is input the engine cannot use (:class:`RequestError`); a bug is
logged to stderr and answered with an error result, never a crash. stdout carries the protocol only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context  # resolved from this module's globals: tool signatures name it
from pydantic import Field

from dify_lsp import __version__
from dify_lsp.i18n import Listing, msg, tr
from dify_lsp.mcp import operations
from dify_lsp.mcp.operations import RequestError
from dify_lsp.schema.references import YAML_KINDS

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
dify-lsp knows Dify plugins (manifest.yaml, provider/tool/model/endpoint/agent-strategy/datasource/trigger YAML
and their Python code on the dify_plugin SDK 0.10.2). Typical loop: plugin_parts to see what a plugin has;
check_plugin after every change (findings have stable DLxxx codes, exact ranges and sometimes quick fixes);
apply_fix for a finding with fixes, or edit the file yourself; explain_rule for a code; session_api before
writing self.session.* calls; yaml_key before writing a YAML key you are unsure of; run_plugin to run a tool,
endpoint, strategy, model, datasource or trigger offline with a mock model (it executes the plugin's code);
new_tool to add a tool from a template; package_plugin to build the .difypkg. Paths are absolute or relative to
the directory the server was started in. The dify-plugin-yaml JSON Schemas are resources."""

Path_ = Annotated[str, Field(min_length=1, max_length=4096, description="a plugin folder, or a file or folder inside a plugin (absolute, or relative to the server's working directory)")]
Selectors = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)]


def _call(language: str, fn, *args, **kwargs) -> dict[str, Any]:
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        return fn(*args, **kwargs)
    except RequestError as exc:
        raise ToolError(exc.text(language)) from None


def create_server(language: str):
    """The server with every tool and resource, answering in ``language``."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.mcpserver.resources import TextResource
    from mcp.types import ToolAnnotations

    server = MCPServer("dify-lsp", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

    @server.tool(annotations=read_only)
    def check_plugin(
        path: Path_,
        select: Annotated[Selectors, Field(description="report only these rules: codes (DL209), prefixes (DL2), families (files, schema, python, permissions) or ALL")] = [],
        ignore: Annotated[Selectors, Field(description="do not report these rules (same selector forms as select)")] = [],
        marketplace: Annotated[bool, Field(description="also judge what Dify Marketplace review blocks or warns about (the DL6xx family); path may then be a .difypkg")] = False,
    ) -> dict[str, Any]:
        """Check a Dify plugin (or one file of it) with every dify-lsp rule, exactly as `dify-lsp check --format json`.

        Use it after every edit of a plugin's YAML or Python, before running or packaging. Returns `findings`: each
        with `code` (DLxxx, stable; explain_rule tells more), `severity` (error: Dify rejects the plugin or the
        code fails at run time; warning: probably wrong; hint: worth a look), `message`, `range` (0-based line and
        UTF-16 character, as LSP), `path` and absolute `file`, `related` places, and `fixes` (index, title): pass
        one to apply_fix to have it written. `counts` per severity. The plugin's [tool.dify-lsp] configuration
        and `# noqa` comments apply. Before a Marketplace submission, set marketplace=true (on the folder, then on
        the .difypkg from package_plugin).
        """
        return _call(language, operations.check, path, language, select=select, ignore=ignore, marketplace=marketplace)

    @server.tool(annotations=read_only)
    def explain_rule(code: Annotated[str, Field(min_length=1, max_length=20, description="a rule code such as DL207")]) -> dict[str, Any]:
        """Explain a dify-lsp rule code (DLxxx): its name, severity, family, what really happens in Dify or the
        SDK when the mistake is left in, and how to silence it (a `# noqa: DLxxx` comment or the pyproject
        ignore list) when the finding is intended."""
        return _call(language, operations.explain_rule, code, language)

    @server.tool(annotations=read_only)
    def session_api(
        name: Annotated[str, Field(max_length=200, description="a dotted path after the session, e.g. model.llm.invoke, self.session.app.chat.invoke, storage, tool.invoke, or '' for the session itself; or a model config class such as LLMModelConfig")] = "",
    ) -> dict[str, Any]:
        """Look up Dify's reverse-invocation API, `self.session.*` (SDK dify-plugin 0.10.2): the signature,
        each parameter (type, required, default, which *ModelConfig class it must be), the return type, the
        manifest permission the daemon checks (resource.permission.*), the SDK release that added it and an
        example. A namespace (session.model, session.app) lists its members. Use it before writing or
        changing any self.session call; a name that does not exist gets the members that do."""
        return _call(language, operations.session_api, name, language)

    @server.tool(annotations=read_only)
    def yaml_key(
        key: Annotated[str, Field(max_length=300, description="a dotted key path, e.g. parameters.type, identity.name, resource.permission.model, credentials_for_provider; lists are stepped through; '' for the top-level keys")] = "",
        kind: Annotated[Literal[YAML_KINDS] | None, Field(description="the file kind")] = None,  # type: ignore[valid-type]
        file: Annotated[str | None, Field(max_length=4096, description="a YAML file of a plugin, instead of kind: its kind is found from the manifest's references")] = None,
    ) -> dict[str, Any]:
        """Look up a key of a Dify plugin YAML file (manifest, tool_provider, tool, model_provider, model,
        endpoint_group, endpoint, agent_provider, agent_strategy, datasource_provider, datasource,
        trigger_provider, trigger_event...): its type, whether it is required, what it means, the allowed values
        with their meaning, the format, bounds, the SDK release that introduced it, renamed values, and the keys
        below it. Give the kind, or a file to take the kind from."""
        return _call(language, operations.yaml_key, language, key=key, kind=kind, file=file)

    @server.tool(annotations=read_only)
    def plugin_parts(path: Path_) -> dict[str, Any]:
        """List what a Dify plugin is made of, as dify-lsp's index reads it from manifest.yaml: name, author,
        version and permissions; every provider, tool, model, endpoint, agent strategy, datasource, trigger and
        event file with its name, Python source, declared parameters / credentials / settings and the files it
        lists; the Python files the SDK loads; and `runnable`: the kind and target to pass to run_plugin. Reads
        files only; runs nothing."""
        return _call(language, operations.plugin_parts, path, language)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True))
    async def run_plugin(
        plugin: Path_,
        kind: Annotated[Literal["tool", "endpoint", "strategy", "model", "datasource", "trigger"], Field(description="what to run")] = "tool",
        target: Annotated[str | None, Field(max_length=1000, description="tool: its name; endpoint: the request line 'POST /path'; strategy and datasource: the name; model: TYPE/NAME such as llm/gpt-x; trigger: dispatch, subscribe or validate. plugin_parts lists them; optional when the plugin has one")] = None,
        parameters: Annotated[dict[str, Any], Field(description="tool / strategy / datasource / trigger event parameters; for an endpoint its settings. A file parameter takes a local path")] = {},
        credentials: Annotated[dict[str, Any], Field(description="provider credentials (declared defaults fill the rest; secret values are masked in the result)")] = {},
        provider: Annotated[str | None, Field(max_length=200, description="the provider, when the plugin has several")] = None,
        headers: Annotated[dict[str, str], Field(description="endpoint or trigger dispatch: request headers")] = {},
        body: Annotated[str, Field(max_length=10_000_000, description="endpoint or trigger dispatch: the request body")] = "",
        prompt: Annotated[str | None, Field(description="model: the prompt or text sent to the model")] = None,
        action: Annotated[str | None, Field(max_length=100, description="an action other than the kind's default, e.g. validate_tool_credentials, validate_provider_credentials, get_ai_model_schemas, fetch_parameter_options")] = None,
        validate_credentials: Annotated[bool, Field(description="tool: run the provider's _validate_credentials first, as Dify does when credentials are saved")] = False,
        subscription: Annotated[dict[str, Any], Field(description="trigger: the subscription's properties")] = {},
        request_line: Annotated[str | None, Field(max_length=1000, description="trigger dispatch: the webhook request line, default 'POST /webhook'")] = None,
        agent_tools: Annotated[list[str], Field(max_length=50, description="strategy: 'provider/tool' entries of this plugin offered to the agent")] = [],
        backend: Annotated[Literal["mock", "openai"], Field(description="who answers the plugin's self.session model calls: mock (offline, deterministic, the default) or openai (an OpenAI-compatible endpoint, key from OPENAI_API_KEY)")] = "mock",
        timeout: Annotated[float, Field(gt=0, le=600, description="seconds before the run is stopped and its process tree killed")] = 60,
        python: Annotated[str | None, Field(max_length=4096, description="a Python 3.12 interpreter with the plugin's dependencies; default: the plugin's .venv, else an environment dify-lsp builds with uv (the first build takes a while)")] = None,
        use_saved: Annotated[bool, Field(description="merge the saved inputs of .dify/invocations/ under the given ones")] = True,
        ctx: Context = None,  # type: ignore[assignment]  # injected by the SDK, not an argument
    ) -> dict[str, Any]:
        """Run one part of a Dify plugin offline, as the Dify plugin daemon does: start the plugin's own code on
        the SDK's stdio protocol, send the request (invoke a tool; call an endpoint with an HTTP request; run an
        agent strategy, a model, a datasource; dispatch or subscribe a trigger), answer the plugin's reverse
        invocations (self.session.model/app/tool/storage...) with a mock model by default, enforce the
        manifest's permissions, and return the structured result: `status` (success, error, timeout), the
        tool's `messages` and `text` or the kind's `summary` (an endpoint's status, headers and body), the
        `transcript` of reverse invocations, `logs`, `warnings`, and `error` with the plugin's traceback. This
        EXECUTES the plugin's Python code; check_plugin first. Use it to debug a plugin without Dify."""
        from dify_lsp.mcp.run_adapter import RunRequest, RunUsageError, run

        root = _call(language, lambda: {"root": operations._plugin_root(plugin)})["root"]
        request = RunRequest(
            plugin=Path(root), kind=kind, target=target, provider=provider, parameters=parameters, credentials=credentials,
            headers=headers, body=body, prompt=prompt, action=action, validate_credentials=validate_credentials,
            request_line=request_line, subscription=subscription, agent_tools=agent_tools,
            backend=backend, timeout=timeout, python=python, use_saved=use_saved,
        )
        try:
            return await run(request, _progress_reporter(ctx))
        except RunUsageError as exc:
            raise ToolError(tr(exc.args[0] if exc.args else str(exc), language)) from None

    @server.tool(annotations=writes)
    def apply_fix(
        path: Annotated[str, Field(min_length=1, max_length=4096, description="the file the finding is in (its `file` or `path` from check_plugin)")],
        code: Annotated[str, Field(min_length=1, max_length=20, description="the finding's code, e.g. DL306")],
        line: Annotated[int | None, Field(ge=0, description="the finding's range.start.line (0-based), when the file has several findings with this code")] = None,
        character: Annotated[int | None, Field(ge=0, description="the finding's range.start.character")] = None,
        fix: Annotated[int, Field(ge=0, description="which of the finding's fixes (its `fix` index; 0 is the first)")] = 0,
    ) -> dict[str, Any]:
        """Write a quick fix of a check_plugin finding into the plugin's files (comments and formatting of the
        YAML are kept), then check again. Only for findings whose `fixes` list is not empty. Returns what was
        written, whether the finding is gone, and the findings left in that file."""
        return _call(language, operations.apply_fix, path, code, language, line=line, character=character, fix=fix)

    @server.tool(annotations=writes)
    def new_tool(
        plugin: Path_,
        name: Annotated[str, Field(min_length=1, max_length=128, description="the tool's identity.name: letters, digits, '_' and '-'")],
        provider: Annotated[str | None, Field(max_length=4096, description="the tool provider YAML to list it in, when the plugin has several")] = None,
    ) -> dict[str, Any]:
        """Create a new tool in a tool plugin from dify-lsp's template: tools/NAME.yaml (one `query` parameter)
        and tools/NAME.py (a Tool subclass), listed in the tool provider's `tools`. The result checks clean and
        runs with run_plugin; then edit both files. Returns the files created and updated and the findings."""
        return _call(language, operations.new_tool, plugin, name, language, provider=provider)

    @server.tool(annotations=writes)
    def package_plugin(
        plugin: Path_,
        output: Annotated[str | None, Field(max_length=4096, description="the .difypkg file to write; default: <plugin folder name>.difypkg beside the plugin folder")] = None,
        max_size_mb: Annotated[int, Field(ge=1, le=1024, description="the largest uncompressed size allowed, in MB (Dify's default is 50)")] = 50,
    ) -> dict[str, Any]:
        """Build the plugin's .difypkg as `dify plugin package` does (files minus .difyignore / .gitignore,
        every referenced YAML and icon present, the size limit), for installing in Dify or submitting to the
        Marketplace. Run check_plugin first: packaging does not judge the plugin's content."""
        return _call(language, operations.package, plugin, language, output=output, max_size_mb=max_size_mb)

    from dify_lsp.schema_export import json_schema, kinds, schema_file_name

    for kind in kinds():
        server.add_resource(TextResource(
            uri=f"dify-lsp://schemas/{schema_file_name(kind)}", name=schema_file_name(kind),
            description=f"JSON Schema of a Dify plugin {kind} YAML file (what dify-lsp checks it against)",
            mime_type="application/schema+json", text=json.dumps(json_schema(kind), ensure_ascii=False, indent=2),
        ))
    return server


# What a run says while it goes that an agent (and its user) wants to see: the steps of a first environment
# build (a minute or more), the run starting, warnings. Streamed text and logs stay in the result.
_PROGRESS_KINDS = frozenset({"environment", "status", "warning"})


def _progress_reporter(ctx):
    """A runner progress callback that sends MCP progress notifications (when the client asked for them by
    sending a progress token); callable from the event loop and from the environment build's thread."""
    import asyncio

    if ctx is None:
        return None
    loop = asyncio.get_running_loop()
    count = [0]

    def progress(what: str, text: str) -> None:
        if what not in _PROGRESS_KINDS:
            return
        count[0] += 1
        line = text if len(text) <= 500 else text[:500] + "…"
        try:
            asyncio.run_coroutine_threadsafe(ctx.report_progress(count[0], None, f"[{what}] {line}"), loop)
        except RuntimeError:  # the loop is closing: the run is over
            pass

    return progress


def serve(language: str) -> int:
    """Serve MCP on stdin/stdout until the client closes them."""
    create_server(language).run("stdio")
    return 0


def call_once(language: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """One tool call without a client (``dify-lsp mcp --call``, the agent skill's scripts): the same tool,
    validation and result as over the protocol. (True, structured result) or (False, why not, as a message:
    the SDK's "Error executing tool" wrapper is for a model; a person at a terminal reads the cause)."""
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import ValidationError

    async def call() -> tuple[bool, Any]:
        server = create_server(language)
        names = [t.name for t in await server.list_tools()]
        if tool not in names:
            return False, msg("no tool '{tool}'; the tools: {tools}", tool=tool, tools=Listing(sorted(names)))
        try:
            result = await server.call_tool(tool, arguments)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                # pydantic's own words, one line per argument
                problems = Listing(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in cause.errors())
                return False, msg("the arguments do not fit the tool's input schema: {problems}", problems=problems)
            if isinstance(cause, ToolError):  # a dify-lsp message, already in the user's language
                return False, str(cause)
            return False, msg("the tool failed: {error}", error=f"{type(cause).__name__}: {cause}" if cause else str(exc))
        if result.is_error:
            return False, "\n".join(getattr(c, "text", "") for c in result.content)
        return True, result.structured_content

    return anyio.run(call)

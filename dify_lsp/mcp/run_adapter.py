"""The one place the MCP server hands a run to the runner: a request in, the runner's structured result out.

The unified runner (:mod:`dify_lsp.invocation.runner`, ``await run(RunRequest) -> RunResult``) is used when this
checkout has it; until then tools run through :func:`dify_lsp.invocation.engine.run_invocation` and every other
kind through :func:`dify_lsp.invocation.kinds.run_kind`. Each starts the plugin on the SDK's stdio protocol as the
daemon does, answers its reverse invocations with the backend asked for (the offline ``mock`` by default), kills
the process tree afterwards and masks secret-input values in what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

KINDS = ("tool", "endpoint", "strategy", "model", "datasource", "trigger")

ProgressFn = Callable[[str, str], None]  # (what, text): environment, status, log, text, message, invoke, warning


@dataclass
class RunRequest:
    plugin: Path
    kind: str = "tool"
    target: str | None = None  # tool, "METHOD /path", strategy, "TYPE/NAME", datasource, trigger action
    provider: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # endpoint settings for an endpoint
    credentials: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    prompt: str | None = None
    request_line: str | None = None
    agent_tools: list[str] = field(default_factory=list)
    backend: str = "mock"
    timeout: float | None = None
    python: str | None = None
    use_saved: bool = True


class RunUsageError(Exception):
    """The runner refused the request before starting the plugin (unknown target, missing parameter...)."""


async def run(request: RunRequest, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Run one request; the runner's JSON result (``status``, ``messages`` / ``summary``, ``transcript``,
    ``logs``, ``warnings``, ``error`` with the plugin's traceback...)."""
    from dify_lsp.invocation.parameters import InvocationError

    try:
        try:
            from dify_lsp.invocation import runner
        except ImportError:  # a checkout from before the runner was unified
            return await _run_separately(request, progress)
        unified = runner.RunRequest(
            plugin_root=request.plugin, kind=request.kind, target=request.target, provider=request.provider,
            parameters=dict(request.parameters), credentials=dict(request.credentials),
            headers=list(request.headers.items()), body=request.body.encode("utf-8"), prompt=request.prompt,
            request_line=request.request_line, agent_tools=list(request.agent_tools), backend=request.backend,
            timeout=request.timeout, python=request.python, use_saved=request.use_saved,
        )
        return (await runner.run(unified, progress)).to_json()
    except InvocationError as exc:
        raise RunUsageError(str(exc)) from None


async def _run_separately(request: RunRequest, progress: ProgressFn | None) -> dict[str, Any]:
    if request.kind == "tool":
        from dify_lsp.invocation.engine import RunSpec, run_invocation

        spec = RunSpec(
            plugin_root=request.plugin, tool=request.target, provider=request.provider,
            parameters=dict(request.parameters), credentials=dict(request.credentials), use_saved=request.use_saved,
            backend=request.backend, timeout=request.timeout, python=request.python,
        )
        return (await run_invocation(spec, progress)).to_json()
    from dify_lsp.invocation.kinds import KindRun, run_kind

    kind_run = KindRun(
        plugin_root=request.plugin, kind=request.kind, name=request.target, provider=request.provider,
        parameters=dict(request.parameters), credentials=dict(request.credentials),
        headers=list(request.headers.items()), body=request.body.encode("utf-8"), prompt=request.prompt,
        request_line=request.request_line, agent_tools=list(request.agent_tools), backend=request.backend,
        timeout=request.timeout, python=request.python, use_saved=request.use_saved,
    )
    return (await run_kind(kind_run, progress)).to_json()

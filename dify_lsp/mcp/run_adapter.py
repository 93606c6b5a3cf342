"""The one place the MCP server hands a run to the runner: a request in, the runner's structured result out.

:func:`dify_lsp.invocation.runner.run` starts the plugin on the SDK's stdio protocol as the daemon does, answers
its reverse invocations with the backend asked for (the offline ``mock`` by default), kills the process tree
afterwards and masks secret-input values in what it returns; this module only maps the tool's arguments onto
its :class:`~dify_lsp.invocation.request.RunRequest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ProgressFn = Callable[[str, str], None]  # (what, text): environment, status, log, text, message, invoke, warning


@dataclass
class RunRequest:
    plugin: Path
    kind: str = "tool"
    target: str | None = None  # tool, "METHOD /path", strategy, "TYPE/NAME", datasource, trigger action
    provider: str | None = None
    action: str | None = None  # an action other than the kind's default
    parameters: dict[str, Any] = field(default_factory=dict)  # endpoint settings for an endpoint
    credentials: dict[str, Any] = field(default_factory=dict)
    validate_credentials: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    prompt: str | None = None
    request_line: str | None = None
    subscription: dict[str, Any] = field(default_factory=dict)
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
    from dify_lsp.invocation import runner
    from dify_lsp.invocation.request import UsageError

    unified = runner.RunRequest(
        plugin_root=request.plugin, kind=request.kind, target=request.target, provider=request.provider,
        action=request.action, parameters=dict(request.parameters), credentials=dict(request.credentials),
        validate_credentials=request.validate_credentials, headers=list(request.headers.items()),
        body=request.body.encode("utf-8"), prompt=request.prompt, request_line=request.request_line,
        subscription=dict(request.subscription), agent_tools=list(request.agent_tools), backend=request.backend,
        timeout=request.timeout, python=request.python, use_saved=request.use_saved,
    )
    try:
        return (await runner.run(unified, progress)).to_json()
    except UsageError as exc:
        raise RunUsageError(exc.args[0] if exc.args else str(exc)) from None  # a catalog message stays one

"""Every access type of the plugin protocol, on one running plugin.

The daemon reaches a plugin with requests of ``{"type": <access type>, "action":
<access action>, ...fields}`` (the SDK's ``core/entities/plugin/request.py``).
:data:`ACCESS_ACTIONS` lists them as data; :class:`PluginHost` runs one plugin
process and sends any number of such requests to it, concurrently, streaming
each raw chunk the plugin writes as it comes, answering the plugin's reverse
invocations with a backend (permissions enforced) and, for ``session.tool.invoke``,
with a real run of the named tool of a local plugin (:class:`LocalTools`).

The CLI's ``run`` for every kind, ``dify-lsp plugin run`` (the ``dify`` CLI's line
protocol for the SDK's ``PluginRunner``) and the pytest plugin all sit on it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping, Sequence

from dify_lsp.i18n import msg
from dify_lsp.invocation.backends import Backend, InvokeContext
from dify_lsp.invocation.engine import (
    PluginProcess,
    PluginStartError,
    ReverseInvoker,
    Session,
    resolve_python,
)
from dify_lsp.invocation.parameters import InvocationError, discover_tools, entrypoint, load_manifest

# access type -> the actions of dify-plugin 0.10.2 (PluginInvokeType and its *Actions enums)
ACCESS_ACTIONS: dict[str, tuple[str, ...]] = {
    "tool": ("invoke_tool", "validate_tool_credentials", "get_tool_runtime_parameters"),
    "model": (
        "invoke_llm", "start_polling", "check_polling", "get_llm_num_tokens", "invoke_text_embedding",
        "invoke_multimodal_embedding", "get_text_embedding_num_tokens", "invoke_rerank", "invoke_multimodal_rerank",
        "invoke_tts", "get_tts_model_voices", "invoke_speech2text", "invoke_moderation",
        "validate_provider_credentials", "validate_model_credentials", "get_ai_model_schemas",
    ),
    "endpoint": ("invoke_endpoint",),
    "agent_strategy": ("invoke_agent_strategy",),
    "trigger": (
        "invoke_trigger_event", "validate_trigger_credentials", "dispatch_trigger_event",
        "subscribe_trigger", "unsubscribe_trigger", "refresh_trigger",
    ),
    "oauth": ("get_authorization_url", "get_credentials", "refresh_credentials"),
    "datasource": (
        "validate_datasource_credentials", "invoke_website_datasource_get_crawl",
        "invoke_online_document_datasource_get_pages", "invoke_online_document_datasource_get_page_content",
        "invoke_online_drive_browse_files", "invoke_online_drive_download_file",
    ),
    "dynamic_parameter": ("fetch_parameter_options",),
}

# actions the SDK declares but registers no route for: the plugin ends the session with no answer at all
UNROUTED_ACTIONS: dict[tuple[str, str], str] = {
    ("tool", "get_tool_runtime_parameters"): (
        "dify-plugin 0.10.2 declares tool/get_tool_runtime_parameters but registers no handler for it: "
        "the plugin ends the request without an answer (dynamic-select parameters use "
        "dynamic_parameter/fetch_parameter_options instead)"
    ),
}

DEFAULT_INVOKE_TIMEOUT = 300.0


def access_problem(access_type: Any, action: Any) -> str | None:
    """Why a (type, action) pair cannot be sent to a plugin, or None."""
    if not access_type or not action:
        return "action and type are required"
    actions = ACCESS_ACTIONS.get(str(access_type))
    if actions is None:
        return f"unknown access type {access_type!r} (one of: {', '.join(ACCESS_ACTIONS)})"
    if action not in actions:
        return f"unknown action {action!r} for access type {access_type!r} (one of: {', '.join(actions)})"
    return UNROUTED_ACTIONS.get((str(access_type), str(action)))


class RawSession(Session):
    """A session whose stream chunks are kept as the plugin wrote them (what the daemon forwards)."""

    def __init__(self, session_id: str, on_chunk: Callable[[dict[str, Any]], None] | None = None) -> None:
        super().__init__(session_id)
        self.chunks: list[dict[str, Any]] = []
        self.on_chunk = on_chunk

    def add_stream(self, data: dict[str, Any]) -> None:
        self.chunks.append(data)
        if self.on_chunk is not None:
            self.on_chunk(data)


@dataclass
class Outcome:
    """What one request to the plugin produced."""

    status: str  # success | error | timeout | cancelled | exited
    chunks: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None  # {"type", "message", "traceback"}
    transcript: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def daemon_error_text(self) -> str:
        """The error as the daemon reports a plugin's error: its ErrorResponse as JSON."""
        if self.error is None:
            return ""
        if self.status != "error":
            return str(self.error.get("message"))
        args = {"traceback": self.error["traceback"]} if self.error.get("traceback") else None
        return json.dumps({"args": args, "error_type": self.error.get("type"), "message": self.error.get("message")},
                          ensure_ascii=False)


class PluginHost:
    """One running plugin that takes any number of requests, concurrently."""

    def __init__(
        self,
        plugin_root: Path,
        backend: Backend,
        *,
        python: str | Path | None = None,
        configured_python: str | None = None,
        responses: Mapping[str, Any] | None = None,
        tool_plugins: Sequence[Path] = (),
        on_log: Callable[[str], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        progress: Callable[[str, str], None] | None = None,
        debug: Any = None,
    ) -> None:
        self.root = plugin_root.resolve()
        self.debug = debug  # a DebugListener: the plugin runs under debugpy
        self.backend = backend
        self.manifest: dict[str, Any] = {}  # read in start(), off the event loop
        self.python_setting = str(python) if python else None  # an explicit --python: used as given, or an error
        self.configured_python = configured_python  # the `python` setting
        self.python: Path | None = None
        self.python_source = ""
        self.progress = progress
        self.ctx = InvokeContext(self.root, self.manifest, dict(responses or {}))
        self.local_tools = LocalTools(self, [self.root, *tool_plugins])
        self.ctx.tool_invoker = self.local_tools.invoke
        self.process: PluginProcess | None = None
        self._on_log = on_log
        self._on_warning = on_warning
        self._sessions: dict[str, tuple[RawSession, ReverseInvoker]] = {}

    @property
    def startup_ms(self) -> float | None:
        return self.process.ready_ms if self.process else None

    async def resolve(self, *, rebuild: bool = False, abort: Any = None) -> tuple[Path, str]:
        """Read the manifest and find (or build) the interpreter, in threads; ``abort`` (a threading.Event) stops a
        build at once."""
        loop = asyncio.get_running_loop()

        def step(text: str) -> None:
            if self.progress is not None:
                loop.call_soon_threadsafe(self.progress, "environment", text)

        if not self.manifest:
            self.manifest = await asyncio.to_thread(load_manifest, self.root)
            self.ctx.manifest = self.manifest
        if self.python is None:
            self.python, self.python_source = await asyncio.to_thread(
                lambda: resolve_python(self.root, self.configured_python, explicit=self.python_setting, step=step,
                                       rebuild=rebuild, abort=abort))
        return self.python, self.python_source

    async def start(self, timeout: float = 60.0) -> dict[str, Any]:
        await self.resolve()
        assert self.python is not None
        self.process = PluginProcess(self.root, self.python, entrypoint(self.manifest),
                                     on_log=self._on_log, on_warning=self._on_warning, debug=self.debug)
        return await self.process.start(timeout)

    @property
    def exited(self) -> bool:
        # the stdout reader sets this when the plugin's stdout closes (it exited, or was killed)
        return self.process is None or self.process._exited.is_set()

    async def wait_exited(self) -> None:
        """Return when the plugin process has gone away."""
        if self.process is not None:
            await self.process._exited.wait()

    async def exit_code(self) -> int | None:
        proc = self.process.proc if self.process else None
        if proc is None:
            return None
        try:
            return await asyncio.wait_for(proc.wait(), 2)
        except asyncio.TimeoutError:
            return None

    async def invoke(
        self,
        data: Mapping[str, Any],
        on_chunk: Callable[[dict[str, Any]], None] | None = None,
        *,
        timeout: float | None = DEFAULT_INVOKE_TIMEOUT,
        cancel: asyncio.Event | None = None,
        context: Mapping[str, Any] | None = None,
        session: Session | None = None,
    ) -> Outcome:
        """Send one request (``type``, ``action`` and the request's fields) and wait for its end.

        ``session`` collects what comes back (a tool run's messages and blobs); by default the raw chunks are kept
        in the outcome as the plugin wrote them."""
        t0 = time.perf_counter()
        if self.process is None:
            raise RuntimeError("the plugin is not started")
        session = session or RawSession(uuid.uuid4().hex, on_chunk)
        invoker = ReverseInvoker(self.process, session, self.backend, self.ctx, self.manifest, self.progress)
        session.on_invoke = invoker
        outcome = Outcome(status="error")
        try:
            if self.exited:
                outcome.status = "exited"
                outcome.error = {"type": "PluginExited", "message": await self._exit_text(), "traceback": None}
                return outcome
            try:
                await self.process.request(dict(data), session, **dict(context or {}))
            except (ConnectionError, RuntimeError, OSError) as exc:
                outcome.status = "exited"
                outcome.error = {"type": "PluginExited", "message": f"{await self._exit_text()} ({exc})", "traceback": None}
                return outcome
            waiters = {asyncio.ensure_future(session.done.wait())}
            if cancel is not None:
                waiters.add(asyncio.ensure_future(cancel.wait()))
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
            if session.done.is_set():
                if session.error is not None:
                    outcome.error = session.error
                elif not session.ended:
                    outcome.status = "exited"
                    outcome.error = {"type": "PluginExited", "message": await self._exit_text(),
                                     "traceback": self.process.stderr_text[-8000:] or None}
                else:
                    outcome.status = "success"
            elif cancel is not None and cancel.is_set():
                outcome.status = "cancelled"
                outcome.error = {"type": "Cancelled", "message": msg("the request was cancelled"), "traceback": None}
            else:
                outcome.status = "timeout"
                outcome.error = {"type": "Timeout", "message": msg("the plugin did not finish within {seconds} s",
                                                                  seconds=f"{timeout:g}"),
                                 "traceback": None}
        finally:
            await invoker.close()
            self.process.sessions.pop(session.session_id, None)
            outcome.chunks = session.chunks if isinstance(session, RawSession) else session.results
            outcome.transcript = invoker.transcript
            outcome.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
        return outcome

    async def _exit_text(self) -> str:
        code = await self.exit_code()
        return msg("the plugin exited with code {code} during the invocation", code=code)

    @property
    def warnings(self) -> list[str]:
        found = self.process.warning_summary() if self.process else []
        return found + [w for w in self.ctx.warnings if w not in found]

    async def close(self) -> None:
        await self.local_tools.close()
        if self.process is not None:
            await self.process.kill()

    async def __aenter__(self) -> "PluginHost":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class LocalTools:
    """Answers ``session.tool.invoke`` by running the named tool of a local plugin.

    The plugins searched are the running plugin itself and the folders given
    (``--tool-plugin`` / the ``run.toolPlugins`` setting); each is started once,
    on its first call, and stopped with the host.
    """

    def __init__(self, owner: PluginHost, roots: Sequence[Path]) -> None:
        self.owner = owner
        self.roots = [Path(r).resolve() for r in roots]
        self._index: dict[tuple[str, str], Path] | None = None
        self._hosts: dict[Path, PluginHost] = {}
        self._lock = asyncio.Lock()

    def _tool_index(self) -> dict[tuple[str, str], Path]:
        if self._index is None:
            index: dict[tuple[str, str], Path] = {}
            for root in self.roots:
                if not (root / "manifest.yaml").is_file():
                    continue
                try:
                    for tool in discover_tools(root):
                        index.setdefault((tool.provider, tool.tool), root)
                except (InvocationError, OSError, ValueError):
                    continue
            self._index = index
        return self._index

    def find(self, provider: str, tool: str) -> Path | None:
        index = self._tool_index()
        found = index.get((provider, tool))
        if found is None:  # a provider id such as "author/plugin/provider" names the provider last
            found = index.get((provider.rsplit("/", 1)[-1], tool))
        return found

    def canned(self, provider: str, tool: str) -> Any:
        answers = self.owner.ctx.responses.get("tool") if self.owner.ctx.responses else None
        if isinstance(answers, dict) and not {"type", "message"} <= set(answers):
            return answers.get(f"{provider}/{tool}", answers.get(tool))
        return answers

    async def invoke(self, request: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]] | None:
        """The tool's messages, or None when no local plugin has the tool and nothing is canned."""
        provider, tool = str(request.get("provider") or ""), str(request.get("tool") or "")
        canned = self.canned(provider, tool)
        if canned is not None:
            return _aiter(canned if isinstance(canned, list) else [canned])
        root = await asyncio.to_thread(self.find, provider, tool)
        if root is None:
            return None
        host = await self._host(root)
        if host.exited:
            raise RuntimeError(f"the tool plugin {root.name} is not running")
        outcome = await host.invoke({
            "user_id": "dify-lsp", "type": "tool", "action": "invoke_tool",
            "provider": provider.rsplit("/", 1)[-1], "tool": tool,
            "credentials": dict(request.get("credentials") or {}), "credential_type": "api-key",
            "tool_parameters": dict(request.get("tool_parameters") or {}),
        })
        self.owner.ctx.warnings.extend(w for w in host.warnings if w not in self.owner.ctx.warnings)
        if not outcome.ok:
            raise RuntimeError(f"{provider}/{tool} failed: {(outcome.error or {}).get('message')}")
        return _aiter(outcome.chunks)

    async def prestart(self, refs: Sequence[str]) -> None:
        """Start the plugins of these ``provider/tool`` refs now (an agent run starts them beside the agent)."""
        roots = []
        for ref in refs:
            provider, _, tool = ref.rpartition("/")
            root = await asyncio.to_thread(self.find, provider, tool)
            if root is not None and root not in roots:
                roots.append(root)
        await asyncio.gather(*(self._host(r) for r in roots), return_exceptions=True)

    async def _host(self, root: Path) -> PluginHost:
        async with self._lock:
            host = self._hosts.get(root)
            if host is None:
                host = PluginHost(root, self.owner.backend, configured_python=self.owner.configured_python,
                                  progress=self.owner.progress, responses=self.owner.ctx.responses, tool_plugins=[])
                # a tool run from an agent must not recurse into the agent's own tool table
                host.local_tools = LocalTools(host, [])
                host.ctx.tool_invoker = None
                self._hosts[root] = host
                await host.start()
            return host

    async def close(self) -> None:
        hosts, self._hosts = list(self._hosts.values()), {}
        await asyncio.gather(*(h.close() for h in hosts), return_exceptions=True)


async def _aiter(items: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


__all__ = [
    "ACCESS_ACTIONS", "UNROUTED_ACTIONS", "Outcome", "PluginHost", "PluginStartError", "LocalTools", "RawSession",
    "access_problem",
]

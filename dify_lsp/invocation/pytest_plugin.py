"""A pytest plugin for Dify plugin authors (registered as ``dify_lsp`` through the ``pytest11`` entry point).

Fixtures:

- ``dify_plugin_runner``: a runner for the plugin under test, compatible with the SDK's
  ``dify_plugin.integration.run.PluginRunner`` (``invoke(access_type, access_action, payload, response_type)``
  yields the plugin's chunks, a failure raises ``ValueError``) but running on dify-lsp's engine in-process: no
  ``dify`` binary, no packaging, the plugin's reverse invocations answered offline (``mock``) or by an
  OpenAI-compatible endpoint (``--dify-backend openai``), the manifest's permissions enforced.  It also has
  helpers for the common cases: ``run_tool``, ``call_endpoint``, ``invoke_llm``, ``embed``.
- ``dify_plugin_runner_factory``: the same for any plugin folder, ``factory(path, **options)``.

The plugin under test is ``--dify-plugin PATH`` / the ``dify_plugin`` ini option, else the nearest folder with a
``manifest.yaml`` at or above the test file.  ``--dify-tool-plugin DIR`` (or ``dify_tool_plugins`` in the ini file)
names plugins whose tools answer ``session.tool.invoke``.  The runner is started once per test module.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import queue
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

_END = object()


class DifyPluginRunner:
    """One running plugin, driven from synchronous test code; PluginRunner's ``invoke`` contract."""

    def __init__(self, plugin_path: str | Path, *, backend: str = "mock", settings: Mapping[str, Any] | None = None,
                 python: str | None = None, tool_plugins: list[str | Path] | tuple = (),
                 responses: Mapping[str, Any] | None = None, timeout: float = 300.0) -> None:
        from dify_lsp.invocation.access import PluginHost
        from dify_lsp.invocation.backends import create_backend

        self.plugin_path = Path(plugin_path).resolve()
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dify-plugin-runner", daemon=True)
        self._thread.start()
        self._closed = False
        backend_obj = create_backend(backend, dict(settings or {}), self.plugin_path)
        self.host = PluginHost(self.plugin_path, backend_obj, python=python, responses=responses,
                               tool_plugins=[Path(p) for p in tool_plugins])
        try:
            self._call(self.host.start(timeout))
        except BaseException:
            self.close()
            raise
        # the plugin runs in its own process group: a runner never closed must not outlive the test run
        atexit.register(self.close)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # PluginRunner's contract ---------------------------------------------------------------
    def invoke(self, access_type: Any, access_action: Any, payload: Any, response_type: Any = None) -> Iterator[Any]:
        """Yield the plugin's chunks (validated by ``response_type`` when given); raise ValueError on failure."""
        from dify_lsp.invocation.access import access_problem

        if self._closed:
            raise RuntimeError("the runner is closed")
        access_type, access_action = str(getattr(access_type, "value", access_type)), str(getattr(access_action, "value", access_action))
        problem = access_problem(access_type, access_action)
        if problem:
            raise ValueError({"error": problem})
        request = payload.model_dump(mode="json") if hasattr(payload, "model_dump") else dict(payload)
        data = {"user_id": "dify-lsp-pytest", **request, "type": access_type, "action": access_action}
        chunks: queue.Queue[Any] = queue.Queue()
        future = asyncio.run_coroutine_threadsafe(
            self.host.invoke(data, chunks.put, timeout=self.timeout), self._loop)
        future.add_done_callback(lambda _f: chunks.put(_END))
        while True:
            item = chunks.get()
            if item is _END:
                break
            yield response_type.model_validate(item) if response_type is not None else item
        outcome = future.result()
        if not outcome.ok:
            raise ValueError({"error": outcome.daemon_error_text()})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            if self._loop.is_running():
                self._call(self._shutdown(), 30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            if not self._loop.is_running():
                self._loop.close()

    async def _shutdown(self) -> None:
        await self.host.close()
        await self.host.backend.aclose()

    def __enter__(self) -> "DifyPluginRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # helpers ---------------------------------------------------------------------------------
    def run_tool(self, tool: str, parameters: Mapping[str, Any] | None = None, *, provider: str | None = None,
                 credentials: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """A tool's messages (``{"type", "message", "meta"}`` dicts)."""
        from dify_lsp.invocation.parameters import discover_tools

        if provider is None:
            matches = [t.provider for t in discover_tools(self.plugin_path) if t.tool == tool]
            if len(matches) != 1:
                raise ValueError(f"tool {tool!r}: {'no such tool' if not matches else 'several providers have it'}")
            provider = matches[0]
        return list(self.invoke("tool", "invoke_tool", {
            "provider": provider, "tool": tool, "credentials": dict(credentials or {}), "credential_type": "api-key",
            "tool_parameters": dict(parameters or {})}))

    def call_endpoint(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                      body: bytes | str | Mapping[str, Any] | None = None,
                      settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``{"status", "headers", "body"}`` of an endpoint (body text when UTF-8; a mapping body is sent as JSON)."""
        from dify_lsp.invocation import forms
        from dify_lsp.invocation.kinds import Forms, endpoint_settings, raw_http_request, read_plugin, summarize

        hdrs = dict(headers or {})
        if isinstance(body, Mapping):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        # as Dify does: declared defaults applied, values converted by type, model-selectors filled
        f = Forms(forms.Converters(default_model=self.host.backend.default_model, file_base=self.plugin_path))
        filled = endpoint_settings(read_plugin(self.plugin_path), dict(settings or {}), f.conv, f)
        if f.done.errors:
            raise ValueError({"error": "; ".join(f.done.errors)})
        chunks = list(self.invoke("endpoint", "invoke_endpoint", {
            "settings": filled, "raw_http_request": raw_http_request(method, path, list(hdrs.items()), data)}))
        return summarize("endpoint", "invoke_endpoint", chunks)

    def invoke_llm(self, provider: str, model: str, prompt: str, *, credentials: Mapping[str, Any] | None = None,
                   model_parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A model provider's LLM answer: ``{"text", "chunks", "finish_reason", "usage"}``."""
        from dify_lsp.invocation.kinds import summarize

        chunks = list(self.invoke("model", "invoke_llm", {
            "provider": provider, "model_type": "llm", "model": model, "credentials": dict(credentials or {}),
            "prompt_messages": [{"role": "user", "content": prompt}], "model_parameters": dict(model_parameters or {}),
            "stop": None, "tools": None, "stream": True}))
        return summarize("model", "invoke_llm", chunks)

    def embed(self, provider: str, model: str, texts: list[str], *, credentials: Mapping[str, Any] | None = None) -> list[list[float]]:
        chunks = list(self.invoke("model", "invoke_text_embedding", {
            "provider": provider, "model_type": "text-embedding", "model": model,
            "credentials": dict(credentials or {}), "texts": list(texts), "input_type": "query"}))
        return chunks[0]["embeddings"] if chunks else []

    @property
    def transcript_warnings(self) -> list[str]:
        return self.host.warnings


# -- pytest wiring -------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dify", "Dify plugins (dify-lsp)")
    group.addoption("--dify-plugin", dest="dify_plugin", default=None, help="the plugin folder under test")
    group.addoption("--dify-backend", dest="dify_backend", default=None, choices=["mock", "openai"],
                    help="who answers the plugin's reverse invocations (default mock; openai: OPENAI_BASE_URL/OPENAI_API_KEY)")
    group.addoption("--dify-tool-plugin", dest="dify_tool_plugins", action="append", default=[],
                    help="a plugin folder whose tools answer session.tool.invoke (repeatable)")
    parser.addini("dify_plugin", "the plugin folder under test (relative to the rootdir)", default="")
    parser.addini("dify_backend", "mock (default) or openai", default="mock")
    parser.addini("dify_tool_plugins", "plugin folders whose tools answer session.tool.invoke", type="linelist", default=[])


def _plugin_root(request: pytest.FixtureRequest) -> Path:
    config = request.config
    given = config.getoption("dify_plugin") or config.getini("dify_plugin")
    if given:
        path = Path(given)
        return path if path.is_absolute() else (Path(config.rootpath) / path)
    start = Path(str(request.node.path)).parent if getattr(request.node, "path", None) else Path.cwd()
    for folder in (start, *start.parents):
        if (folder / "manifest.yaml").is_file():
            return folder
    raise pytest.UsageError("dify_plugin_runner: no manifest.yaml at or above the test file; pass --dify-plugin PATH")


def _options(config: pytest.Config) -> dict[str, Any]:
    import os

    backend = config.getoption("dify_backend") or config.getini("dify_backend") or "mock"
    settings: dict[str, Any] = {}
    if backend == "openai":
        settings["openai"] = {"baseUrl": os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"}
    tools = [*config.getoption("dify_tool_plugins"), *config.getini("dify_tool_plugins")]
    root = Path(config.rootpath)
    return {"backend": backend, "settings": settings,
            "tool_plugins": [p if Path(p).is_absolute() else str(root / p) for p in tools]}


@pytest.fixture(scope="module")
def dify_plugin_runner_factory(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``factory(plugin_path, **options)`` -> a started :class:`DifyPluginRunner`, stopped after the module."""
    runners: list[DifyPluginRunner] = []

    def factory(plugin_path: str | Path, **options: Any) -> DifyPluginRunner:
        runner = DifyPluginRunner(plugin_path, **{**_options(request.config), **options})
        runners.append(runner)
        return runner

    yield factory
    for runner in runners:
        runner.close()


@pytest.fixture(scope="module")
def dify_plugin_runner(request: pytest.FixtureRequest, dify_plugin_runner_factory: Any) -> DifyPluginRunner:
    """The plugin under test, started once per module (PluginRunner-compatible ``invoke`` plus helpers)."""
    return dify_plugin_runner_factory(_plugin_root(request))

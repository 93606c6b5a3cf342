"""The one runner of every plugin kind: ``await run(RunRequest(...)) -> RunResult``.

Public API (the CLI's ``run``, ``run --serve``, the editor's ``dify.runInvocation``, the MCP server and the
pytest plugin all use it; keep it stable):

- :class:`RunRequest` - what to run: the plugin folder, the ``kind`` (``tool``, ``endpoint``, ``strategy``,
  ``model``, ``datasource``, ``trigger``; None: the plugin's only kind, or the kind of ``path``), the target
  (``target``: a tool name, ``"METHOD /path"``, a strategy, ``"TYPE/MODEL"``, a datasource, a trigger action), an
  ``action`` other than the kind's default (``validate_tool_credentials``, ``get_ai_model_schemas``,
  ``fetch_parameter_options``, ``get_authorization_url``...), and the inputs (``parameters``, ``credentials``,
  headers, body, prompt, subscription, agent tools...);
- :func:`run` - prepares the run (interpreter and environment, credentials, parameters and settings filled and
  converted by their declared types, permissions), runs it on one plugin host and returns a :class:`RunResult`;
  raises :class:`UsageError` (a :class:`~dify_lsp.invocation.parameters.InvocationError`) before the plugin starts
  when the request cannot run (unknown target, a value that cannot be converted, required credentials missing:
  :class:`MissingValuesError` with ``missing``);
- :class:`RunResult` - one result type for every kind.  ``status`` means the same everywhere: ``success`` (the
  plugin answered and did not fail), ``error`` (the plugin raised, reported an error, or answered an endpoint or
  webhook with HTTP 5xx), ``timeout``, ``cancelled``, ``exited`` (the plugin process ended during the request).
  ``to_json()`` never contains a ``secret-input`` value.

Progress callbacks get ``(what, text)``: ``environment`` (a build step), ``status``, ``log``, ``text`` (streamed
answer text), ``message``, ``invoke`` (reverse invocations) and ``warning``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from dify_lsp.i18n import msg
from dify_lsp.invocation import forms
from dify_lsp.invocation.access import PluginHost, access_problem
from dify_lsp.invocation.backends import create_backend
from dify_lsp.invocation.debugging import debug_listener
from dify_lsp.invocation.engine import (
    DEFAULT_TIMEOUT,
    PYTHON_PRECEDENCE,
    PluginStartError,
    Session,
    blob_file_info,
    coalesce_text,
    describe_message,
    link_local_file,
    serve_local_files,
    unique_path,
)
from dify_lsp.invocation.fileserver import FileServer
from dify_lsp.invocation.kinds import http_failure, prepare, resolve_kind, saved_name, summarize, tool_lookup
from dify_lsp.invocation.masking import SecretMasker
from dify_lsp.invocation.parameters import InvocationFile, invocation_path, load_saved_invocation, read_plugin
from dify_lsp.invocation.request import (
    KINDS,
    STATUSES,
    MissingValuesError,
    ProgressFn,
    RunRequest,
    RunResult,
    UsageError,
)

async def run(request: RunRequest, progress: ProgressFn | None = None,
              cancel: asyncio.Event | None = None) -> RunResult:
    """Run one request of any kind end to end (see the module docstring)."""
    t0 = time.perf_counter()
    root = Path(request.plugin_root).resolve()
    request.kind = await asyncio.to_thread(resolve_kind, request)
    settings = request.settings or {}
    masker = SecretMasker([])

    def report(what: str, text: str) -> None:
        if progress is not None:
            progress(what, masker.text(str(text)))

    plugin = await asyncio.to_thread(read_plugin, root)
    invocation = InvocationFile()
    if request.use_saved:
        invocation = await asyncio.to_thread(load_saved_invocation, root, saved_name(request, plugin))
    if request.invocation is not None:
        invocation = invocation.merged(request.invocation)
    tool_roots = [*request.tool_plugins, *[Path(p) for p in settings.get("toolPlugins") or []]]
    backend_name = request.backend or invocation.backend or settings.get("backend") or "mock"
    timeout = float(request.timeout or invocation.timeout or settings.get("timeout") or DEFAULT_TIMEOUT)
    try:
        backend = create_backend(backend_name, settings, root)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = RunResult(status="error", kind=request.kind, backend=backend.name)
    host: PluginHost | None = None
    files = FileServer()
    abort = threading.Event()  # stops an environment build at once
    try:
        conv = forms.Converters(default_model=backend.default_model, file_base=root,
                                tool_lookup=tool_lookup([root, *[Path(p).resolve() for p in tool_roots]]))
        prepared = await asyncio.to_thread(prepare, request, plugin, invocation, conv)
        masker.add(prepared.secrets)
        result.action = str(prepared.data.get("action"))
        result.target = str(prepared.target)
        result.provider = prepared.provider
        result.parameters = masker(prepared.shown)
        result.invocation_file = str(invocation_path(root, prepared.saved_name))
        result.credential_type = prepared.data.get("credential_type")
        result.warnings.extend(masker(list(prepared.warnings)))
        problem = access_problem(prepared.data.get("type"), prepared.data.get("action"))
        if problem:
            raise UsageError(problem)
        host = PluginHost(root, backend, python=request.python, configured_python=request.python_setting,
                          responses=invocation.responses, tool_plugins=tool_roots,
                          on_log=lambda line: (result.logs.append(masker.text(line)), report("log", line)),
                          on_warning=lambda w: report("warning", w), progress=report,
                          debug=debug_listener(request.debug))
        for w in prepared.warnings:
            report("warning", w)
        t_env = time.perf_counter()
        resolving = asyncio.ensure_future(host.resolve(rebuild=request.rebuild_environment, abort=abort))
        if cancel is not None:
            # a cancelled run stops an environment build at once (the build runs in a thread)
            stop = asyncio.ensure_future(cancel.wait())
            await asyncio.wait({resolving, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not resolving.done():
                abort.set()
                resolving.cancel()
                result.status = "cancelled"
                result.error = {"type": "Cancelled", "message": msg(
                    "the run was cancelled; the plugin's process tree was killed"), "traceback": None}
                return result
        try:
            await resolving
        except asyncio.CancelledError:
            abort.set()
            raise
        result.environment_ms = _ms(t_env)
        result.python, result.python_source = str(host.python), host.python_source
        if request.debug is not None:
            result.debug = await host.debug.prepare(host.python, report)
            host.debug.on_listening = lambda: report("debug", msg(
                "the plugin waits for a debugger on {host}:{port} (attach with debugpy)", host=host.debug.host,
                port=host.debug.port))
        data = await asyncio.to_thread(serve_local_files, prepared.data, files)
        # the timeout covers the plugin, not a first build of its environment nor a debugger's attach
        report("status", msg("starting {kind} {target} with {python} ({source})", kind=request.kind,
                             target=prepared.target, python=str(host.python), source=host.python_source))
        start_timeout = None if request.debug is not None else timeout
        deadline = time.perf_counter() + timeout

        def left() -> float:  # one timeout for the start and the request (a debug run: from the attach on)
            return max(0.1, deadline - time.perf_counter())

        try:
            if request.kind == "strategy" and request.agent_tools:
                # the agent's tool plugins start beside it, not on the model's first tool call
                await asyncio.gather(host.start(start_timeout or timeout),
                                     host.local_tools.prestart(request.agent_tools))
            else:
                await host.start(start_timeout or 10 ** 9)
        except PluginStartError as exc:
            result.error = _start_error(host, exc, timeout)
            result.status = "timeout" if result.error["type"] == "Timeout" else "error"
            return result
        result.startup_ms = host.startup_ms
        if request.debug is not None:
            deadline = time.perf_counter() + timeout
        if prepared.validate is not None:
            report("status", msg("validating the credentials of {provider} (_validate_credentials)",
                                 provider=prepared.provider))
            check = await host.invoke(prepared.validate, timeout=left(), cancel=cancel)
            result.transcript.extend(check.transcript)
            result.validation = _validation(check)
            if not result.validation["valid"]:
                result.status = check.status if check.status != "success" else "error"
                result.error = {"type": (check.error or {}).get("type") or "CredentialValidationError",
                                "message": msg("credentials of `{provider}` refused by _validate_credentials: {reason}",
                                               provider=prepared.provider, reason=result.validation["message"]),
                                "traceback": (check.error or {}).get("traceback")}
                return result
        report("status", msg("plugin ready in {ms} ms; sending {action}", ms=f"{host.startup_ms or 0:.0f}",
                             action=result.action))
        if request.kind == "tool" and result.action == "invoke_tool":
            outcome = await _invoke_tool(host, data, request, result, files, report, left(), cancel)
        else:
            outcome = await host.invoke(data, _chunk_reporter(request.kind, report), timeout=left(), cancel=cancel)
            result.chunks = outcome.chunks
            result.summary = summarize(request.kind, result.action or "", outcome.chunks)
        result.transcript.extend(outcome.transcript)
        result.status, result.error = outcome.status, outcome.error
        if outcome.ok and prepared.then is not None and outcome.chunks:
            await _trigger_events(host, prepared, outcome.chunks[0], result, report, left(), cancel)
        failure = http_failure(request.kind, result.summary) if result.ok else None
        if failure is not None:
            result.status, result.error = "error", failure
        if result.status == "timeout":
            result.error = {**(result.error or {}), "message": msg(
                "the {kind} did not finish within {seconds} s; the plugin's process tree was killed",
                kind=request.kind, seconds=f"{timeout:g}")}
        elif result.status == "cancelled":
            result.error = {**(result.error or {}), "message": msg(
                "the run was cancelled; the plugin's process tree was killed")}
    except asyncio.CancelledError:
        abort.set()
        result.status = "cancelled"
        raise
    except forms.FormError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if host is not None:
            await host.close()
            result.warnings.extend(w for w in masker(host.warnings) if w not in result.warnings)
        await backend.aclose()
        await asyncio.to_thread(files.close)
        result.duration_ms = _ms(t0)
    for attr in ("messages", "chunks", "summary", "transcript", "warnings", "logs", "error"):
        setattr(result, attr, masker(getattr(result, attr)))
    return result


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _start_error(host: PluginHost, exc: Exception, timeout: float) -> dict[str, Any]:
    process = host.process
    stderr = process.stderr_text if process is not None else ""
    message = str(exc)
    kind = "PluginStartError"
    if process is not None and process.ready_ms is None and not process.has_exited:
        kind = "Timeout"
        message = msg("the plugin did not start within {seconds} s (it never declared its manifest); "
                      "the plugin's process tree was killed", seconds=f"{timeout:g}")
    elif "No module named 'dify_plugin'" in stderr:
        message = msg("{reason}; {python} ({source}) cannot import dify_plugin: the plugin's dependencies do not list "
                      "dify_plugin, or the interpreter is not the plugin's (order: {order})", reason=message,
                      python=str(host.python), source=host.python_source, order=PYTHON_PRECEDENCE)
    return {"type": kind, "message": message, "traceback": stderr[-8000:] or None}


def _validation(outcome: Any) -> dict[str, Any]:
    if outcome.status != "success":
        return {"valid": False, "message": (outcome.error or {}).get("message") or outcome.status}
    answer = next((r for r in outcome.chunks if isinstance(r, dict) and "result" in r), None)
    if answer is None:
        return {"valid": False, "message": msg("the plugin gave no validation result")}
    return {"valid": bool(answer.get("result")), "message": None if answer.get("result") else "result: false"}


def _chunk_reporter(kind: str, report: ProgressFn) -> Callable[[dict[str, Any]], None]:
    def on_chunk(chunk: dict[str, Any]) -> None:
        if kind == "model":
            text = ((chunk.get("delta") or {}).get("message") or {}).get("content")
        elif kind == "strategy" and chunk.get("type") == "text":
            text = (chunk.get("message") or {}).get("text")
        else:
            text = None
        if isinstance(text, str):
            report("text", text)
        else:
            report("message", json.dumps(chunk, ensure_ascii=False, default=str)[:1000])

    return on_chunk


async def _invoke_tool(host: PluginHost, data: dict[str, Any], request: RunRequest, result: RunResult,
                       files: FileServer, report: ProgressFn, timeout: float, cancel: asyncio.Event | None) -> Any:
    """A tool's invocation: messages streamed as text and one line per other message, blobs reassembled."""
    saved: set[Path] = set()
    if request.out_dir is not None:
        request.out_dir.mkdir(parents=True, exist_ok=True)

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") == "text":
            report("text", str(message.get("text") or ""))
        else:
            report("message", describe_message(message))

    def on_blob(message: dict[str, Any], content: bytes) -> None:
        message["file"] = blob_file_info(message, len(content))
        if request.out_dir is None:
            message["data_base64"] = base64.b64encode(content).decode()
            return
        path = unique_path(request.out_dir, message["file"]["filename"], saved)
        path.write_bytes(content)
        message["path"] = str(path)

    session = Session(uuid.uuid4().hex, on_message=on_message, on_blob=on_blob)
    outcome = await host.invoke(data, session=session, timeout=timeout, cancel=cancel)
    result.messages = [link_local_file(m, files) for m in coalesce_text(session.messages)]
    for blob_id in session.blobs:
        result.warnings.append(msg("blob {id} was not finished (no end chunk)", id=blob_id))
    return outcome


async def _trigger_events(host: PluginHost, prepared: Any, dispatched: dict[str, Any], result: RunResult,
                          report: ProgressFn, timeout: float, cancel: asyncio.Event | None) -> None:
    events = []
    for follow in prepared.then(dispatched):
        report("status", msg("invoking event {event}", event=follow["event"]))
        more = await host.invoke(follow, timeout=timeout, cancel=cancel)
        result.transcript.extend(more.transcript)
        events.append({"event": follow["event"], "status": more.status,
                       "result": more.chunks[-1] if more.chunks else None, "error": more.error})
        if not more.ok:
            result.status, result.error = more.status, more.error
    result.summary = {**(result.summary or {}), "invoked": events}


def run_sync(request: RunRequest, progress: ProgressFn | None = None) -> RunResult:
    return asyncio.run(run(request, progress))


__all__ = ["KINDS", "STATUSES", "RunRequest", "RunResult", "UsageError", "MissingValuesError", "run", "run_sync"]

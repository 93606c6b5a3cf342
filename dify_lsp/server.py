"""The language server: pygls handlers that translate LSP to engine calls.

One handler per LSP method.  Document sync keeps the editor's text in the
index (unsaved text wins over disk); diagnostics are computed per plugin by
:mod:`dify_lsp.features.diagnostics`; every other request fans out to the
providers registered in :mod:`dify_lsp.features`.

Start-up imports little: the initialize answer needs pygls, lsprotocol, the index and the commands'
names (:mod:`dify_lsp.features.commands`).  The rules and the Python scanner are imported by the first
check (:mod:`dify_lsp.features.diagnostics`), the other feature modules by the first request that asks
them (:func:`_providers_for`), and the settings model (pydantic) when settings are first read
(:attr:`DifyLanguageServer.settings`).  A test checks what is imported before initialize answers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from dify_lsp import __version__, i18n
from dify_lsp.dicts import deep_merge
from dify_lsp.features import (
    CODE_ACTION,
    CODE_LENS,
    COMPLETION,
    DEFINITION,
    DOCUMENT_HIGHLIGHT,
    DOCUMENT_LINK,
    DOCUMENT_SYMBOL,
    HOVER,
    PREPARE_RENAME,
    REFERENCES,
    RENAME,
    SIGNATURE_HELP,
    RequestContext,
)
from dify_lsp.features.client import ClientFeatures, DocumentPositions, uri_to_path
from dify_lsp.features.commands import COMMAND_FEATURES
from dify_lsp.index import Plugin, PluginIndex, TextSource
from dify_lsp.pygls_compat import use_lsp_lines
from dify_lsp.schema.references import PYTHON, TOOL
from dify_lsp.textpos import Pos, engine_text

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.features import Provider
    from dify_lsp.cache import SettingsDigest
    from dify_lsp.findings import Finding
    from dify_lsp.settings import ServerSettings

log = logging.getLogger("dify_lsp")

REQUEST_FAILED = -32803  # LSP ErrorCodes.RequestFailed: the request was valid, its answer is "no"

# How long an async provider (jedi) may take before the request answers without it.
ASYNC_PROVIDER_TIMEOUT = 2.0


class ClientLogHandler(logging.Handler):
    """Forwards log records to the client as window/logMessage (thread-safe)."""

    LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, server: "DifyLanguageServer"):
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed():
            return
        try:
            msg = self.format(record)
        except Exception:  # pragma: no cover
            return
        kind = self.LEVELS.get(record.levelno, types.MessageType.Log)
        params = types.LogMessageParams(type=kind, message=msg)
        try:
            loop.call_soon_threadsafe(self.server.window_log_message, params)
        except RuntimeError:  # loop closed during shutdown
            pass


class DifyLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dify-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.source = TextSource()
        self.index = PluginIndex(self.source)
        # The settings as the client sent them (merged in arrival order); the typed model is built from them
        # when first read, so pydantic is not imported before the initialize answer.
        self._client_settings: dict[str, Any] = {}
        self._settings: tuple[ServerSettings, dict[str, Any]] | None = None  # the model and the object it came from
        # What these client settings validated to at an earlier start (dify_lsp.cache), while the model is not built.
        self.remembered_settings: SettingsDigest | None = None
        self.client_locale: str | None = None  # initialize `locale` (VS Code sends its display language)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.open_paths: dict[Path, str] = {}  # path -> uri of documents open in the editor
        self.client = ClientFeatures(lambda: self.client_capabilities)
        self.positions = DocumentPositions(lambda: self.workspace, self.open_paths, self.source, self.index.caches)
        from dify_lsp.features.diagnostics import DiagnosticsService

        self.diagnostics = DiagnosticsService(self)

    # -- positions (kept in dify_lsp.features.client) ----------------------------
    def from_lsp_position(self, uri: str, position: types.Position) -> Pos:
        return self.positions.from_lsp_position(uri, position)

    # -- documents and contexts -------------------------------------------------
    def kind_of(self, path: Path, fresh: bool = True) -> tuple[str | None, Any]:
        plugin = self.index.plugin_for(path) if fresh else self.index.plugin_for_request(path)
        if plugin is None:
            return (PYTHON if path.suffix == ".py" else None), None
        kind = plugin.kind_of(path)
        if kind is None:
            if path.suffix == ".py":
                kind = PYTHON
            elif any(yf.path == path for yf in plugin.loose_tools):
                kind = TOOL
        return kind, plugin

    def request_context(self, uri: str, fresh: bool = True) -> RequestContext | None:
        """The context of a request; ``fresh=False`` (completion, hover, signature help)
        accepts the plugin as indexed a keystroke ago rather than re-indexing first."""
        path = uri_to_path(uri)
        if path is None:
            return None
        doc = self.workspace.get_text_document(uri)
        kind, plugin = self.kind_of(path, fresh)
        return self.context_for(path, engine_text(doc.source), kind, plugin, uri)

    def context_for(self, path: Path, text: str, kind: str | None, plugin: Plugin | None, uri: str | None = None) -> RequestContext:
        return RequestContext(
            path, uri or path.as_uri(), text, kind, plugin, self.index, self.settings, self.client, self.positions, self, self.language
        )

    # -- what features may ask of the editor (features.Editor) ----------------------
    def findings_for(self, path: Path) -> list[Finding]:
        return self.diagnostics.findings_for(path)

    def document_version(self, uri: str) -> int | None:
        if uri not in self.open_paths.values():
            return None
        return self.workspace.get_text_document(uri).version

    def show_message(self, message: str, level: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=level, message=message))

    @property
    def language(self) -> str:
        """The language of messages, hovers and completion docs (dify_lsp.i18n): the `locale` setting,
        else the client's `locale`, else the environment; a language without a catalog is English."""
        remembered = self.remembered_settings
        locale = remembered.locale if remembered is not None and self._settings is None else self.settings.locale
        return i18n.choose(locale, self.client_locale)

    # -- settings -------------------------------------------------------------------
    @property
    def settings(self) -> ServerSettings:
        return self.settings_and_source()[0]

    @property
    def settings_built(self) -> bool:
        return self._settings is not None

    @property
    def client_settings(self) -> dict[str, Any]:
        """The settings object as the client sent it (all parts merged)."""
        return self._client_settings

    def settings_and_source(self) -> tuple[ServerSettings, dict[str, Any]]:
        """The settings and the client's object they were validated from (taken together: another thread may
        apply new settings meanwhile)."""
        built = self._settings
        if built is None:
            from dify_lsp.settings import ServerSettings

            client = self._client_settings
            built = self._settings = (ServerSettings().merged(client), client)
        return built

    def apply_settings(self, settings: dict[str, Any] | None) -> None:
        """Take the keys the client sent (a whole or partial settings object); invalid values are logged and ignored.

        The settings are the defaults updated by everything the client sent, in order; a value that does not
        validate keeps its default."""
        if not isinstance(settings, dict):
            return
        merged = deep_merge(self._client_settings, settings)
        if merged == self._client_settings:
            return  # the same settings again (workspace/configuration answering what initialize gave)
        self._client_settings = merged
        self._settings = None
        self.remembered_settings = None

    async def pull_configuration(self) -> None:
        if not self.client.configuration:
            return
        try:
            result = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section="dify")])
                ),
                timeout=5,
            )
        except Exception as exc:  # the client may not answer; settings stay as they are
            log.debug("workspace/configuration failed: %s", exc)
            return
        if result and isinstance(result[0], dict):
            self.apply_settings(result[0])


def _providers_for(method: str, kind: str | None) -> list[Provider]:
    # The feature modules are imported by the first request, not with the server (see the module's docstring).
    from dify_lsp.features.registry import providers_for

    return providers_for(method, kind)


async def _collect(method: str, ctx: RequestContext, *args: Any) -> list[Any]:
    """Results of every provider for ``method``, sync ones first, async ones together."""
    results: list[Any] = []
    pending: list[Awaitable[Any]] = []
    for provider in _providers_for(method, ctx.kind):
        try:
            out = provider.fn(ctx, *args)
        except Exception:
            log.exception("provider %s failed", provider.name)
            continue
        if inspect.isawaitable(out):
            pending.append(asyncio.wait_for(out, timeout=ASYNC_PROVIDER_TIMEOUT))
        elif out is not None:
            results.append(out)
    if pending:
        for out in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(out, BaseException):
                if not isinstance(out, asyncio.TimeoutError):
                    log.error("async provider for %s failed: %r", method, out)
            elif out is not None:
                results.append(out)
    return results


async def _first(method: str, ctx: RequestContext, *args: Any) -> Any:
    for out in await _collect(method, ctx, *args):
        return out
    return None


async def _concat(method: str, ctx: RequestContext, *args: Any) -> list[Any]:
    items: list[Any] = []
    for out in await _collect(method, ctx, *args):
        if isinstance(out, types.CompletionList):
            items.extend(out.items)
        elif isinstance(out, list):
            items.extend(out)
        else:
            items.append(out)
    return items


def _answer(result: Any) -> Any:
    """A provider's refusal (an exception it returned) becomes the request's error, with its message."""
    if isinstance(result, Exception):
        raise JsonRpcException(str(result), code=REQUEST_FAILED)
    return result


def _watch_parent(pid: int, stop: Callable[[], None]) -> None:
    """Exit when the editor that started us is gone."""

    def alive() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def loop() -> None:
        while True:
            time.sleep(2)
            if not alive():
                log.warning("parent process %s is gone; exiting", pid)
                stop()
                return

    threading.Thread(target=loop, name="dify-lsp-parent-watch", daemon=True).start()


def create_server() -> DifyLanguageServer:
    server = DifyLanguageServer()
    handler = ClientLogHandler(server)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("dify_lsp").addHandler(handler)
    logging.getLogger("dify_lsp").setLevel(logging.INFO)

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: DifyLanguageServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        use_lsp_lines(ls.workspace)
        ls.client_locale = params.locale
        opts = params.initialization_options
        if isinstance(opts, dict):
            ls.apply_settings(opts.get("dify", opts) if isinstance(opts.get("dify"), dict) else opts)
        if params.process_id:
            _watch_parent(params.process_id, lambda: os._exit(0))

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: DifyLanguageServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()
        await _register_watchers(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(ls: DifyLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("dify"), dict):
            ls.apply_settings(settings["dify"])
        else:
            await ls.pull_configuration()
        ls.diagnostics.refresh_all()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: DifyLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        _sync(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: DifyLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        _sync(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: DifyLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        _sync(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: DifyLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        if path is None:
            return
        ls.open_paths.pop(path, None)
        ls.source.drop_overlay(path)
        ls.index.invalidate(path)
        ls.diagnostics.document_closed(path, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched(ls: DifyLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.index.forget_disk_state()
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path is None or path in ls.open_paths:
                continue  # the editor's text wins over disk
            roots = ls.index.invalidate(path)
            if path.name == "manifest.yaml":
                roots.append(path.parent)
            for root in roots:
                ls.diagnostics.schedule(root)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="dify-lsp", inter_file_dependencies=True, workspace_diagnostics=False),
    )
    async def on_pull_diagnostics(ls: DifyLanguageServer, params: types.DocumentDiagnosticParams):
        return await ls.diagnostics.pull(params.text_document.uri, params.previous_result_id)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", ":", " ", "-", "/", "'", '"', "(", ","], resolve_provider=False),
    )
    async def on_completion(ls: DifyLanguageServer, params: types.CompletionParams):
        ctx = ls.request_context(params.text_document.uri, fresh=False)
        if ctx is None:
            return None
        pos = ls.from_lsp_position(params.text_document.uri, params.position)
        items = await _concat(COMPLETION, ctx, pos)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: DifyLanguageServer, params: types.HoverParams):
        ctx = ls.request_context(params.text_document.uri, fresh=False)
        if ctx is None:
            return None
        return await _first(HOVER, ctx, ls.from_lsp_position(params.text_document.uri, params.position))

    @server.feature(
        types.TEXT_DOCUMENT_SIGNATURE_HELP,
        types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[",", "="]),
    )
    async def on_signature_help(ls: DifyLanguageServer, params: types.SignatureHelpParams):
        ctx = ls.request_context(params.text_document.uri, fresh=False)
        if ctx is None:
            return None
        return await _first(SIGNATURE_HELP, ctx, ls.from_lsp_position(params.text_document.uri, params.position))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(ls: DifyLanguageServer, params: types.DefinitionParams):
        ctx = ls.request_context(params.text_document.uri)
        if ctx is None:
            return None
        found = await _concat(DEFINITION, ctx, ls.from_lsp_position(params.text_document.uri, params.position))
        return found or None

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_LINK, types.DocumentLinkOptions(resolve_provider=False))
    async def on_document_link(ls: DifyLanguageServer, params: types.DocumentLinkParams):
        ctx = ls.request_context(params.text_document.uri)
        return await _concat(DOCUMENT_LINK, ctx) if ctx else []

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_document_symbol(ls: DifyLanguageServer, params: types.DocumentSymbolParams):
        ctx = ls.request_context(params.text_document.uri)
        return await _concat(DOCUMENT_SYMBOL, ctx) if ctx else []

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Empty], resolve_provider=False),
    )
    async def on_code_action(ls: DifyLanguageServer, params: types.CodeActionParams):
        ctx = ls.request_context(params.text_document.uri)
        if ctx is None:
            return None
        span = ls.positions.from_lsp_range(ctx.lines, params.range)
        return await _concat(CODE_ACTION, ctx, span, list(params.context.diagnostics))

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def on_prepare_rename(ls: DifyLanguageServer, params: types.PrepareRenameParams):
        ctx = ls.request_context(params.text_document.uri)
        if ctx is None:
            return None
        return _answer(await _first(PREPARE_RENAME, ctx, ls.from_lsp_position(params.text_document.uri, params.position)))

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    async def on_rename(ls: DifyLanguageServer, params: types.RenameParams):
        ctx = ls.request_context(params.text_document.uri)
        if ctx is None:
            return None
        pos = ls.from_lsp_position(params.text_document.uri, params.position)
        return _answer(await _first(RENAME, ctx, pos, params.new_name))

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def on_references(ls: DifyLanguageServer, params: types.ReferenceParams):
        ctx = ls.request_context(params.text_document.uri)
        if ctx is None:
            return None
        pos = ls.from_lsp_position(params.text_document.uri, params.position)
        return await _concat(REFERENCES, ctx, pos, params.context.include_declaration) or None

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def on_document_highlight(ls: DifyLanguageServer, params: types.DocumentHighlightParams):
        ctx = ls.request_context(params.text_document.uri, fresh=False)
        if ctx is None:
            return None
        return await _concat(DOCUMENT_HIGHLIGHT, ctx, ls.from_lsp_position(params.text_document.uri, params.position)) or None

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def on_code_lens(ls: DifyLanguageServer, params: types.CodeLensParams):
        ctx = ls.request_context(params.text_document.uri)
        return await _concat(CODE_LENS, ctx) if ctx else []

    for feature in COMMAND_FEATURES:
        feature.register(server)
    return server


def _sync(ls: DifyLanguageServer, uri: str) -> None:
    try:
        _sync_document(ls, uri)
    except Exception:
        log.exception("syncing %s failed", uri)


def _sync_document(ls: DifyLanguageServer, uri: str) -> None:
    path = uri_to_path(uri)
    if path is None:
        return
    doc = ls.workspace.get_text_document(uri)
    ls.open_paths[path] = uri
    ls.source.set_overlay(path, engine_text(doc.source))
    roots = ls.index.invalidate(path)
    root = ls.index.root_for(path)
    if path.name == "manifest.yaml":
        root = path.parent
    if root is not None and root not in roots:
        roots.append(root)
    for r in roots:
        ls.diagnostics.schedule(r)


async def _register_watchers(ls: DifyLanguageServer) -> None:
    if not ls.client.watched_files_registration:
        return
    watchers = [
        types.FileSystemWatcher(glob_pattern=pattern)
        for pattern in ("**/*.yaml", "**/*.yml", "**/*.py", "**/requirements.txt", "**/pyproject.toml", "**/_assets/**")
    ]
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="dify-lsp-watch",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                        )
                    ]
                )
            ),
            timeout=5,
        )
    except Exception as exc:
        log.debug("file watcher registration failed: %s", exc)

"""Diagnostics: run the rules per plugin, debounced, and publish or serve them.

Push (textDocument/publishDiagnostics) for clients without pull support;
pull (textDocument/diagnostic) for clients that have it.  Only documents
open in the editor get diagnostics; closing a document clears them.  The
rules run on a worker thread so typing, completion and hover never wait on
them.

The first check of a just-opened plugin is first looked up in the result cache
``dify-lsp check`` keeps (:mod:`dify_lsp.cache`, setting ``cache``): when every
input the stored findings came from is unchanged on disk and every open
document of the plugin shows what is on disk, those findings are published at
once, without importing or running the rules (nor building the settings model,
when the client's settings are those of an earlier start:
:class:`dify_lsp.cache.RememberedSettings`); the full check follows after the
debounce (so later edits re-run only what they touch).  A plugin not found
there is stored after its first check, as ``check`` stores it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from dify_lsp.features.client import uri_to_path
from dify_lsp.findings import Finding
from dify_lsp.i18n import ENGLISH, tr
from dify_lsp.index import CONTENTS
from dify_lsp.yamlpos import YMap, YScalar

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.cache import SettingsDigest
    from dify_lsp.checker import PluginReport, PreviousRun
    from dify_lsp.settings import ServerSettings

log = logging.getLogger(__name__)

SOURCE = "dify-lsp"
_TAGS = {"unnecessary": types.DiagnosticTag.Unnecessary, "deprecated": types.DiagnosticTag.Deprecated}


def to_diagnostic(server: Any, finding: Finding, lines: list[str]) -> types.Diagnostic:
    language = getattr(server, "language", ENGLISH)
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=server.positions.open_paths.get(r.path) or r.path.as_uri(),
                range=server.positions.to_lsp_range(r.path, r.span),
            ),
            message=tr(r.message, language),
        )
        for r in finding.related
    ]
    return types.Diagnostic(
        range=server.positions.to_lsp_range(finding.path, finding.span, lines),
        severity=types.DiagnosticSeverity(int(finding.severity)),
        code=finding.code,
        source=SOURCE,
        message=tr(finding.message, language),
        related_information=related or None,
        tags=[_TAGS[t] for t in finding.tags if t in _TAGS] or None,
    )


@dataclass
class CachedReport:
    """A plugin's findings served from the result cache (its files are not loaded yet)."""

    root: Path
    findings: list[Finding]
    crashes: tuple[str, ...] = ()


class DiagnosticsService:
    def __init__(self, server: Any):  # the language server (features never import its module)
        self.server = server
        self.reports: dict[Path, PluginReport | CachedReport] = {}
        self.generation: dict[Path, int] = {}
        self.pending: dict[Path, asyncio.Task[None]] = {}
        self.pushed: set[Path] = set()
        # Per plugin, each rule's last findings and what it read: after an edit only the rules that
        # read a changed file run again (the other files' findings are kept).
        self.previous: dict[Path, PreviousRun] = {}

    # -- scheduling ---------------------------------------------------------
    @property
    def debounce(self) -> float:
        """Seconds to wait after an edit (setting `debounceMs`)."""
        return self.server.settings.debounce_ms / 1000

    def schedule(self, root: Path, delay: float | None = None) -> None:
        if delay is None:
            # The first check of a plugin (a file was just opened) runs at once;
            # later ones wait for typing to pause.
            delay = self.debounce if root in self.reports else 0
        self.generation[root] = self.generation.get(root, 0) + 1
        old = self.pending.get(root)
        if old is not None and not old.done():
            old.cancel()
        self.pending[root] = asyncio.ensure_future(self._run(root, self.generation[root], delay))

    def refresh_all(self) -> None:
        for root in {*self.reports, *self.pending}:
            self.server.index.invalidate(root / "manifest.yaml")
            self.schedule(root, 0)

    def _check(self, root: Path, first: bool) -> tuple[PluginReport | CachedReport, tuple[ServerSettings, dict[str, Any]] | None]:
        """Check one plugin (on a worker thread): (the report, the settings and the client's object they came
        from, to store the report in the result cache with, when it is a first check the cache did not have)."""
        if first:
            from dify_lsp.cache import RememberedSettings, SettingsDigest

            # The settings model (pydantic) is not built for a plugin served from the cache when these client
            # settings were seen at an earlier start; the check below builds it.
            remembered = None if self.server.settings_built else RememberedSettings().get(self.server.client_settings)
            digest = remembered or SettingsDigest.of(self.server.settings)
            if digest.serve:
                findings = self._cached_findings(root, digest.rule_key)
                if findings is not None:
                    log.info("diagnostics of %s from the result cache (no input changed)", root)
                    if remembered is not None:
                        self.server.remembered_settings = remembered  # the language they are published in
                    else:  # so the next start needs no settings model either
                        settings, client = self.server.settings_and_source()
                        RememberedSettings().put(client, settings)
                    return CachedReport(root, findings), None
        # The engine (rules, Python scanner) is imported by the first check, here on the worker, not with
        # the server: the initialize answer and a check served from the cache do not need it.
        from dify_lsp.checker import PreviousRun, check_plugin

        settings, client = self.server.settings_and_source()  # immutable: a settings change replaces them
        store = first and settings.cache and not settings.marketplace
        previous = self.previous.setdefault(root, PreviousRun())
        return check_plugin(self.server.index, root, settings, previous), (settings, client) if store else None

    def _cached_findings(self, root: Path, rule_key: dict[str, Any]) -> list[Finding] | None:
        """The findings stored for ``root`` with these rules, if every input they came from is unchanged on
        disk and every open document they may depend on shows what is on disk (unsaved text is no input the
        cache knows: then the plugin is checked)."""
        from dify_lsp.cache import ResultCache
        from dify_lsp.index import read_disk_text

        entry = ResultCache().lookup(root, rule_key)
        if entry is None:
            return None
        read = {*entry.inputs.files, *entry.inputs.probes}
        for path in list(self.server.open_paths):
            if path == root or root in path.parents or str(path) in read:
                text = self.server.source.overlay(path)
                if text is not None and text != read_disk_text(path).text:
                    return None
        return entry.findings

    def _store_in_cache(self, root: Path, settings: ServerSettings, client: dict[str, Any]) -> None:
        """Check ``root`` from disk as `dify-lsp check` does (every input recorded) and store the result, and
        what the client's settings validated to (on a worker thread, after the editor's own check was published)."""
        from dify_lsp.cache import RememberedSettings, ResultCache
        from dify_lsp.checker import check_root

        try:
            check_root(root, settings, ResultCache())
            RememberedSettings().put(client, settings)
        except Exception:
            log.exception("storing the check of %s in the result cache failed", root)

    async def _run(self, root: Path, generation: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        try:
            report, store_with = await loop.run_in_executor(self.server.thread_pool, self._check, root, root not in self.reports)
        except Exception:
            log.exception("checking plugin %s failed", root)
            return
        for crash in report.crashes:
            log.error("a rule crashed (other rules still reported): %s", crash.splitlines()[0])
        if self.generation.get(root) != generation:
            return  # a newer edit is on its way
        previous = self.reports.get(root)
        self.reports[root] = report
        if isinstance(report, CachedReport):
            # The full check follows after the debounce: it loads the plugin for later edits (which then re-run
            # only the rules they touch).  Scheduled once this task is done, which must not be cancelled.
            asyncio.get_running_loop().call_soon(self.schedule, root)
        else:
            self._refresh_code_lenses_if_tools_changed(previous, report)
        if self.server.client.pull_diagnostics:
            if self.server.client.diagnostic_refresh:
                try:
                    self.server.workspace_diagnostic_refresh(None)
                except Exception:  # pragma: no cover - client went away
                    pass
        elif not (isinstance(previous, CachedReport) and previous.findings == report.findings):
            self.publish(root, report.findings)
        if store_with is not None and not report.crashes:
            # not awaited: a pull waiting on this task must not wait for the cache too
            loop.run_in_executor(self.server.thread_pool, self._store_in_cache, root, *store_with)

    def _refresh_code_lenses_if_tools_changed(self, previous: PluginReport | CachedReport | None, report: PluginReport) -> None:
        """Code lenses ("Run invocation") follow the plugin's tools and Python files."""
        if isinstance(previous, CachedReport):
            return  # the code lenses were computed from the files the cache found unchanged

        def shape(r: PluginReport | None) -> object:
            if r is None:
                return None
            tool_names = []
            for yf in r.plugin.yaml_files.values():
                root = CONTENTS.root(yf)
                identity = root.get("identity") if root else None
                name = identity.get("name") if isinstance(identity, YMap) else None
                tool_names.append((str(yf.path), name.raw if isinstance(name, YScalar) else None))
            return (sorted(tool_names), sorted(map(str, r.plugin.python_files)))

        if self.server.client.code_lens_refresh and previous is not None and shape(previous) != shape(report):
            try:
                self.server.workspace_code_lens_refresh(None)
            except Exception:  # pragma: no cover - client went away
                pass

    async def fresh_report(self, root: Path) -> PluginReport | CachedReport | None:
        task = self.pending.get(root)
        if task is not None and not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                # superseded by a newer edit: wait for that one instead
                newer = self.pending.get(root)
                if newer is not None and newer is not task:
                    return await self.fresh_report(root)
        if root not in self.reports:
            self.schedule(root, 0)
            task = self.pending[root]
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                pass
        return self.reports.get(root)

    # -- push ----------------------------------------------------------------
    def publish(self, root: Path, findings: list[Finding]) -> None:
        by_path: dict[Path, list[Finding]] = {}
        for f in findings:
            by_path.setdefault(f.path, []).append(f)
        # The file opened (or synced) last first: its findings are the ones the user is waiting for.
        paths = [p for p in reversed(list(self.server.open_paths)) if p == root or root in p.parents]
        for path in paths:
            uri = self.server.open_paths[path]
            found = by_path.get(path, [])
            lines = self.server.positions.lines_of(path) if found else []  # a long file is split only when needed
            diagnostics = [to_diagnostic(self.server, f, lines) for f in found]
            doc = self.server.workspace.get_text_document(uri)
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version)
            )
            if diagnostics:
                self.pushed.add(path)
            else:
                self.pushed.discard(path)

    def document_closed(self, path: Path, uri: str) -> None:
        if not self.server.client.pull_diagnostics:
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self.pushed.discard(path)
        root = self.server.index.root_for(path)
        if root is not None:
            self.schedule(root)

    # -- pull -----------------------------------------------------------------
    async def pull(self, uri: str, previous_result_id: str | None):
        path = uri_to_path(uri)
        root = self.server.index.root_for(path) if path else None
        if path is None or root is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id="none")
        report = await self.fresh_report(root)
        result_id = f"{root}#{self.generation.get(root, 0)}"
        if previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        lines = self.server.positions.lines_of(path)
        items = [to_diagnostic(self.server, f, lines) for f in (report.findings if report else []) if f.path == path]
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    def findings_for(self, path: Path) -> list[Finding]:
        root = self.server.index.root_for(path)
        report = self.reports.get(root) if root else None
        return [f for f in report.findings if f.path == path] if report else []

"""Diagnostics: run the rules per plugin, debounced, and publish or serve them.

Push (textDocument/publishDiagnostics) for clients without pull support;
pull (textDocument/diagnostic) for clients that have it.  Only documents
open in the editor get diagnostics; closing a document clears them.  The
rules run on a worker thread so typing, completion and hover never wait on
them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types

from dify_lsp.checker import PluginReport, PreviousRun, check_plugin
from dify_lsp.features.client import uri_to_path
from dify_lsp.findings import Finding
from dify_lsp.i18n import ENGLISH, tr
from dify_lsp.yamlpos import YMap, YScalar

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


class DiagnosticsService:
    def __init__(self, server: Any):  # the language server (features never import its module)
        self.server = server
        self.reports: dict[Path, PluginReport] = {}
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

    async def _run(self, root: Path, generation: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        settings = self.server.settings  # immutable: a settings change replaces it
        try:
            previous = self.previous.setdefault(root, PreviousRun())
            report = await loop.run_in_executor(self.server.thread_pool, check_plugin, self.server.index, root, settings, previous)
        except Exception:
            log.exception("checking plugin %s failed", root)
            return
        for crash in report.crashes:
            log.error("a rule crashed (other rules still reported): %s", crash.splitlines()[0])
        if self.generation.get(root) != generation:
            return  # a newer edit is on its way
        previous = self.reports.get(root)
        self.reports[root] = report
        self._refresh_code_lenses_if_tools_changed(previous, report)
        if self.server.client.pull_diagnostics:
            if self.server.client.diagnostic_refresh:
                try:
                    self.server.workspace_diagnostic_refresh(None)
                except Exception:  # pragma: no cover - client went away
                    pass
        else:
            self.publish(report)

    def _refresh_code_lenses_if_tools_changed(self, previous: PluginReport | None, report: PluginReport) -> None:
        """Code lenses ("Run invocation") follow the plugin's tools and Python files."""

        def shape(r: PluginReport | None) -> object:
            if r is None:
                return None
            tool_names = []
            for yf in r.plugin.yaml_files.values():
                identity = yf.root.get("identity") if yf.root else None
                name = identity.get("name") if isinstance(identity, YMap) else None
                tool_names.append((str(yf.path), name.raw if isinstance(name, YScalar) else None))
            return (sorted(tool_names), sorted(map(str, r.plugin.python_files)))

        if previous is not None and shape(previous) != shape(report) and self.server.client.code_lens_refresh:
            try:
                self.server.workspace_code_lens_refresh(None)
            except Exception:  # pragma: no cover - client went away
                pass

    async def fresh_report(self, root: Path) -> PluginReport | None:
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
    def publish(self, report: PluginReport) -> None:
        by_path: dict[Path, list[Finding]] = {}
        for f in report.findings:
            by_path.setdefault(f.path, []).append(f)
        # The file opened (or synced) last first: its findings are the ones the user is waiting for.
        paths = [p for p in reversed(list(self.server.open_paths)) if p == report.plugin.root or report.plugin.root in p.parents]
        for path in paths:
            uri = self.server.open_paths[path]
            lines = self.server.positions.lines_of(path)
            diagnostics = [to_diagnostic(self.server, f, lines) for f in by_path.get(path, [])]
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

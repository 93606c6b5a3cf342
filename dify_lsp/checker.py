"""Run the rules over plugins: the engine behind diagnostics and `dify-lsp check`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dify_lsp.config import apply_configuration
from dify_lsp.findings import Finding
from dify_lsp.index import Plugin, PluginIndex
from dify_lsp.rules import CheckContext, run_checks


@dataclass
class PluginReport:
    plugin: Plugin
    findings: list[Finding]
    crashes: list[str] = field(default_factory=list)

    def by_path(self) -> dict[Path, list[Finding]]:
        out: dict[Path, list[Finding]] = {p: [] for p in self.plugin.files()}
        for f in self.findings:
            out.setdefault(f.path, []).append(f)
        return out


def check_plugin(index: PluginIndex, root: Path, settings: dict[str, Any] | None = None) -> PluginReport:
    plugin = index.plugin_at(root)
    ctx = CheckContext(plugin, index, settings or {})
    findings, crashes = run_checks(ctx)
    findings = apply_configuration(index, plugin, findings, settings)
    return PluginReport(plugin, findings, crashes)

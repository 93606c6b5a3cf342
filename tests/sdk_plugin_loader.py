"""Loads plugins with the real SDK, as the plugin does at start-up (run with the SDK venv's Python).

Reads one JSON object per line on stdin, ``{"dir": PLUGIN_DIR}``, and answers one line
``{"ok": true}`` or ``{"ok": false, "error": "..."}``.  For each plugin it runs the SDK's own
``PluginRegistration._load_plugin_configuration`` (manifest -> providers -> tool / model /
endpoint / strategy / datasource / event files, through the SDK's pydantic entities) in the
plugin's folder, then resolves every Python source the way the SDK's class loader does
(module name from the path without its suffix, found as a .py file or a package), without
running the plugin's code.  One process serves many plugins, so the SDK is imported once.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path


def _sources(reg) -> list[str]:
    out: list[str] = []
    for p in reg.tools_configuration:
        out.append(p.extra.python.source)
        out += [t.extra.python.source for t in p.tools]
    for p in reg.models_configuration:
        out.append(p.extra.python.provider_source)
        out += list(p.extra.python.model_sources)
    for p in reg.endpoints_configuration:
        out += [e.extra.python.source for e in p.endpoints]
    for p in reg.agent_strategies_configuration:
        out += [s.extra.python.source for s in p.strategies]
    for p in reg.datasource_configuration:
        out.append(p.extra.python.source)
        out += [d.extra.python.source for d in p.datasources]
    for p in reg.triggers_configuration:
        out.append(p.extra.python.source)
        out += [e.extra.python.source for e in p.events]
    return out


def _module_file(source: str) -> Path | None:
    """What importlib.util.find_spec(module) finds for the module name the SDK derives."""
    stem = Path(source).with_suffix("")
    for candidate in (stem.with_name(stem.name + ".py"), stem / "__init__.py"):
        if candidate.is_file():
            return candidate
    if source.endswith(".py") and Path(source).is_file():  # spec_from_file_location fallback
        return Path(source)
    return None


def load(plugin_dir: str) -> dict:
    from dify_plugin.core.plugin_registration import PluginRegistration

    os.chdir(plugin_dir)
    reg = PluginRegistration.__new__(PluginRegistration)
    for name in (
        "tools_configuration", "models_configuration", "endpoints_configuration",
        "agent_strategies_configuration", "datasource_configuration", "triggers_configuration",
    ):
        setattr(reg, name, [])
    try:
        reg._load_plugin_configuration()
    except Exception as exc:  # what the plugin prints before it exits
        return {"ok": False, "stage": "configuration", "error": str(exc)[:2000]}
    for source in _sources(reg):
        try:
            found = _module_file(source)
        except ValueError as exc:
            return {"ok": False, "stage": "class loader", "error": f"{source}: {exc}"}
        if found is None:
            return {"ok": False, "stage": "class loader", "error": f"Failed to load module from {source}"}
    if not Path("_assets").is_dir():
        return {"ok": False, "stage": "assets", "error": "no _assets folder"}
    return {"ok": True}


def main() -> None:
    import dify_plugin.core.plugin_registration  # noqa: F401 - import the SDK once, up front

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer = load(request["dir"])
        except Exception:
            answer = {"ok": False, "stage": "loader crashed", "error": traceback.format_exc()[-2000:]}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

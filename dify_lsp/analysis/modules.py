"""The plugin's Python code as the SDK imports it: modules, imports between them, and classes.

The daemon runs ``python -m <meta.runner.entrypoint>`` in the plugin root, so
the root is the first entry of ``sys.path`` and ``tools/search.py`` is the
module ``tools.search``.  The SDK loads each ``extra.python.source`` (and
each model source) as the module named by the path without its suffix, then
finds plugin classes with ``issubclass`` among the names bound in that module.

:class:`ModuleGraph` answers, without importing anything:

* which plugin module an import names (absolute from the root, or relative);
* what a name used as a base class really is: an SDK plugin base (through any
  import path or alias), a class of the plugin (in this or another module,
  followed to its own bases), a builtin, or unknown;
* which files the plugin actually runs: the entry point's module and every
  source the YAML names, and what they import, transitively.

Where an answer cannot be known statically (a base imported from a third-party
package, a star import, a class built at run time) it says "unknown", and the
rules then say nothing.
"""

from __future__ import annotations

import builtins
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dify_lsp import pyscan
from dify_lsp.index import holds
from dify_lsp.sdk.classes import SDK_MIXINS, SdkClass, sdk_class

_BUILTINS = frozenset(dir(builtins))
_MAX_DEPTH = 12
# Standard-library bases that add no methods a plugin class could rely on (markers and generics).
_NEUTRAL_BASES = frozenset({"abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol", "typing.Any"})


@dataclass(frozen=True, slots=True)
class PluginClass:
    path: Path
    info: pyscan.ClassInfo


@dataclass(slots=True)
class Ancestry:
    """What a plugin class derives from."""

    sdk: list[SdkClass] = field(default_factory=list)  # SDK plugin bases reached
    chain: list[PluginClass] = field(default_factory=list)  # the plugin's own classes on the way (the class first)
    unknown: bool = False  # some base could not be followed: there may be more
    provided: set[str] = field(default_factory=set)  # methods SDK mixins on the way provide

    @property
    def kinds(self) -> set[str]:
        return {k for c in self.sdk for k in c.kinds}


_UNKNOWN: Any = object()


def module_name(root: Path, path: Path) -> str | None:
    """``tools/search.py`` -> ``tools.search``; ``pkg/__init__.py`` -> ``pkg``."""
    if not holds(root, path):  # (strings compared: Path.relative_to builds Paths)
        return None
    rest = os.fspath(path)[len(os.fspath(root).rstrip(os.sep)) + 1 :]
    if not rest:
        return None
    parts = rest.split(os.sep)
    name = parts[-1]
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:  # the suffix, as pathlib sees one
        parts[-1] = name[:dot]
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


class ModuleGraph:
    def __init__(self, root: Path, scans: dict[Path, pyscan.Scan]):
        self.root = root
        self.scans = scans
        self.by_module: dict[str, Path] = {}
        self._names: dict[Path, str | None] = {}  # path -> module_name (asked for on every import followed)
        for path in scans:
            name = self._names[path] = module_name(root, path)
            if name is not None:
                # a package's __init__ and a same-named module: Python imports the package
                if name not in self.by_module or path.name == "__init__.py":
                    self.by_module[name] = path
        self._ancestry: dict[tuple[Path, str], Ancestry] = {}
        # the first name of every plugin module: an import of anything else (the SDK, the standard library)
        # is none of the plugin's, whatever follows
        self._tops = {name.partition(".")[0] for name in self.by_module}

    # -- modules ---------------------------------------------------------------------------------
    def module_of(self, path: Path) -> str | None:
        name = self._names.get(path, _UNKNOWN)
        return module_name(self.root, path) if name is _UNKNOWN else name

    def _package_of(self, path: Path) -> str:
        name = self.module_of(path) or ""
        if path.name == "__init__.py":
            return name
        return name.rpartition(".")[0]

    def absolute(self, path: Path, level: int, module: str) -> str | None:
        """The absolute module name of ``from <level dots><module> import ...`` written in ``path``."""
        if level == 0:
            return module
        package = self._package_of(path).split(".") if self._package_of(path) else []
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, *([module] if module else [])])

    def imported_paths(self, path: Path) -> list[Path]:
        """The plugin files that importing ``path`` imports in turn (packages' __init__ included)."""
        scan = self.scans.get(path)
        if scan is None:
            return []
        out: list[Path] = []

        def add(name: str | None) -> None:
            if not name or name.partition(".")[0] not in self._tops:
                return
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                hit = self.by_module.get(".".join(parts[:i]))
                if hit is not None:
                    out.append(hit)

        for imp in scan.import_list:
            base = self.absolute(path, imp.level, imp.module)
            add(base)
            for n in imp.names:
                if n != "*" and base is not None:
                    add(f"{base}.{n}" if base else n)
        return out

    def reachable(self, starts: list[Path]) -> set[Path]:
        """Files run when the ``starts`` are imported (the starts included)."""
        seen: set[Path] = set()
        queue = deque(p for p in starts if p in self.scans)
        while queue:
            path = queue.popleft()
            if path in seen:
                continue
            seen.add(path)
            # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            name = self.module_of(path) or ""
            parts = name.split(".")
            for i in range(1, len(parts)):
                pkg = self.by_module.get(".".join(parts[:i]))
                if pkg is not None and pkg not in seen:
                    queue.append(pkg)
            for nxt in self.imported_paths(path):
                if nxt not in seen:
                    queue.append(nxt)
        return seen

    # -- names -----------------------------------------------------------------------------------
    def resolve(self, path: Path, dotted: str, depth: int = 0) -> SdkClass | PluginClass | str | None:
        """What ``dotted`` names in module ``path``: an SDK plugin base, a plugin class, "builtin",
        "other" (known, but neither: e.g. a dify_plugin entity), or None (unknown)."""
        scan = self.scans.get(path)
        if scan is None or not dotted or depth > _MAX_DEPTH:
            return None
        first, _, rest = dotted.partition(".")
        if not rest:
            local = self._local_class(scan, first, fallback=False)
            if local is not None:
                return PluginClass(path, local)
        if first in scan.imports:
            qual = scan.imports[first]
            return self._resolve_qualified(f"{qual}.{rest}" if rest else qual, depth)
        if first in scan.relative_imports:
            level, module, name = scan.relative_imports[first]
            base = self.absolute(path, level, module)
            if base is None:
                return None
            target = f"{base}.{name}" if base else name
            return self._resolve_qualified(f"{target}.{rest}" if rest else target, depth)
        if not rest and first in _BUILTINS:
            return "builtin"
        return None

    def _resolve_qualified(self, qualified: str, depth: int) -> SdkClass | PluginClass | str | None:
        if qualified.startswith("dify_plugin.") or qualified == "dify_plugin":
            found = sdk_class(qualified)
            if found is not None:
                return found
            name = qualified.rsplit(".", 1)[-1]
            if name in SDK_MIXINS:
                return f"mixin:{name}"
            # another SDK class: an entity or a helper; a helper under interfaces may bring methods we do not know
            return None if qualified.startswith("dify_plugin.interfaces.") else "other"
        if qualified in _NEUTRAL_BASES:
            return "builtin"
        if qualified.partition(".")[0] not in self._tops:
            return None  # a third-party or standard-library name
        parts = qualified.split(".")
        # the longest prefix that is a plugin module; the rest is a name inside it
        for i in range(len(parts), 0, -1):
            mod = self.by_module.get(".".join(parts[:i]))
            if mod is None:
                continue
            rest = ".".join(parts[i:])
            if not rest:
                return "module"
            return self.resolve(mod, rest, depth + 1)
        return None  # a third-party or standard-library name

    @staticmethod
    def _local_class(scan: pyscan.Scan, name: str, fallback: bool) -> pyscan.ClassInfo | None:
        found = None
        for c in scan.classes:
            if c.name == name and c.top_level and c.fallback == fallback:
                found = c  # the last definition wins, as in Python
        return found

    def ancestry(self, path: Path, cls: pyscan.ClassInfo, depth: int = 0) -> Ancestry:
        key = (path, f"{cls.name}@{cls.name_span.start.line}")
        cached = self._ancestry.get(key)
        if cached is not None:
            return cached
        out = Ancestry(chain=[PluginClass(path, cls)])
        self._ancestry[key] = out  # guards against cycles
        if depth > _MAX_DEPTH:
            out.unknown = True
            return out
        for base in cls.bases:
            hit = self.resolve(path, base) if base else None
            if isinstance(hit, SdkClass):
                out.sdk.append(hit)
            elif isinstance(hit, PluginClass):
                if hit.info is cls:
                    out.unknown = True
                    continue
                sub = self.ancestry(hit.path, hit.info, depth + 1)
                out.sdk.extend(sub.sdk)
                out.chain.extend(sub.chain)
                out.unknown |= sub.unknown
                out.provided |= sub.provided
            elif isinstance(hit, str) and hit.startswith("mixin:"):
                out.provided.update(SDK_MIXINS[hit[len("mixin:"):]])
            elif hit in ("builtin", "other"):
                continue
            else:
                out.unknown = True
        return out

    def namespace_classes(self, path: Path) -> tuple[list[PluginClass | SdkClass], bool]:
        """The classes bound in the module's namespace (what ``vars(module)`` holds that is a class once the
        module is imported, which is when the SDK's loader looks): its own top-level classes and the classes its
        module-level imports bind; plus whether there may be more (star imports)."""
        scan = self.scans.get(path)
        if scan is None:
            return [], True
        out: list[PluginClass | SdkClass] = []
        seen: set[tuple[Path, int]] = set()
        for c in scan.classes:
            if c.top_level and not c.fallback:
                out.append(PluginClass(path, c))
                seen.add((path, c.name_span.start.line))
        for local in [*scan.imports, *scan.relative_imports]:
            if local not in scan.module_imports:
                continue  # imported inside a function or class: not in the module's namespace when it is loaded
            hit = self.resolve(path, local)
            if isinstance(hit, PluginClass):
                if (hit.path, hit.info.name_span.start.line) not in seen:
                    seen.add((hit.path, hit.info.name_span.start.line))
                    out.append(hit)
            elif isinstance(hit, SdkClass):
                out.append(hit)
        star = any("*" in imp.names for imp in scan.import_list)
        return out, star

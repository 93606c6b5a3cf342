"""Layers point one way: server -> features -> engine.  No feature module imports the server."""

import ast
from pathlib import Path

import dify_lsp

PACKAGE = Path(dify_lsp.__file__).parent


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_feature_module_imports_the_server():
    offenders = [p.name for p in sorted((PACKAGE / "features").glob("*.py")) if "dify_lsp.server" in _imports(p)]
    assert offenders == []


def test_engine_modules_import_neither_features_nor_server():
    engine = [p for p in PACKAGE.rglob("*.py") if "features" not in p.parts and p.name not in ("server.py", "cli.py")]
    assert engine, "no engine module found"
    offenders = sorted(
        str(p.relative_to(PACKAGE))
        for p in engine
        if any(m == "dify_lsp.server" or m.startswith("dify_lsp.features") for m in _imports(p))
    )
    assert offenders == []


# The layers of docs/architecture.md, bottom first: a module imports only from its own layer or those below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text and settings", ("__init__", "textpos", "uris", "i18n", "settings", "pygls_compat", "interpreters", "caches", "dicts")),
    ("knowledge", ("schema", "sdk", "yamlpos", "findings", "noqa", "pyproject", "schema_export")),
    ("index and analysis", ("index", "pyscan", "analysis", "yamledit", "scaffold", "plugin_fixes")),
    ("runner", ("invocation", "plugin_names")),
    ("rules", ("rules",)),
    ("configuration and checking", ("config", "checker", "cache", "report")),
    ("editor features", ("features",)),
    ("faces", ("server", "cli", "mcp", "__main__", "scaffold_cli", "i18n_catalogs")),
)


def _layer(module: str) -> int:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    for i, (_, heads) in enumerate(LAYERS):
        if head in heads:
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/architecture.md")


def test_layers_point_one_way():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(("dify_lsp", *path.relative_to(PACKAGE).with_suffix("").parts))
        mine = _layer(module)
        for imported in _imports(path):
            if imported == "dify_lsp" or imported.startswith("dify_lsp."):
                theirs = _layer(imported)
                if theirs > mine:
                    upward.append(f"{module} ({LAYERS[mine][0]}) imports {imported} ({LAYERS[theirs][0]})")
    assert upward == []

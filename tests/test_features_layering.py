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

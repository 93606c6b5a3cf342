"""Is this plugin file valid Python *3.12*, whatever Python runs dify-lsp?

Plugins run on Python 3.12: the daemon builds every plugin's environment with
it, and dify-plugin >= 0.8 requires it.  dify-lsp itself may run on 3.11,
whose parser refuses 3.12 syntax (PEP 701 f-strings that nest the same quote,
``type X = ...``, PEP 695 generics ``def f[T](x: T)``).  So:

1. :func:`dify_lsp.pyscan.scan` parses with the running Python.  When that
   succeeds, or the running Python is 3.12 or newer, its answer stands.
2. Otherwise the error may be a 3.12 feature: the file is compiled by a
   Python >= 3.12 found on the machine (the plugin's own ``.venv`` first, then
   ``python3.12`` on PATH, pyenv, uv; see :mod:`dify_lsp.interpreters`) in a
   subprocess.  Its verdict (valid, or the error with 3.12's line and message)
   is cached by content hash, so each text is compiled once.  Rules run on a
   worker thread, never on the editor's event loop.
3. When no such Python exists, or it does not answer in time, nothing is
   reported: a missed syntax error costs less than a false one, and the
   plugin's own run reports it anyway.

Nothing is executed: the subprocess only calls ``compile(..., PyCF_ONLY_AST)``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from dify_lsp.interpreters import find_python

log = logging.getLogger(__name__)

PLUGIN_PYTHON = (3, 12)
_TIMEOUT = 30.0
_CACHE_SIZE = 4096

# Reads a JSON list of sources on stdin; prints one verdict per source: null (valid) or [line, message].
_COMPILE_SCRIPT = r"""
import ast, json, sys
out = []
for src in json.load(sys.stdin):
    try:
        compile(src, "<plugin>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        out.append(None)
    except SyntaxError as exc:
        out.append([exc.lineno or 1, exc.msg])
    except (ValueError, RecursionError, MemoryError) as exc:
        out.append([1, str(exc)])
json.dump(out, sys.stdout)
"""

Verdict = tuple[int, str] | None  # (0-based line, message) of the first error; None: valid

_cache: OrderedDict[str, Verdict] = OrderedDict()
_lock = threading.Lock()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=32)
def _interpreter(root: str | None) -> str | None:
    found = find_python(Path(root) if root else None, minimum=PLUGIN_PYTHON)
    return str(found.path) if found is not None else None


def running_python_decides() -> bool:
    return sys.version_info[:2] >= PLUGIN_PYTHON


def verdicts(texts: list[str], plugin_root: Path | None = None) -> dict[str, Verdict | str]:
    """For each text (that the running Python refused): its verdict under Python 3.12, or the string
    "unknown" when no Python 3.12 could give one.  Keys are the texts."""
    out: dict[str, Verdict | str] = {}
    todo: list[str] = []
    with _lock:
        for t in texts:
            k = _key(t)
            if k in _cache:
                out[t] = _cache[k]
                _cache.move_to_end(k)
            elif t not in todo:
                todo.append(t)
    if not todo:
        return out
    python = _interpreter(str(plugin_root) if plugin_root else None)
    if python is None:
        log.info("no Python >= 3.12 found: Python syntax errors that may be 3.12 syntax are not reported")
        return {**out, **{t: "unknown" for t in todo}}
    sources = [t.replace("\r", " ").replace("\x00", " ") for t in todo]
    try:
        proc = subprocess.run(
            [python, "-I", "-c", _COMPILE_SCRIPT], input=json.dumps(sources), capture_output=True, text=True,
            timeout=_TIMEOUT, env={**os.environ, "PYTHONNOUSERSITE": "1"},
        )
        results = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        results = None
    if not isinstance(results, list) or len(results) != len(todo):
        log.warning("Python 3.12 syntax check with %s failed; syntax errors it would confirm are not reported", python)
        return {**out, **{t: "unknown" for t in todo}}
    with _lock:
        for t, r in zip(todo, results):
            verdict: Verdict = (max(0, int(r[0]) - 1), str(r[1])) if isinstance(r, list) and len(r) == 2 else None
            out[t] = verdict
            _cache[_key(t)] = verdict
            if len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return out

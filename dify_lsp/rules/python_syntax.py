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
   long-lived subprocess (started on first need, ended when dify-lsp exits).
   Its verdict (valid, or the error with 3.12's line and message) is cached by
   content hash, so each text is compiled once.  Rules run on a
   worker thread, never on the editor's event loop.
3. When no such Python exists, or it does not answer in time, nothing is
   reported: a missed syntax error costs less than a false one, and the
   plugin's own run reports it anyway.

Nothing is executed: the subprocess only calls ``ast.parse`` (as Python 3.12 when it is newer).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
from pathlib import Path

from dify_lsp.caches import MISSING, Caches
from dify_lsp.interpreters import find_python

log = logging.getLogger(__name__)

PLUGIN_PYTHON = (3, 12)
_TIMEOUT = 30.0

# A long-lived worker: each stdin line is a JSON list of sources; it answers one line, a JSON list with one
# verdict per source: null (valid) or [line, message].  It ends when its stdin closes (dify-lsp exited).
_COMPILE_SCRIPT = r"""
import ast, json, sys
as_312 = {"feature_version": (3, 12)} if sys.version_info >= (3, 13) else {}
for line in sys.stdin:
    out = []
    for src in json.loads(line):
        try:
            ast.parse(src, "<plugin>", **as_312)
            out.append(None)
        except SyntaxError as exc:
            out.append([exc.lineno or 1, exc.msg])
        except (ValueError, RecursionError, MemoryError) as exc:
            out.append([1, str(exc)])
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class _Worker:
    """One Python 3.12 process compiling sources on request (started once: ~1 ms per request after that)."""

    def __init__(self, python: str):
        self.python = python
        self.proc: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [self.python, "-I", "-c", _COMPILE_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env={**os.environ, "PYTHONNOUSERSITE": "1"},
            )
        return self.proc

    def ask(self, sources: list[str]) -> list | None:
        with self.lock:
            try:
                proc = self._start()
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(json.dumps(sources) + "\n")
                proc.stdin.flush()
                if hasattr(select, "poll"):
                    poller = select.poll()
                    poller.register(proc.stdout, select.POLLIN)
                    if not poller.poll(_TIMEOUT * 1000):
                        raise TimeoutError
                line = proc.stdout.readline()
                return json.loads(line)
            except (OSError, ValueError, TimeoutError, AssertionError):
                self.stop()
                return None

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.SubprocessError):
                pass
            self.proc = None


_workers: dict[str, _Worker] = {}


@atexit.register
def _stop_workers() -> None:
    for w in list(_workers.values()):
        w.stop()

Verdict = tuple[int, str] | None  # (0-based line, message) of the first error; None: valid

_lock = threading.Lock()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Which Python 3.12 serves a plugin describes this machine, not a file: remembered per process (like the
# workers above), so checking many plugins, each with its own index, searches once.
@functools.lru_cache(maxsize=32)
def _interpreter(root: str | None) -> str | None:
    found = find_python(Path(root) if root else None, minimum=PLUGIN_PYTHON)
    return str(found.path) if found is not None else None


def running_python_decides() -> bool:
    return sys.version_info[:2] >= PLUGIN_PYTHON


def verdicts(texts: list[str], plugin_root: Path | None, caches: Caches) -> dict[str, Verdict | str]:
    """For each text (that the running Python refused): its verdict under Python 3.12, or the string
    "unknown" when no Python 3.12 could give one.  Keys are the texts."""
    out: dict[str, Verdict | str] = {}
    todo: list[str] = []
    for t in texts:
        known = caches.syntax_verdicts.get(_key(t), MISSING)
        if known is not MISSING:
            out[t] = known
        elif t not in todo:
            todo.append(t)
    if not todo:
        return out
    python = _interpreter(str(plugin_root) if plugin_root else None)
    if python is None:
        log.info("no Python >= 3.12 found: Python syntax errors that may be 3.12 syntax are not reported")
        return {**out, **{t: "unknown" for t in todo}}
    sources = [t.replace("\r", " ").replace("\x00", " ") for t in todo]
    with _lock:
        worker = _workers.setdefault(python, _Worker(python))
    results = worker.ask(sources)
    if not isinstance(results, list) or len(results) != len(todo):
        log.warning("Python 3.12 syntax check with %s failed; syntax errors it would confirm are not reported", python)
        return {**out, **{t: "unknown" for t in todo}}
    for t, r in zip(todo, results):
        verdict: Verdict = (max(0, int(r[0]) - 1), str(r[1])) if isinstance(r, list) and len(r) == 2 else None
        out[t] = verdict
        caches.syntax_verdicts.put(_key(t), verdict)
    return out

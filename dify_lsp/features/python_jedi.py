"""Ordinary Python completion and hover from jedi, beside the session catalog.

jedi runs on one worker thread (never on the event loop), with the plugin's
own interpreter when one is found (:func:`dify_lsp.interpreters.find_python`:
the plugin's ``.venv``, the ``python`` setting, ...), so it sees the
plugin's installed packages.  Each request waits at most
``JEDI_TIMEOUT`` seconds; while an earlier request still runs, new ones are
answered without jedi rather than queued.  When the cursor is on a session
chain the catalog answers and jedi is not asked at all.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from lsprotocol import types

from dify_lsp import pyscan
from dify_lsp.features import COMPLETION, HOVER, RequestContext, provides
from dify_lsp.interpreters import find_python
from dify_lsp.schema.references import PYTHON
from dify_lsp.textpos import Pos

log = logging.getLogger(__name__)

JEDI_TIMEOUT = 1.5  # seconds; below the server's limit for async providers
MAX_ITEMS = 300

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dify-lsp-jedi")
_state_lock = threading.Lock()
_running_since: float | None = None
_environments: dict[tuple[str | None, str | None], Any] = {}

_KINDS = {
    "module": types.CompletionItemKind.Module,
    "class": types.CompletionItemKind.Class,
    "instance": types.CompletionItemKind.Variable,
    "function": types.CompletionItemKind.Function,
    "param": types.CompletionItemKind.Variable,
    "path": types.CompletionItemKind.File,
    "keyword": types.CompletionItemKind.Keyword,
    "property": types.CompletionItemKind.Property,
    "statement": types.CompletionItemKind.Variable,
}


def environment_for(root: Path | None, configured: str | None) -> Any:
    """The jedi environment for a plugin (cached); None: jedi's default."""
    import jedi

    key = (str(root) if root else None, configured)
    if key in _environments:
        return _environments[key]
    env = None
    interp = find_python(root, configured)
    if interp is not None:
        try:
            env = jedi.create_environment(str(interp.path), safe=False)
        except Exception as exc:  # a broken interpreter: fall back to jedi's own
            log.info("jedi cannot use %s: %s", interp.path, exc)
    _environments[key] = env
    return env


def _script(text: str, path: Path, root: Path | None, configured: str | None):
    import jedi

    env = environment_for(root, configured)
    project = jedi.Project(str(root)) if root else None
    # jedi ends lines at a lone CR too; keep its lines the engine's "\n"-separated ones
    return jedi.Script(code=text.replace("\r", " "), path=str(path), environment=env, project=project)


def _in_worker(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        global _running_since
        with _state_lock:
            _running_since = time.monotonic()
        try:
            return fn()
        finally:
            with _state_lock:
                _running_since = None

    return run


def _busy() -> bool:
    with _state_lock:
        return _running_since is not None and time.monotonic() - _running_since > JEDI_TIMEOUT


async def _ask(fn: Callable[[], Any]) -> Any:
    if _busy():
        return None
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(_executor, _in_worker(fn)), timeout=JEDI_TIMEOUT)
    except asyncio.TimeoutError:
        log.info("jedi took longer than %.1fs; answering without it", JEDI_TIMEOUT)
    except Exception as exc:
        log.debug("jedi failed: %r", exc)
    return None


def _settings_python(ctx: RequestContext) -> str | None:
    return ctx.settings.python or None


@provides(COMPLETION, kinds=(PYTHON,))
def jedi_completion(ctx: RequestContext, pos: Pos):
    if pyscan.chain_at(ctx.lines, pos, ctx.index.caches) is not None:
        return None  # the catalog answers session chains
    text, path, root, configured = ctx.text, ctx.path, ctx.plugin.root if ctx.plugin else None, _settings_python(ctx)

    def work() -> list[types.CompletionItem]:
        script = _script(text, path, root, configured)
        items = []
        for c in script.complete(pos.line + 1, pos.col)[:MAX_ITEMS]:
            items.append(
                types.CompletionItem(
                    label=c.name,
                    kind=_KINDS.get(c.type, types.CompletionItemKind.Text),
                    detail=c.description or None,
                    sort_text=f"1{c.name.startswith('_'):d}{c.name.lower()}",
                )
            )
        return items

    return _ask(work)


@provides(HOVER, kinds=(PYTHON,))
def jedi_hover(ctx: RequestContext, pos: Pos):
    found = pyscan.names_at(ctx.lines, pos, ctx.index.caches)
    if found is not None:
        return None  # the catalog answers session chains
    text, path, root, configured = ctx.text, ctx.path, ctx.plugin.root if ctx.plugin else None, _settings_python(ctx)

    def work() -> str | None:
        script = _script(text, path, root, configured)
        for name in script.help(pos.line + 1, pos.col):
            doc = name.docstring()
            if doc:
                return f"```python\n{name.description}\n```\n\n{doc}" if name.description else doc
        return None

    async def answer() -> types.Hover | None:
        markdown = await _ask(work)
        return types.Hover(contents=ctx.markup(markdown)) if markdown else None

    return answer()


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (jedi_completion, jedi_hover)

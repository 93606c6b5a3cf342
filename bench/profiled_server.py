"""dify-lsp over stdio under cProfile: ``python bench/profiled_server.py DIR``.

Writes ``DIR/dify-lsp-<pid>.prof`` when the server exits (after shutdown/exit,
or end of input).  cProfile sees the main thread only: the request handlers
and the event loop, not the rules, which run on worker threads (profile those
with ``python bench/profiles.py check``).
"""

from __future__ import annotations

import cProfile
import os
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1]) / f"dify-lsp-{os.getpid()}.prof"
    from dify_lsp.server import create_server

    server = create_server()
    prof = cProfile.Profile()
    prof.enable()
    try:
        server.start_io()
    except SystemExit:
        pass
    finally:
        prof.disable()
        prof.dump_stats(out)


if __name__ == "__main__":
    main()

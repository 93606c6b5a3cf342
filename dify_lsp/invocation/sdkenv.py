"""The shared Python 3.12 environment with only the Dify plugin SDK, and the command that builds environments.

Run environments are built by :mod:`dify_lsp.invocation.environments` (uv, as the Dify daemon builds them);
this module keeps the entry points scripts and tests already use::

    python -m dify_lsp.invocation.sdkenv            # builds (once) and prints the shared SDK environment's python
    python -m dify_lsp.invocation.sdkenv --plugin . # builds (once) and prints the plugin's own run environment
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dify_lsp.invocation.environments import (
    SDK_VERSION,
    EnvironmentBuildError,
    ensure_environment,
    ensure_sdk_environment,
)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=f"Build (or reuse) a Python 3.12 environment with uv: the shared one with dify-plugin=={SDK_VERSION}, "
                    "or a plugin's own (from its uv.lock / pyproject.toml / requirements.txt); prints its python")
    parser.add_argument("--plugin", type=Path, help="build this plugin's run environment instead")
    parser.add_argument("--python", help="the Python 3.12 uv builds with (default: found on the machine)")
    parser.add_argument("--rebuild", action="store_true", help="build it again even when it is cached")
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        if args.plugin is not None:
            python = ensure_environment(args.plugin, log, rebuild=args.rebuild, base_python=args.python)
        else:
            python = ensure_sdk_environment(log, rebuild=args.rebuild, base_python=args.python)
    except EnvironmentBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

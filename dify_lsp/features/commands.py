"""The feature modules that add commands (workspace/executeCommand).

The server imports these when it starts, because its initialize answer lists every command; the
other feature modules (and the engine behind them) wait for the first request that needs them
(:mod:`dify_lsp.features.registry`).  So a module here keeps its heavy imports inside its commands.
Each one is also listed in ``registry.FEATURES`` (for its providers); a test checks that every
feature defining ``register`` is here.
"""

from __future__ import annotations

from types import ModuleType

from dify_lsp.features import new_tool, run_invocation

COMMAND_FEATURES: tuple[ModuleType, ...] = (run_invocation, new_tool)

"""The editor features the server offers, in one list.

Adding a feature is one line: its module in ``FEATURES``.  A feature module
lists its providers (functions marked with :func:`dify_lsp.features.provides`)
in ``PROVIDERS``, and may define ``register(server)`` for commands.  For one
method, providers are asked in the order of this list (for hover the first
answer wins).
"""

from __future__ import annotations

from types import ModuleType

from dify_lsp.features import (
    Provider,
    code_actions,
    diagnostics,
    new_tool,
    python_completion,
    python_hover,
    python_jedi,
    python_parameters,
    python_signature,
    references,
    rename,
    run_invocation,
    run_kinds,
    yaml_completion,
    yaml_hover,
    yaml_links,
    yaml_symbols,
)

FEATURES: tuple[ModuleType, ...] = (
    diagnostics,
    code_actions,
    python_completion,
    python_hover,
    python_parameters,
    python_signature,
    python_jedi,
    yaml_completion,
    yaml_hover,
    yaml_links,
    yaml_symbols,
    run_kinds,
    run_invocation,
    rename,
    references,
    new_tool,
)


def _by_method(features: tuple[ModuleType, ...]) -> dict[str, tuple[Provider, ...]]:
    table: dict[str, list[Provider]] = {}
    for feature in features:
        for fn in getattr(feature, "PROVIDERS", ()):
            provider = getattr(fn, "provider", None)
            if not isinstance(provider, Provider):
                raise ValueError(f"{fn.__module__}.{fn.__qualname__} is not marked with @provides(method)")
            table.setdefault(provider.method, []).append(provider)
    return {method: tuple(providers) for method, providers in table.items()}


PROVIDERS: dict[str, tuple[Provider, ...]] = _by_method(FEATURES)


def providers_for(method: str, kind: str | None) -> list[Provider]:
    return [p for p in PROVIDERS.get(method, ()) if p.kinds is None or (kind is not None and kind in p.kinds)]

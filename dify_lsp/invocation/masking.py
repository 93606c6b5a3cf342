"""Keeping secrets (``secret-input`` credentials and parameters) out of logs and results.

Only secret values are masked: a ``text-input`` credential such as ``region: a`` is not a secret, and
masking it as a substring would turn ``Table`` into ``T******ble``.  A secret is replaced only where it
stands whole: as a whole JSON value (a string equal to it), or in text where it is not part of a longer
word (the characters on both sides are not letters, digits or ``_``).  Mapping keys are never rewritten.
A secret shorter than :data:`MIN_SEARCH_LENGTH` is still replaced where it is a whole value, but not
searched for inside text: short values match ordinary words too often.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

MASK = "******"
MIN_SEARCH_LENGTH = 6


class SecretMasker:
    def __init__(self, secrets: Iterable[str] = (), min_search_length: int = MIN_SEARCH_LENGTH) -> None:
        self.min_search_length = min_search_length
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for s in secrets:
            if isinstance(s, str) and s:
                self._values.add(s)
        searched = sorted((s for s in self._values if len(s) >= self.min_search_length), key=len, reverse=True)
        # longest first, so a secret containing another is masked whole
        self._pattern = (
            re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, searched)) + r")(?![A-Za-z0-9_])")
            if searched else None
        )

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, value: str) -> str:
        """``value`` with every whole occurrence of a (long enough) secret replaced by :data:`MASK`."""
        if value in self._values:
            return MASK
        if self._pattern is None:
            return value
        return self._pattern.sub(MASK, value)

    def __call__(self, value: Any) -> Any:
        """A deep copy of ``value`` with secrets replaced in string values (never in keys)."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value

"""Keeping secrets (credentials, secret-input values) out of logs and results."""

from __future__ import annotations

from typing import Any, Iterable

MASK = "******"


class SecretMasker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for s in secrets:
            if isinstance(s, str) and s and s not in self._secrets:
                self._secrets.append(s)
        # longest first, so a secret containing another is masked whole
        self._secrets.sort(key=len, reverse=True)

    def text(self, value: str) -> str:
        for s in self._secrets:
            if s in value:
                value = value.replace(s, MASK)
        return value

    def __call__(self, value: Any) -> Any:
        """A deep copy of ``value`` with every secret replaced by :data:`MASK`."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value

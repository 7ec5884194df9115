"""Mask secret values in any text before it is printed, logged or raised."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

MASK = "******"
MIN_LENGTH = 4  # a shorter secret cannot be masked without garbling other text


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        """Register a secret value. Very short values are refused: masking 'a' would garble everything."""
        if not value:
            return
        if len(value) < MIN_LENGTH:
            raise ValueError("secret values must be at least 4 characters long to be redacted safely")
        with self._lock:
            if value not in self._values:
                self._values.append(value)
                self._values.sort(key=len, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __call__(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            values = list(self._values)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def argv(self, argv: Sequence[str]) -> list[str]:
        return [self(part) for part in argv]


#: Process-wide redactor; secrets resolved from config register themselves here.
REDACTOR = Redactor()

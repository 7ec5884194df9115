"""Mask secret values in any text before it is printed, logged or raised."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from shipyard.errors import SecretError

MASK = "******"
MIN_LENGTH = 4  # a shorter secret cannot be masked without garbling other text


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
        for value in values:
            self.add(value)

    def add(self, value: str, name: str | None = None) -> None:
        """Register a secret value. Very short values are refused: masking 'a' would garble everything. The refusal
        is a one-line SecretError naming the secret (`name`, when the caller knows it), never its value."""
        if not value:
            return
        if len(value) < MIN_LENGTH:
            raise SecretError(f"{f'secret {name}' if name else 'a secret'}: its value is shorter than {MIN_LENGTH}"
                              " characters, too short to be masked in output",
                              hint="use a longer value (a random one: openssl rand -hex 16)")
        with self._lock:
            if value not in self._values:
                self._values.append(value)
                self._values.sort(key=len, reverse=True)

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

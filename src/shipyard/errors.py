"""Typed errors. Every error a user can cause is a ShipyardError whose str() is one line.

Task wrappers turn these into a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations


class ShipyardError(Exception):
    """Base for errors caused by input or environment; printed as one line, no traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (next: {self.hint})"
        return self.message


class ConfigError(ShipyardError):
    """shipyard.yaml is missing, unreadable or invalid. Carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        first = problems[0] if problems else "invalid configuration"
        more = f" (and {len(problems) - 1} more problem(s); run `shipyard config.check`)" if len(problems) > 1 else ""
        super().__init__(first + more)

    def __str__(self) -> str:
        return self.message


class ReleaseError(ShipyardError):
    """The working tree cannot be released as it is (dirty tree, no commits...)."""


class SecretError(ShipyardError):
    """A secret named in shipyard.yaml could not be resolved. Never carries the value."""

"""Secrets by name: values come from the environment or from a file outside the repository.

A Secret's repr and str never show the value; code that needs it calls reveal(). Every
resolved value is registered with the redactor so the execution layer masks it everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from shipyard.config.loader import Config
from shipyard.errors import SecretError
from shipyard.run.redact import REDACTOR, Redactor


class Secret:
    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, '******')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("secrets cannot be pickled")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def resolve(config: Config, names: list[str] | None = None, *, environ: Mapping[str, str] | None = None,
            redactor: Redactor = REDACTOR) -> dict[str, Secret]:
    """Resolve the named secrets (all by default). Missing values raise SecretError naming the source."""
    environ = os.environ if environ is None else environ
    wanted = list(config.project.secrets) if names is None else names
    out: dict[str, Secret] = {}
    for name in wanted:
        ref = config.project.secrets.get(name)
        if ref is None:
            raise SecretError(f"secret '{name}' is not declared under secrets: in {config.path.name}")
        if ref.env is not None:
            value = environ.get(ref.env)
            if not value:
                raise SecretError(f"secret {name}: environment variable {ref.env} is not set",
                                  hint=f"export {ref.env}=... (or set it in your CI secrets)")
        else:
            assert ref.file is not None
            path = Path(ref.file).expanduser()
            if not path.is_absolute():
                path = config.root / path
            if _inside(path, config.root):
                raise SecretError(f"secret {name}: file {ref.file} is inside the repository; "
                                  "keep secret files outside git (for example ~/.config/shipyard/)")
            try:
                value = path.read_text(encoding="utf-8").strip()
            except OSError:
                raise SecretError(f"secret {name}: cannot read file {path}") from None
            except UnicodeDecodeError:
                raise SecretError(f"secret {name}: file {path} is not UTF-8 text") from None
            if not value:
                raise SecretError(f"secret {name}: file {path} is empty")
        redactor.add(value, name)  # a value too short to mask is refused here, naming the secret
        out[name] = Secret(name, value)
    return out

"""The dry-run backend: prints each command, per host, and runs nothing."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping, Sequence

from shipyard.run.base import DEFAULT_TIMEOUT, Result
from shipyard.run.redact import REDACTOR, Redactor


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")


class DryRunRunner:
    dry_run = True

    def __init__(self, host: str = "local", redactor: Redactor = REDACTOR,
                 printer: Callable[[str], None] = _stdout) -> None:
        self.host = host
        self.redactor = redactor
        self.printer = printer
        self.commands: list[list[str]] = []

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        shown = self.redactor.argv([str(a) for a in argv])
        self.commands.append(shown)
        where = f" (in {cwd})" if cwd else ""
        self.printer(f"[{self.host}] would run: {shlex.join(shown)}{where}")
        return Result(tuple(shown), 0, "", "", 0.0, self.host)

    def interactive(self, argv: Sequence[str], *, cwd: str | None = None,
                    env: Mapping[str, str] | None = None) -> int:
        self.run(argv, cwd=cwd, env=env)
        return 0

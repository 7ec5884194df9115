"""What every backend shares: the result, the typed errors, and the runner interface."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shipyard.errors import ShipyardError
from shipyard.run.redact import REDACTOR, Redactor

log = logging.getLogger("shipyard.run")
TAIL_LINES = 20
DEFAULT_TIMEOUT = 600.0


def one_line(argv: Sequence[str], limit: int = 160) -> str:
    """A command as one short line for messages (the full argv stays on the error object)."""
    text = " ".join(shlex.join(argv).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    host: str = "local"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class CommandError(ShipyardError):
    """A command failed. Carries the (redacted) command, exit code and the tail of stderr."""

    def __init__(self, argv: Sequence[str], exit_code: int, stderr: str, host: str = "local",
                 redactor: Redactor = REDACTOR) -> None:
        self.argv = redactor.argv(argv)
        self.exit_code = exit_code
        self.host = host
        self.stderr_tail = redactor(tail(stderr))
        first = self.stderr_tail.splitlines()[-1] if self.stderr_tail else "no error output"
        super().__init__(f"[{host}] `{one_line(self.argv)}` failed with exit code {exit_code}: {first}")


class CommandTimeout(CommandError):
    def __init__(self, argv: Sequence[str], timeout: float, stderr: str, host: str = "local",
                 redactor: Redactor = REDACTOR) -> None:
        super().__init__(argv, -1, stderr, host, redactor)
        self.timeout = timeout
        self.message = f"[{host}] `{one_line(self.argv)}` timed out after {timeout:g}s"
        self.args = (self.message,)


class HostUnreachable(ShipyardError):
    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"[{host}] unreachable: {reason}")
        self.host = host


class UnknownHostKey(ShipyardError):
    def __init__(self, host: str, port: int, known_hosts: str) -> None:
        target = host if port == 22 else f"[{host}]:{port}"
        super().__init__(
            f"[{host}:{port}] host key is not in {known_hosts}; refusing to connect",
            hint=f"check the fingerprint out of band, then run `ssh-keyscan -p {port} {host} >> {known_hosts}`"
            f" (the entry will read {target})",
        )


class Runner(Protocol):
    """Runs argv somewhere: this machine, a host over SSH, or nowhere (dry run)."""

    host: str
    dry_run: bool

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result: ...


def attached(runner: Runner, argv: Sequence[str], *, cwd: str | None = None,
             env: Mapping[str, str] | None = None) -> int:
    """Run `argv` attached to this terminal through `runner` (local and dry-run runners can); its exit code."""
    interactive = getattr(runner, "interactive", None)
    if interactive is None:
        raise ShipyardError(f"{runner.host}: this runner cannot attach a terminal")
    code: int = interactive(argv, cwd=cwd, env=env)
    return code


def log_command(host: str, argv: Sequence[str], redactor: Redactor = REDACTOR) -> None:
    log.info("[%s] $ %s", host, shlex.join(redactor.argv(argv)))


def finish(result: Result, check: bool, redactor: Redactor = REDACTOR) -> Result:
    log.debug("[%s] exit %d in %.2fs", result.host, result.exit_code, result.duration)
    if check and result.exit_code != 0:
        raise CommandError(result.argv, result.exit_code, result.stderr, result.host, redactor)
    return result

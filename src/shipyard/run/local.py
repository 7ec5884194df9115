"""Run commands on this machine, without a shell."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from shipyard.errors import ShipyardError
from shipyard.run.base import DEFAULT_TIMEOUT, CommandTimeout, Result, finish, log_command
from shipyard.run.redact import REDACTOR, Redactor


def _print_line(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


INTERRUPT_GRACE = 5.0


def stop_group(proc: subprocess.Popen[str], *, interrupted: bool = False) -> None:
    """SIGKILL the command and every process it started. It leads its own session and process group, so that a
    timeout leaves none of a shell's children running (and holding our pipes); for the same reason ^C no longer
    reaches it from the terminal, so on `interrupted` it gets SIGINT first and INTERRUPT_GRACE seconds to stop."""
    try:
        if interrupted:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            proc.wait(INTERRUPT_GRACE)
    except subprocess.TimeoutExpired:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class LocalRunner:
    host = "local"
    dry_run = False

    def __init__(self, redactor: Redactor = REDACTOR, echo: Callable[[str], None] = _print_line) -> None:
        self.redactor = redactor
        self.echo = echo

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        argv = [str(a) for a in argv]
        log_command(self.host, argv, self.redactor)
        full_env = {**os.environ, **(env or {})}
        start = time.monotonic()
        try:
            if stream:
                code, out, err = self._stream(argv, timeout, full_env, cwd, input)
            else:
                code, out, err = self._capture(argv, timeout, full_env, cwd, input)
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            raise CommandTimeout(argv, timeout or 0, stderr, self.host, self.redactor) from None
        except FileNotFoundError:
            raise ShipyardError(f"[local] `{argv[0]}` is not installed or not on PATH") from None
        result = Result(tuple(argv), code, out, err, time.monotonic() - start, self.host)
        return finish(result, check, self.redactor)

    def interactive(self, argv: Sequence[str], *, cwd: str | None = None,
                    env: Mapping[str, str] | None = None) -> int:
        """Run attached to this terminal (an interactive shell): nothing captured, the exit code returned."""
        argv = [str(a) for a in argv]
        log_command(self.host, argv, self.redactor)
        try:
            return subprocess.call(argv, cwd=cwd, env={**os.environ, **(env or {})})
        except FileNotFoundError:
            raise ShipyardError(f"[local] `{argv[0]}` is not installed or not on PATH") from None

    def _capture(self, argv: list[str], timeout: float | None, env: dict[str, str], cwd: str | None,
                 input: str | None) -> tuple[int, str, str]:
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                              stdin=subprocess.PIPE if input is not None else None, errors="replace",
                              start_new_session=True) as proc:
            try:
                out, err = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                stop_group(proc)
                raise subprocess.TimeoutExpired(argv, timeout or 0, output=exc.output, stderr=exc.stderr) from None
            except BaseException:  # ^C
                stop_group(proc, interrupted=True)
                raise
        return proc.returncode, out, err

    def _stream(self, argv: list[str], timeout: float | None, env: dict[str, str], cwd: str | None,
                input: str | None) -> tuple[int, str, str]:
        """Echo merged output line by line (redacted) while keeping it for the result."""
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                cwd=cwd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                errors="replace", start_new_session=True)
        lines: list[str] = []

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                self.echo(self.redactor(line))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        if input is not None and proc.stdin is not None:
            proc.stdin.write(input)
            proc.stdin.close()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            reader.join(timeout=5)
            raise subprocess.TimeoutExpired(argv, timeout or 0, stderr="".join(lines)) from None
        except BaseException:  # ^C
            stop_group(proc, interrupted=True)
            raise
        reader.join(timeout=5)
        text = "".join(lines)
        return code, text, text

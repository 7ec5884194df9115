"""Run commands on a host over SSH with Fabric, verifying its key against a known_hosts file."""

from __future__ import annotations

import io
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.run.base import (
    DEFAULT_TIMEOUT,
    CommandTimeout,
    HostUnreachable,
    Result,
    UnknownHostKey,
    finish,
    log_command,
)
from shipyard.run.redact import REDACTOR, Redactor


class _RedactingStream(io.TextIOBase):
    """A write-only stream that echoes complete lines with secrets masked."""

    def __init__(self, redactor: Redactor, target: Any, prefix: str) -> None:
        self.redactor, self.target, self.prefix, self.buffer = redactor, target, prefix, ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.target.write(f"{self.prefix}{self.redactor(line)}\n")
        return len(text)

    def flush(self) -> None:
        if self.buffer:
            self.target.write(f"{self.prefix}{self.redactor(self.buffer)}\n")
            self.buffer = ""
        self.target.flush()


class _WholeInput(io.StringIO):
    """Stdin for a remote command, handed over in one read: Invoke reads a non-terminal stream one
    character per loop turn with a 10 ms sleep, which made a 2 kB input take ~20 s."""

    def read(self, size: int | None = -1) -> str:
        return super().read()


class SSHRunner:
    """One host. Lazily connects; the connection is reused for every command."""

    dry_run = False

    def __init__(self, address: str, *, port: int = 22, user: str = "root", key: str | None = None,
                 known_hosts: str = "~/.ssh/known_hosts", connect_timeout: float = 10.0,
                 name: str | None = None, redactor: Redactor = REDACTOR) -> None:
        self.address, self.port, self.user = address, port, user
        self.key = str(Path(key).expanduser()) if key else None
        self.known_hosts = str(Path(known_hosts).expanduser())
        self.connect_timeout = connect_timeout
        self.host = name or (address if port == 22 else f"{address}:{port}")
        self.redactor = redactor
        self._conn: Any = None

    @property
    def connection(self) -> Any:
        """The open Fabric Connection (an Invoke Context), connecting on first use."""
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> Any:
        import paramiko
        from fabric import Config, Connection

        connect_kwargs: dict[str, Any] = {"look_for_keys": self.key is None, "allow_agent": self.key is None}
        if self.key:
            connect_kwargs["key_filename"] = [self.key]
        conn = Connection(self.address, user=self.user, port=self.port, connect_timeout=self.connect_timeout,
                          connect_kwargs=connect_kwargs,
                          config=Config(overrides={"load_ssh_configs": False}))
        client = paramiko.SSHClient()
        if Path(self.known_hosts).is_file():
            client.load_host_keys(self.known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        conn.client = client
        try:
            conn.open()
        except paramiko.BadHostKeyException:
            raise ShipyardError(
                f"[{self.host}] host key does NOT match {self.known_hosts}: possible man-in-the-middle; refusing",
                hint="if the host was rebuilt, remove its old line from known_hosts and trust it again") from None
        except paramiko.AuthenticationException:
            raise ShipyardError(f"[{self.host}] SSH authentication failed for user {self.user}",
                                hint="check environments.<env>.ssh.key and the user") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise UnknownHostKey(self.address, self.port, self.known_hosts) from None
            raise HostUnreachable(self.host, self.redactor(str(exc))) from None
        except (TimeoutError, OSError) as exc:
            raise HostUnreachable(self.host, exc.strerror or exc.__class__.__name__) from None
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        from invoke.exceptions import CommandTimedOut

        argv = [str(a) for a in argv]
        log_command(self.host, argv, self.redactor)
        command = shlex.join(argv)
        if cwd:
            command = f"cd {shlex.quote(cwd)} && {command}"
        kwargs: dict[str, Any] = {"warn": True, "timeout": timeout, "pty": False,
                                  "in_stream": _WholeInput(input) if input is not None else False}
        if env:
            kwargs["env"] = dict(env)
        if stream:
            prefix = f"[{self.host}] "
            kwargs.update(hide=False, out_stream=_RedactingStream(self.redactor, sys.stdout, prefix),
                          err_stream=_RedactingStream(self.redactor, sys.stderr, prefix))
        else:
            kwargs["hide"] = True
        start = time.monotonic()
        conn = self.connection
        try:
            res = conn.run(command, **kwargs)
        except CommandTimedOut as exc:
            raise CommandTimeout(argv, timeout or 0, exc.result.stderr, self.host, self.redactor) from None
        except (OSError, EOFError) as exc:
            self.close()
            raise HostUnreachable(self.host, f"connection lost ({exc.__class__.__name__})") from None
        result = Result(tuple(argv), res.exited, res.stdout, res.stderr, time.monotonic() - start, self.host)
        return finish(result, check, self.redactor)

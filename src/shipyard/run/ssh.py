"""Run commands on a host over SSH with Fabric, verifying its key against a known_hosts file."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
import shlex
import sys
import threading
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
    log,
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


#: Before the command starts, the remote shell writes its PID (also its process group's: sshd starts each command
#: in a new session) as a line of stderr; the runner takes that line out and uses it to kill the command on a
#: timeout.
PID_MARKER = b"shipyard-remote-pid="
KILL_WAIT = 5.0


def with_pid_marker(command: str) -> str:
    return f"printf '{PID_MARKER.decode()}%s\\n' \"$$\" >&2; {command}"


def kill_remote_group(conn: Any, pgid: int, wait: float = KILL_WAIT) -> None:
    """SIGKILL a process group on the host, over a new channel of the same connection."""
    channel = conn.create_session()
    try:
        channel.exec_command(f"kill -s KILL -- -{pgid}")
        deadline = time.monotonic() + wait
        while not channel.exit_status_ready() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        channel.close()


@functools.cache
def _remote_runner() -> type:
    """Fabric's Remote runner, except that a timeout kills the remote command and its children.

    Fabric only closes the channel on a timeout, and without a PTY sshd then leaves the command running on
    the host. The "signal" channel request would reach it, but OpenSSH refuses it for root logins.
    """
    from fabric.runners import Remote

    class KillingRemote(Remote):  # type: ignore[misc]
        remote_pid: int | None = None
        _head = b""
        _marker_done = False
        _killed = False

        def read_proc_stderr(self, num_bytes: int) -> bytes:
            # Lines before the marker (a login script's noise) pass through; the marker line is taken out.
            while not self._marker_done:
                chunk = self.channel.recv_stderr(num_bytes)
                if not chunk:  # end of stderr without the marker
                    self._marker_done = True
                    rest, self._head = self._head, b""
                    return rest
                self._head += chunk
                passed = b""
                while b"\n" in self._head and not self._marker_done:
                    line, _, self._head = self._head.partition(b"\n")
                    before, marker, pid = line.rpartition(PID_MARKER)
                    if marker and pid.isdigit():
                        self.remote_pid, self._marker_done = int(pid), True
                        passed += before  # the end of a login script's line that had no newline
                    else:
                        passed += line + b"\n"
                if self._marker_done:
                    passed, self._head = passed + self._head, b""
                if passed:
                    return passed
            data: bytes = self.channel.recv_stderr(num_bytes)
            return data

        def _write_proc_stdin(self, data: bytes) -> None:
            # A command may exit (and close its channel) before reading all of its input, e.g. the lock script
            # refusing at once. Its exit status tells what happened; the unread input is dropped, not turned into
            # a "connection lost" (a connection that really died still ends the command with no exit status).
            try:
                self.channel.sendall(data)
            except OSError as exc:
                log.debug("[%s] the command closed its input early: %s", self.context.host, exc)

        def close_proc_stdin(self) -> None:
            with contextlib.suppress(OSError):
                self.channel.shutdown_write()

        @property
        def timed_out(self) -> bool:
            # True from the moment kill() starts: the command may end before kill() returns.
            return self._killed or bool(super().timed_out)

        def kill(self) -> None:
            self._killed = True
            if self.remote_pid is not None:
                log.debug("[%s] killing remote process group %d after the timeout", self.context.host,
                          self.remote_pid)
                try:
                    kill_remote_group(self.context, self.remote_pid)
                except Exception as exc:  # the connection may be gone; closing the channel is all that is left
                    log.debug("could not kill remote process group %d: %s", self.remote_pid, exc)
            super().kill()

    return KillingRemote


def load_known_hosts(keys: Any, path: str) -> None:
    """Pinned keys from an OpenSSH known_hosts file into paramiko's HostKeys.

    paramiko cannot read OpenSSH's markers: `@cert-authority` lines (certificates, which it cannot verify) are
    skipped, so such hosts need a plain pinned line; a `@revoked` line is refused rather than silently ignored.
    """
    import paramiko

    text = Path(path).read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("@cert-authority"):
            continue
        if stripped.startswith("@"):
            raise ShipyardError(f"{path}:{number}: a {stripped.split()[0]} line, which Shipyard's SSH client cannot"
                                " honour", hint="keep revocations in a known_hosts file of their own, and remove"
                                                " the revoked key's plain line from this one")
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(stripped, number)
        except (paramiko.hostkeys.InvalidHostKey, paramiko.SSHException, ValueError, TypeError) as exc:
            raise ShipyardError(f"{path}:{number}: not a known_hosts line ({exc.__class__.__name__})",
                                hint="fix or remove that line (`ssh-keygen -R host` removes a host's lines)") from None
        if entry is None:  # a key type paramiko does not know: it cannot match anyway
            continue
        for name in entry.hostnames:
            keys.add(name, entry.key.get_name(), entry.key)


def with_env(command: str, env: Mapping[str, str]) -> str:
    """`command` run with `env` exported, every value shell-quoted (a name that is not one is refused)."""
    for name in env:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise ValueError(f"not an environment variable name: {name!r}")
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in sorted(env.items()))
    return f"export {exports} && {command}"


#: paramiko renegotiates keys after 512 MiB either way; while it does, its transport thread answers a channel's
#: close by waiting for the new keys that only that same thread can receive, times out after 30 s and drops the
#: whole connection (seen relaying a few hundred MB of image layers through the registry tunnel). OpenSSH's own
#: default for the 128-bit block ciphers it negotiates is far higher (RFC 4344: 2**32 blocks); this stays below it.
REKEY_BYTES = 2**36


def _raise_rekey_limit(transport: Any) -> None:
    packetizer = getattr(transport, "packetizer", None)
    if packetizer is not None:
        packetizer.REKEY_BYTES = max(getattr(packetizer, "REKEY_BYTES", 0), REKEY_BYTES)


class _ClosedSocketNoise(logging.Filter):
    """paramiko logs `Socket exception: Bad file descriptor` at ERROR whenever a connection is closed while its
    transport thread waits in recv(), which every close may do. A connection that really drops mid-command is
    reported by the runner in one line; this line stays visible at debug level only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and "Bad file descriptor" in record.getMessage():
            return log.isEnabledFor(logging.DEBUG)
        return True


logging.getLogger("paramiko.transport").addFilter(_ClosedSocketNoise())


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
        self._conn_lock = threading.RLock()

    @property
    def connection(self) -> Any:
        """The open Fabric Connection (an Invoke Context), connecting on first use."""
        with self._conn_lock:  # a lease renewer and the deploy share this runner: one connection between them
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
                          config=Config(overrides={"load_ssh_configs": False,
                                                   "runners": {"remote": _remote_runner()}}))
        client = paramiko.SSHClient()
        if Path(self.known_hosts).is_file():
            load_known_hosts(client.get_host_keys(), self.known_hosts)
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
        _raise_rekey_limit(conn.transport)
        return conn

    def close(self, conn: Any = None) -> None:
        """Close the connection; with `conn`, only if it is still the current one (a thread that saw its connection
        die must not close the new one that another thread has opened since)."""
        with self._conn_lock:
            if self._conn is None or (conn is not None and conn is not self._conn):
                return
            self._conn.close()
            self._conn = None

    def reverse_tunnel(self, remote_port: int, *, local_port: int | None = None) -> Any:
        """The host's 127.0.0.1:`remote_port` forwarded to this machine's 127.0.0.1 (a `ReverseTunnel`; close it)."""
        import paramiko

        from shipyard.run.tunnel import ReverseTunnel

        conn = self.connection
        try:
            return ReverseTunnel(conn.transport, remote_port, local_port=local_port, name=self.host)
        except (OSError, EOFError) as exc:
            self.close(conn)
            raise HostUnreachable(self.host, f"connection lost ({exc.__class__.__name__})") from None
        except paramiko.SSHException as exc:  # sshd refused the forward: the port is taken on the host
            raise ShipyardError(f"[{self.host}] the host refused to forward its 127.0.0.1:{remote_port} "
                                f"({self.redactor(str(exc))})",
                                hint="another deploy may be pulling through that port; wait for it to finish") from None

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        from invoke.exceptions import CommandTimedOut, ThreadException

        argv = [str(a) for a in argv]
        log_command(self.host, argv, self.redactor)
        command = shlex.join(argv)
        if cwd:
            command = f"cd {shlex.quote(cwd)} && {command}"
        if env:  # quoted here: Fabric's own env= pastes values into the command unquoted. Values are visible in the
            # remote shell's command line, so secrets never travel this way (env files are written from stdin).
            command = with_env(command, env)
        command = with_pid_marker(command)
        kwargs: dict[str, Any] = {"warn": True, "timeout": timeout, "pty": False,
                                  "in_stream": _WholeInput(input) if input is not None else False}
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
            self.close(conn)
            raise HostUnreachable(self.host, f"connection lost ({exc.__class__.__name__})") from None
        except ThreadException as exc:  # Invoke's stdin/stdout threads saw the channel die under them
            self.close(conn)
            causes = sorted({wrapper.value.__class__.__name__ for wrapper in exc.exceptions})
            raise HostUnreachable(self.host, f"connection lost ({', '.join(causes) or 'I/O thread failed'})") from None
        result = Result(tuple(argv), res.exited, res.stdout, res.stderr, time.monotonic() - start, self.host)
        return finish(result, check, self.redactor)

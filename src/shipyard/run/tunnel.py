"""A reverse tunnel over an open SSH connection: the host's 127.0.0.1:PORT reaches this machine's 127.0.0.1:PORT.

Why not Fabric's `forward_remote`: its per-connection relay waits in `select()` on the channel's `fileno()`, a pipe
that paramiko closes when the relay closes the channel while the transport thread may still be signalling it. Under
many short connections (a `docker login` or a pull is dozens), the transport thread then writes to a closed or,
worse, reused descriptor, logs `Socket exception: Bad file descriptor` and the whole SSH connection dies (seen in CI
while three hosts pulled at once). This relay never asks a channel for a descriptor: each forwarded connection is
two threads, one per direction, each blocking in `recv()`, so no pipe exists to race on.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

from shipyard.run.base import log

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 10.0


def _pump(recv: Callable[[int], bytes], sendall: Callable[[bytes], Any], eof: Callable[[], Any]) -> bool:
    """Copy until end of stream, then pass the end on. False when either side failed (the pair must be closed)."""
    try:
        while data := recv(CHUNK):
            sendall(data)
    except (OSError, EOFError):
        return False
    with contextlib.suppress(OSError, EOFError):
        eof()
    return True


class ReverseTunnel:
    """Forwards the host's 127.0.0.1:`remote_port` to `local_host`:`local_port` here until `close()`."""

    def __init__(self, transport: Any, remote_port: int, *, local_port: int | None = None,
                 local_host: str = "127.0.0.1", name: str = "") -> None:
        self.transport, self.remote_port = transport, remote_port
        self.local = (local_host, local_port or remote_port)
        self.name = name
        self._lock = threading.Lock()
        self._pairs: set[tuple[Any, socket.socket]] = set()
        self._closed = False
        # The handler runs on paramiko's transport thread, which must never block: it only starts a thread.
        transport.request_port_forward("127.0.0.1", remote_port, handler=self._accept)

    def _accept(self, channel: Any, origin: Any, server: Any) -> None:
        threading.Thread(target=self._serve, args=(channel,), daemon=True,
                         name=f"tunnel-{self.name}-{self.remote_port}").start()

    def _serve(self, channel: Any) -> None:
        try:
            sock = socket.create_connection(self.local, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            log.debug("[%s] tunnel: cannot reach %s:%d here: %s", self.name, *self.local, exc)
            with contextlib.suppress(Exception):
                channel.close()
            return
        sock.settimeout(None)
        pair = (channel, sock)
        with self._lock:
            if self._closed:
                self._close_pair(pair)
                return
            self._pairs.add(pair)
        try:
            upstream_ok = [True]

            def up() -> None:
                upstream_ok[0] = _pump(sock.recv, channel.sendall, channel.shutdown_write)
                if not upstream_ok[0]:
                    self._close_pair(pair)  # unblocks the other direction

            uploader = threading.Thread(target=up, daemon=True, name=f"tunnel-{self.name}-up")
            uploader.start()
            if not _pump(channel.recv, sock.sendall, lambda: sock.shutdown(socket.SHUT_WR)):
                self._close_pair(pair)
            uploader.join()
        finally:
            self._close_pair(pair)
            with self._lock:
                self._pairs.discard(pair)

    @staticmethod
    def _close_pair(pair: tuple[Any, socket.socket]) -> None:
        channel, sock = pair
        with contextlib.suppress(Exception):
            sock.close()
        with contextlib.suppress(Exception):
            channel.close()

    @property
    def alive(self) -> bool:
        """Still forwarding: not closed, and its SSH connection is up."""
        return not self._closed and bool(self.transport.is_active())

    @property
    def active(self) -> int:
        """Connections being relayed now."""
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        """Stop listening on the host and cut every relayed connection (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pairs = list(self._pairs)
        with contextlib.suppress(Exception):  # the transport may already be gone
            self.transport.cancel_port_forward("127.0.0.1", self.remote_port)
        for pair in pairs:
            self._close_pair(pair)

    def __enter__(self) -> ReverseTunnel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

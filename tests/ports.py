"""Free TCP ports on 127.0.0.1 for tests (importable from every test folder: tests/ holds the root conftest)."""

from __future__ import annotations

import socket


def free_port(preferred: int | None = None) -> int:
    """`preferred` when it is free, else any free port the kernel hands out."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")

"""The registry's reverse tunnel over real SSH: many short connections at once, and the connection survives them.

CI lost whole SSH connections (`paramiko.transport: Socket exception: Bad file descriptor`) while hosts pulled
through Fabric's `forward_remote`, whose relay selects on a channel pipe that closing races with the transport
thread. `run.tunnel.ReverseTunnel` relays without that pipe; this test drives it the way `docker pull` does.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from shipyard.errors import ShipyardError
from shipyard.run import SSHRunner

pytestmark = pytest.mark.ssh

BODY = bytes(range(256)) * 1024  # 256 kB: several SSH window updates per response
BIG = 16  # the rekey test's responses are BIG times longer
CLIENT = r"""
import hashlib, socket, sys, threading
port, threads, each = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
digests, errors = [], []
def fetch(n):
    mode = sys.argv[4] if sys.argv[4] != "mixed" else ("big" if n % 2 else "small")
    for i in range(each * (8 if sys.argv[4] == "mixed" and mode == "small" else 1)):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(f"GET /{mode}/{n}/{i} HTTP/1.0\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                # Like TLS's close_notify: the client still sends while the server's side has closed.
                try:
                    s.sendall(b"bye" * 100)
                except OSError:
                    pass
            digests.append(hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).hexdigest())
        except Exception as exc:
            errors.append(repr(exc))
workers = [threading.Thread(target=fetch, args=(n,)) for n in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(len(digests), len(set(digests)), *set(digests))
for e in errors[:3]: print("error", e)
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, as many short connections as possible

    def do_GET(self) -> None:
        times = BIG if self.path.startswith("/big/") else 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY) * times))
        self.end_headers()
        for _ in range(times):
            self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_many_short_connections_through_the_tunnel_keep_the_connection(ssh_host, local_server) -> None:  # type: ignore[no-untyped-def]
    runner: SSHRunner = ssh_host.runner()
    remote_port = 20000 + local_server % 10000
    threads, each = 12, 25
    try:
        tunnel = runner.reverse_tunnel(remote_port, local_port=local_server)
        with tunnel:
            for _ in range(2):  # 600 connections, 150 MB relayed
                result = runner.run(["python3", "-c", CLIENT, str(remote_port), str(threads), str(each), "small"],
                                    timeout=300)
                count, distinct, *digests = result.stdout.split()[:3]
                assert (count, distinct) == (str(threads * each), "1"), result.stdout
                assert digests == [hashlib.sha256(BODY).hexdigest()]
                assert tunnel.alive
        assert not tunnel.alive and tunnel.active == 0
        # Closed: the host's port no longer forwards, and the same connection still runs commands.
        probe = f"import socket; s = socket.socket(); print(s.connect_ex(('127.0.0.1', {remote_port})))"
        assert runner.run(["python3", "-c", probe]).stdout.strip() != "0"
        assert runner.run(["echo", "still here"]).stdout == "still here\n"
    finally:
        runner.close()


def test_more_than_paramikos_rekey_volume_while_connections_close(ssh_host, local_server) -> None:  # type: ignore[no-untyped-def]
    """paramiko renegotiates keys after 512 MiB by default, and a channel closing meanwhile dropped the connection
    ("Key-exchange timed out waiting for key negotiation"): an image pull of that size through the tunnel failed."""
    runner: SSHRunner = ssh_host.runner()
    remote_port = 20000 + local_server % 10000
    threads, each = 16, 20  # 8 threads fetch 160 responses of 4 MiB (640 MiB), 8 others open 1,280 short connections
    try:
        with runner.reverse_tunnel(remote_port, local_port=local_server) as tunnel:
            result = runner.run(["python3", "-c", CLIENT, str(remote_port), str(threads), str(each), "mixed"],
                                timeout=600)
            count, distinct, *digests = result.stdout.split()[:4]
            assert (count, distinct) == (str(threads // 2 * each * 9), "2"), result.stdout
            assert sorted(digests) == sorted(hashlib.sha256(body).hexdigest() for body in (BODY, BODY * BIG))
            assert tunnel.alive
        assert runner.run(["echo", "still here"]).stdout == "still here\n"
    finally:
        runner.close()


def test_a_connection_to_nothing_here_is_refused_on_the_host_and_the_tunnel_lives(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner: SSHRunner = ssh_host.runner()
    with socket.socket() as probe:  # a local port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    remote_port = 20000 + dead_port % 10000
    script = ("import urllib.request, sys\ntry:\n"
              " urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[1]}/', timeout=20)\n"
              "except Exception as exc:\n print(type(exc).__name__)")
    try:
        with runner.reverse_tunnel(remote_port, local_port=dead_port) as tunnel:
            out = runner.run(["python3", "-c", script, str(remote_port)], timeout=60).stdout.strip()
            assert out in ("RemoteDisconnected", "URLError", "ConnectionResetError"), out
            assert tunnel.alive
    finally:
        runner.close()


def test_a_port_already_forwarded_on_the_host_is_one_clear_error(ssh_host, local_server) -> None:  # type: ignore[no-untyped-def]
    first, second = ssh_host.runner(), ssh_host.runner()
    remote_port = 20000 + local_server % 10000
    try:
        with (first.reverse_tunnel(remote_port, local_port=local_server),
              pytest.raises(ShipyardError, match=rf"refused to forward its 127.0.0.1:{remote_port} ")):
            second.reverse_tunnel(remote_port, local_port=local_server)
        with second.reverse_tunnel(remote_port, local_port=local_server) as tunnel:  # free again once closed
            assert tunnel.alive
    finally:
        first.close()
        second.close()

"""The proxy and an app's keep-alive timeout, on the real HAProxy image with the configuration Shipyard renders.

An app closes an idle keep-alive connection when its own timer fires (Node and uvicorn after 5 s). When HAProxy
sends a request on that connection at the same moment, the app never answers it. HAProxy's `http-reuse safe`
then closes the client's connection without an answer, and a client that does not retry (this repository's strict
load client, many API clients) sees `RemoteDisconnected`. That was one dropped request in a reference-stack deploy.

The race is made deterministic here: the stand-in app answers the first request of each connection and closes the
connection, unanswered, on the next one. This is the app's side of the race at the worst possible moment, every time.
"""

from __future__ import annotations

import http.client
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ports import free_port
from shipyard.commands.haproxy import Backend, render_config
from shipyard.commands.layout import HostLayout

pytestmark = [pytest.mark.docker]

APP = r'''
import socket, threading

def serve(conn):
    answered, buffer = 0, b""
    with conn:
        while data := conn.recv(65536):
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                buffer = buffer[length:]
                if answered and not head.split(b" ")[1].startswith(b"/ready"):
                    return  # the keep-alive timer fired: closed, unanswered
                answered += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

listener = socket.create_server(("0.0.0.0", 3000))
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
'''


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=False)


def start_proxy(config: str, base_images: dict[str, str], folder: Path) -> Iterator[int]:
    """The app (blue, live) and HAProxy on their own network; the proxy's public port on 127.0.0.1."""
    project = f"ka-{uuid.uuid4().hex[:8]}"
    layout = HostLayout(project=project)
    (folder / "conf").mkdir()
    (folder / "conf" / "haproxy.cfg").write_text(config.replace("__PROJECT__", project))
    (folder / "app.py").write_text(APP)
    port = free_port()
    names = [layout.container("web", "blue"), layout.proxy_container]
    try:
        assert docker("network", "create", layout.network).returncode == 0
        app = docker("run", "-d", "--name", names[0], "--network", layout.network, "--volume",
                     f"{folder}:/srv:ro", base_images["python"], "python3", "/srv/app.py")
        assert app.returncode == 0, app.stderr
        proxy = docker("run", "-d", "--name", names[1], "--network", layout.network, "--tmpfs", "/var/run/shipyard",
                       "--volume", f"{folder / 'conf'}:/usr/local/etc/haproxy:ro", "--publish", f"127.0.0.1:{port}:80",
                       base_images["haproxy"], "haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg")
        assert proxy.returncode == 0, proxy.stderr
        wait_ready(port, names[1])
        yield port
    finally:
        docker("rm", "-f", *names)
        docker("network", "rm", layout.network)


def wait_ready(port: int, proxy: str, timeout: float = 30.0) -> None:
    """Until the proxy answers 200 on a fresh connection (its health checks found the app up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise AssertionError(f"the proxy never answered: {docker('logs', proxy).stderr[-2000:]}")


def second_requests(port: int, method: str, connections: int = 5) -> list[str]:
    """For each new client connection: one request, then a second one on the same kept-alive connection."""
    outcomes = []
    for _ in range(connections):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _request in range(2):
                conn.request(method, "/", body=b"{}" if method == "POST" else None)
                response = conn.getresponse()
                response.read()
            outcomes.append(str(response.status))
        except (OSError, http.client.HTTPException) as exc:
            outcomes.append(exc.__class__.__name__)
        finally:
            conn.close()
    return outcomes


def rendered(retry: bool) -> str:
    config = render_config(HostLayout(project="__PROJECT__"), [Backend("web", 3000, "/ready", live="blue")],
                           public="web")
    if not retry:  # the configuration before the fix: what the fixture below must break
        config = config.replace("    retry-on conn-failure empty-response\n", "")
    return config


@pytest.fixture
def proxy(request: pytest.FixtureRequest, base_images: dict[str, str], tmp_path: Path) -> Iterator[int]:
    yield from start_proxy(rendered(retry=request.param), base_images, tmp_path)


@pytest.mark.parametrize("proxy", [True], indirect=True)
def test_a_get_on_a_connection_the_app_just_closed_is_answered(proxy: int) -> None:
    assert second_requests(proxy, "GET") == ["200"] * 5


@pytest.mark.parametrize("proxy", [True], indirect=True)
def test_a_post_is_never_sent_twice(proxy: int) -> None:
    """The client sees the close (and decides), rather than the app getting a POST it may already have acted on."""
    assert second_requests(proxy, "POST") == ["RemoteDisconnected"] * 5


@pytest.mark.parametrize("proxy", [False], indirect=True)
def test_without_the_retry_the_client_loses_the_request(proxy: int) -> None:
    """The fixture breaks the configuration without `retry-on`: the drop the reference-stack deploy saw."""
    assert second_requests(proxy, "GET") == ["RemoteDisconnected"] * 5

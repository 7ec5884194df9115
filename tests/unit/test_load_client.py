"""The strict load client against real HTTP servers on 127.0.0.1, started here in a thread: a good one, one that
closes idle connections, one that closes after every answer, one that answers 500, one that names the wrong
release, and ones that stall; and the e2e fixture app once it turns unhealthy. Real sockets throughout, on
127.0.0.1 only; every run is bounded in count and time."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shipyard.sandbox.load import LoadGenerator, LoadReport

FIXTURE_APP = Path(__file__).parents[1] / "e2e" / "fixtures" / "app" / "server.py"


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 answering `body` with `status`; the server's `behave` hook may sleep or close."""

    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # headers and body in one write: no Nagle/delayed-ACK pause between them
    server: Server

    def do_GET(self) -> None:
        status, body, close = self.server.behave(self.server.next_count())
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behave: Callable[[int], tuple[int, str, bool]], idle_timeout: float | None) -> None:
        handler = type("TimedHandler", (Handler,), {"timeout": idle_timeout})
        super().__init__(("127.0.0.1", 0), handler)
        self.behave = behave
        self.count = 0
        self.count_lock = threading.Lock()

    def next_count(self) -> int:
        with self.count_lock:
            self.count += 1
            return self.count

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-request are part of these tests


Serve = Callable[..., int]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(behave, idle_timeout=None) -> port of a threaded server on 127.0.0.1, stopped after the test."""
    servers: list[Server] = []

    def start(behave: Callable[[int], tuple[int, str, bool]], idle_timeout: float | None = None) -> int:
        server = Server(behave, idle_timeout)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run(port: int, **kwargs: object) -> LoadReport:
    options: dict[str, object] = {"releases": {"A"}, "clients": 2, "rate": 50.0, "max_requests": 40,
                                  "max_seconds": 5.0, "timeout": 5.0, **kwargs}
    load = LoadGenerator(port, **options)  # type: ignore[arg-type]
    load.start()
    return load.join()


def test_good_server_every_request_passes_on_the_first_connections(serve: Serve) -> None:
    port = serve(lambda n: (200, "A", False))
    report = run(port, releases={"A", "B"}, clients=4, rate=100.0, max_requests=100)
    assert (report.total, report.failed, report.releases) == (100, 0, {"A": 100}), report.summary()
    assert (report.connections, report.reopened) == (4, 0), report.summary()
    assert len(report.latencies) == 100 and 0 < report.latency_p99 <= report.latency_max < 1.0
    assert report.first_seen["A"] <= report.last_seen["A"]


def test_server_closing_idle_connections_shows_as_failures_and_reopens(serve: Serve) -> None:
    # The server hangs up after 50 ms idle; each client waits 200 ms between requests (rate 10 over 2 clients).
    port = serve(lambda n: (200, "A", False), idle_timeout=0.05)
    report = run(port, rate=10.0, max_requests=12)
    assert report.total == 12 and report.failed > 0 and report.reopened > 0, report.summary()
    assert report.failed + report.releases["A"] == report.total
    assert set(report.errors) <= {"RemoteDisconnected", "ConnectionResetError", "BrokenPipeError"}, report.errors


def test_connection_close_answers_pass_but_every_new_connection_counts(serve: Serve) -> None:
    port = serve(lambda n: (200, "A", True))
    report = run(port, max_requests=10)
    assert report.failed == 0 and report.releases["A"] == 10, report.summary()
    assert (report.connections, report.reopened) == (10, 8), report.summary()  # 2 clients: 2 first, 8 more


def test_500_answers_are_failures_and_keep_the_connection(serve: Serve) -> None:
    port = serve(lambda n: (500, "A is unhealthy", False))
    report = run(port, max_requests=20)
    assert (report.total, report.failed, sum(report.releases.values())) == (20, 20, 0), report.summary()
    assert report.errors == {"HTTP 500: A is unhealthy": 20}
    assert report.reopened == 0 and len(report.failure_times) == 20


def test_an_answer_from_a_release_that_was_not_allowed_is_a_failure(serve: Serve) -> None:
    port = serve(lambda n: (200, "B" if n % 2 else "A", False))
    report = run(port, max_requests=20)
    assert report.failed == 10 and report.releases == {"A": 10}, report.summary()
    assert report.errors == {"unexpected answer: 'B'": 10}


def test_a_stall_shows_as_latency_and_the_schedule_still_fires_every_request(serve: Serve) -> None:
    def behave(n: int) -> tuple[int, str, bool]:
        if n == 10:
            time.sleep(1.0)
        return 200, "A", False

    port = serve(behave)
    # The schedule: 40 req/s for 2 s = 80 requests, whatever the server does. One response takes 1 s; its
    # client then fires the ~20 requests that fell due meanwhile, each timed from when it was due.
    report = run(port, rate=40.0, max_seconds=2.0, max_requests=10_000)
    assert (report.total, report.failed, report.reopened) == (80, 0, 0), report.summary()
    assert 1.0 <= report.latency_max < 2.0, report.summary()
    assert sum(latency >= 0.5 for latency in report.latencies) >= 5, sorted(report.latencies)[-12:]
    assert report.latency_p99 >= 0.5


def test_requests_a_client_cannot_send_in_time_count_as_failed_and_the_run_stays_bounded(serve: Serve) -> None:
    def behave(n: int) -> tuple[int, str, bool]:
        time.sleep(1.2)
        return 200, "A", False

    port = serve(behave)
    started = time.monotonic()
    # 5 requests due within 0.5 s on one client; it may catch up until 0.5 + 1.5 s, and each answer takes 1.2 s.
    report = run(port, clients=1, rate=10.0, max_seconds=0.5, timeout=1.5)
    assert time.monotonic() - started < 3.5
    assert (report.total, report.releases["A"], report.failed) == (5, 2, 3), report.summary()
    assert report.errors == {"not sent: the client was still behind its schedule at the end": 3}
    assert len(report.latencies) == 2 and report.latency_max >= 2.2  # slot 1: due at 0.1 s, answered at 2.4 s


def test_stop_ends_a_long_schedule_at_once(serve: Serve) -> None:
    port = serve(lambda n: (200, "A", False))
    with LoadGenerator(port, releases={"A"}, clients=2, rate=50.0, max_seconds=60.0) as load:
        time.sleep(0.4)
        begun = time.monotonic()
    assert time.monotonic() - begun < 1.0
    report = load.report
    assert 10 <= report.total <= 30 and report.failed == 0 and report.reopened == 0, report.summary()


def test_a_refused_connection_is_a_failure_never_a_retry() -> None:
    from ports import free_port

    report = run(free_port(), clients=1, max_requests=3)
    assert (report.total, report.failed, report.errors) == (3, 3, {"ConnectionRefusedError": 3}), report.summary()
    assert (report.connections, report.reopened) == (3, 2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"host": "10.0.0.1"}, "loopback"),
    ({"releases": set()}, "releases"),
    ({"releases": "A"}, "releases"),
    ({"rate": 0}, "positive"),
])
def test_the_client_refuses_what_it_must_not_do(kwargs: dict[str, object], message: str) -> None:
    options: dict[str, object] = {"releases": {"A"}, **kwargs}
    with pytest.raises(ValueError, match=message):
        LoadGenerator(8000, **options)  # type: ignore[arg-type]


def test_the_e2e_fixture_app_fails_real_requests_once_it_is_unhealthy() -> None:
    """What lets the watch-window test fail on failed requests: an unready fixture answers 500 on `/` too."""
    from ports import free_port

    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "SHIPYARD_RELEASE": "v1",
           "FIXTURE_MODE": "fail-after:0.6"}
    server = subprocess.Popen([sys.executable, str(FIXTURE_APP)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # the first /ready starts its 0.6 s of health
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/ready")
                assert conn.getresponse().status == 200
                conn.close()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the fixture app never listened"
                time.sleep(0.05)
        report = run(port, releases={"v1"}, rate=50.0, max_seconds=1.2, max_requests=10_000)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert report.total == 60 and report.releases["v1"] > 0 and report.failed > 0, report.summary()
    assert report.errors == {"HTTP 500: v1 is unhealthy": report.failed} and report.reopened == 0
    assert min(report.failure_times) >= report.last_seen["v1"]  # healthy, then failing for good


def test_identify_reads_the_release_from_a_page(serve: Serve) -> None:
    port = serve(lambda n: (200, f"<html><footer>web {'A' if n % 2 else 'C'}</footer></html>", False))
    report = run(port, releases={"A", "B"}, max_requests=10, identify=lambda body: body.split("web ")[1][0])
    assert report.releases == {"A": 5} and report.errors == {"unexpected answer: 'C'": 5}, report.summary()

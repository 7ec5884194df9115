"""A strict, bounded load generator for zero-downtime checks: keep-alive HTTP/1.1 clients that never retry.

Each client thread opens one connection and reuses it for every request. A request fails unless it answers
200 with a body that names one of the allowed releases (`identify` reads the release from a body: by default
the whole body, stripped); a failure is counted and never retried. A connection
the server closed is never replaced silently: the next request opens a new one and `reopened` counts it, so
a test that claims no dropped connections asserts `reopened == 0` next to `failed == 0`.

Requests follow a fixed schedule (request i is due `i / rate` seconds after the start). A client that fell
behind (a stalled response) fires the requests that became due at once, and latency is measured from each
request's due time: a stall shows up as latency, never as requests that were not sent. The schedule is
bounded by `max_requests` and `max_seconds`; after `stop()` (or the end of the schedule) a client has
`timeout` more seconds to catch up, and due requests it could not send by then count as failed ("not sent").
Loopback targets only.
"""

from __future__ import annotations

import http.client
import ipaddress
import math
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field


@dataclass
class LoadReport:
    allowed: frozenset[str] = frozenset()
    total: int = 0  # scheduled requests that fell due: sent, or counted as "not sent"
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    releases: Counter[str] = field(default_factory=Counter)  # release -> good answers
    first_seen: dict[str, float] = field(default_factory=dict)  # release -> monotonic time of its first answer
    last_seen: dict[str, float] = field(default_factory=dict)
    failure_times: list[float] = field(default_factory=list)  # monotonic, when each failure was recorded
    latencies: list[float] = field(default_factory=list)  # seconds from each sent request's due time to its end
    answer_times: list[float] = field(default_factory=list)  # seconds each sent request took itself (no lag)
    answered_at: list[float] = field(default_factory=list)  # monotonic, when each of those ended
    connections: int = 0  # connections opened (one per client when nothing went wrong)
    reopened: int = 0  # connections opened by a client that already had one
    started: float = 0.0
    stopped: float = 0.0

    @property
    def rate(self) -> float:
        elapsed = self.stopped - self.started
        return self.total / elapsed if elapsed > 0 else 0.0

    @property
    def latency_max(self) -> float:
        return max(self.latencies, default=0.0)

    @property
    def latency_p99(self) -> float:
        """Nearest-rank 99th percentile of the latencies, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[math.ceil(0.99 * len(ordered)) - 1] if ordered else 0.0

    @property
    def slowest_answer(self) -> float:
        """The longest a single request took (latency also counts the time a client was behind its schedule)."""
        return max(self.answer_times, default=0.0)

    def summary(self) -> str:
        errors = ", ".join(f"{k} x{v}" for k, v in self.errors.most_common(3))
        return (f"{self.failed} failed of {self.total} requests ({self.rate:.0f} req/s, {self.connections} "
                f"connections, {self.reopened} reopened, latency p99 {self.latency_p99 * 1000:.0f} ms, max "
                f"{self.latency_max * 1000:.0f} ms, slowest answer {self.slowest_answer * 1000:.0f} ms)"
                f"{': ' + errors if errors else ''}; answers: "
                f"{dict(self.releases)} of allowed {sorted(self.allowed)}")


class LoadGenerator:
    """`with LoadGenerator(port, releases={A, B}, rate=150) as load: ...` then `load.report`."""

    def __init__(self, port: int, *, releases: Collection[str], identify: Callable[[str], str] = str.strip,
                 host: str = "127.0.0.1", path: str = "/", clients: int = 8, rate: float = 150.0,
                 max_seconds: float = 300.0, max_requests: int = 200_000, timeout: float = 10.0,
                 ca_file: str | None = None) -> None:
        """`ca_file`: speak HTTPS, trusting only that CA (and checking the certificate names 127.0.0.1)."""
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the load generator only targets loopback addresses")
        if not releases or isinstance(releases, str):
            raise ValueError("name the releases that may answer (a collection of strings)")
        if clients < 1 or rate <= 0 or max_seconds <= 0 or max_requests < 1:
            raise ValueError("clients, rate, max_seconds and max_requests must be positive")
        self.host, self.port, self.path, self.identify = host, port, path, identify
        self._tls = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.clients, self.rate, self.timeout = clients, rate, timeout
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.report = LoadReport(allowed=frozenset(releases))
        self._stop = threading.Event()
        self._stop_at = math.inf
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> LoadGenerator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.report.started = time.monotonic()
        for index in range(self.clients):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True, name=f"load-{index}")
            self._threads.append(thread)
            thread.start()

    def stop(self) -> LoadReport:
        """No request falls due after now; wait for the clients to send those already due, then report."""
        if self._stop_at == math.inf:
            self._stop_at = time.monotonic()
        self._stop.set()
        return self.join()

    def join(self) -> LoadReport:
        """Wait until the schedule has run out (or `stop()` ended it) and every client is done."""
        for thread in self._threads:
            thread.join()  # bounded: a client gives up `timeout` after the end of its schedule
        if not self.report.stopped:
            self.report.stopped = time.monotonic()
        return self.report

    def wait_for(self, release: str, timeout: float = 30.0) -> float | None:
        """Block until some client got `release` as an answer; its first time (monotonic) or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = self.report.first_seen.get(release)
            if seen is not None:
                return seen
            time.sleep(0.01)
        return None

    def _due(self, slot: int) -> float | None:
        """When request `slot` of the whole schedule falls due, or None when the schedule has ended."""
        due = self.report.started + slot / self.rate
        end = min(self.report.started + self.max_seconds, self._stop_at)
        return due if slot < self.max_requests and due < end else None

    def _record(self, due: float | None, error: str | None, release: str = "", sent: float | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            report = self.report
            report.total += 1
            if due is not None:
                report.latencies.append(now - due)
            if sent is not None:
                report.answer_times.append(now - sent)
                report.answered_at.append(now)
            if error is None:
                report.releases[release] += 1
                report.first_seen.setdefault(release, now)
                report.last_seen[release] = now
            else:
                report.failed += 1
                report.errors[error] += 1
                report.failure_times.append(now)

    def _open(self, reopen: bool) -> http.client.HTTPConnection:
        conn = (http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._tls)
                if self._tls is not None else http.client.HTTPConnection(self.host, self.port, timeout=self.timeout))
        conn.auto_open = 0  # http.client must never reconnect behind our back
        with self._lock:
            self.report.connections += 1
            self.report.reopened += int(reopen)
        conn.connect()
        return conn

    def _client(self, index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        opened, slot = 0, index
        while (due := self._due(slot)) is not None:
            slot += self.clients
            if self._stop.wait(due - time.monotonic()) and due >= self._stop_at:
                break  # woke up by stop(): this request was not due yet
            if time.monotonic() > min(self.report.started + self.max_seconds, self._stop_at) + self.timeout:
                self._record(None, "not sent: the client was still behind its schedule at the end")
                continue
            sent = time.monotonic()
            try:
                if conn is None:
                    opened += 1
                    conn = self._open(reopen=opened > 1)
                conn.request("GET", self.path)
                response = conn.getresponse()
                body = response.read().decode(errors="replace")
                if response.will_close:  # answered, but the server is closing this connection
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._record(due, exc.__class__.__name__, sent=sent)
                if conn is not None:
                    conn.close()
                conn = None
                continue
            if response.status != 200:
                self._record(due, f"HTTP {response.status}: {body.strip()[:60]}", sent=sent)
            elif (release := self.identify(body)) not in self.report.allowed:
                self._record(due, f"unexpected answer: {(release or body.strip())[:60]!r}", sent=sent)
            else:
                self._record(due, None, release, sent=sent)
        if conn is not None:
            conn.close()

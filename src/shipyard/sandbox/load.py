"""A bounded load generator for zero-downtime checks: keep-alive HTTP/1.1 clients that never retry.

Each client thread holds one connection and reuses it for every request. A failed request is counted and
never retried; the client then opens a fresh connection for its next request. Loopback targets only.
"""

from __future__ import annotations

import http.client
import ipaddress
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadReport:
    total: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, float] = field(default_factory=dict)  # body -> monotonic time of its first answer
    last_seen: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    stopped: float = 0.0
    connections: int = 0

    @property
    def rate(self) -> float:
        elapsed = self.stopped - self.started
        return self.total / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        errors = ", ".join(f"{k} x{v}" for k, v in self.errors.most_common(3))
        return (f"{self.failed} failed of {self.total} requests ({self.rate:.0f} req/s, {self.connections} "
                f"connections opened){': ' + errors if errors else ''}; answers: {dict(self.versions)}")


class LoadGenerator:
    """`with LoadGenerator(port, rate=150) as load: ...` then `load.report`."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", path: str = "/", clients: int = 8,
                 rate: float = 150.0, max_seconds: float = 300.0, max_requests: int = 200_000,
                 timeout: float = 10.0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the load generator only targets loopback addresses")
        self.host, self.port, self.path = host, port, path
        self.clients, self.interval = clients, clients / rate
        self.max_seconds, self.max_requests, self.timeout = max_seconds, max_requests, timeout
        self.report = LoadReport()
        self._stop = threading.Event()
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
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        self.report.stopped = time.monotonic()
        return self.report

    def wait_for(self, body: str, timeout: float = 30.0) -> float | None:
        """Block until some client got `body` as an answer; its first time (monotonic) or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = self.report.first_seen.get(body)
            if seen is not None:
                return seen
            time.sleep(0.01)
        return None

    def _record(self, ok: bool, detail: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.report.total += 1
            if ok:
                self.report.versions[detail] += 1
                self.report.first_seen.setdefault(detail, now)
                self.report.last_seen[detail] = now
            else:
                self.report.failed += 1
                self.report.errors[detail] += 1

    def _client(self, index: int) -> None:
        deadline = self.report.started + self.max_seconds
        conn: http.client.HTTPConnection | None = None
        next_at = time.monotonic() + index * self.interval / self.clients
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                if self.report.total >= self.max_requests:
                    break
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at = max(next_at + self.interval, time.monotonic() - self.interval)
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                with self._lock:
                    self.report.connections += 1
            try:
                conn.request("GET", self.path, headers={"Connection": "keep-alive"})
                response = conn.getresponse()
                body = response.read().decode(errors="replace").strip()
                ok = response.status == 200
                self._record(ok, body if ok else f"HTTP {response.status}")
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._record(False, exc.__class__.__name__)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

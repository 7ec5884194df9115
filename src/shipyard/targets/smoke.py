"""Smoke checks of a running stack over HTTP: health, readiness, a write through the API seen by the web page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


def timed(name: str, probe: Callable[[], str]) -> Check:
    """Run one probe; its return value is the detail, any exception a failed check with its reason."""
    start = time.monotonic()
    try:
        detail = probe()
        return Check(name, True, detail, time.monotonic() - start)
    except Exception as exc:  # every failure becomes a failed check with its reason
        return Check(name, False, f"{exc.__class__.__name__}: {exc}"[:200], time.monotonic() - start)


def run_checks(api_url: str, web_url: str, client: Any) -> list[Check]:
    """Each check raises on failure; the marker item proves web -> api -> PostgreSQL end to end."""
    marker = f"smoke-{uuid.uuid4().hex[:10]}"

    def expect(response: Any, status: int = 200) -> Any:
        if response.status_code != status:
            raise AssertionError(f"{response.request.method} {response.request.url} -> {response.status_code}")
        return response

    def api_health() -> str:
        body = expect(client.get(f"{api_url}/health")).json()
        return f"status {body['status']}, version {body.get('version')}"

    def api_ready() -> str:
        return str(expect(client.get(f"{api_url}/ready")).text[:80])

    def services() -> str:
        body = expect(client.get(f"{api_url}/api/v1/health")).json()
        down = [name for name, state in body["services"].items() if state != "connected"]
        if down:
            raise AssertionError(f"disconnected: {', '.join(down)}")
        return ", ".join(f"{k} {v}" for k, v in body["services"].items())

    def write() -> str:
        item = expect(client.post(f"{api_url}/api/v1/items", json={"name": marker}), 201).json()
        return f"item {item['id']} created"

    def web_health() -> str:
        return str(expect(client.get(f"{web_url}/api/health")).text[:80])

    def web_page() -> str:
        page = expect(client.get(f"{web_url}/")).text
        if marker not in page:
            raise AssertionError("the web page does not show the item just created through the API")
        return "web page lists the new item"

    return [timed(name, probe) for name, probe in [
        ("api liveness", api_health), ("api readiness", api_ready), ("api dependencies", services),
        ("api write", write), ("web health", web_health), ("web shows api data", web_page)]]

"""The browser smoke check in real headless Chromium, against a page on loopback that can be made to break.

The real web app is checked by `nox -s smoke`; here a small server serves the same markup (form, Add, list,
footer) so that each failure the check must catch can be produced on purpose. Without Debian's chromium these
tests skip visibly on a laptop and fail under CI (.ci/run installs it).
"""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from shipyard.errors import ShipyardError
from shipyard.targets import browser
from shipyard.targets.smoke import Check
from tools import ROOT, need


@dataclass
class Site:
    """What the fake web front end does: its release, the status of a form post, a script that throws."""

    release: str = "0123456789ab"
    footer: str | None = None  # what the footer shows (default: "web <release>")
    post_status: int = 303
    script_error: bool = False
    items: list[str] = field(default_factory=list)
    url: str = ""


def _page(site: Site) -> bytes:
    items = "".join(f"<li>{html.escape(name)}</li>" for name in reversed(site.items))
    script = "<script>throw new Error('boom in the page')</script>" if site.script_error else ""
    return f"""<!doctype html><html lang="en"><head><title>Shipyard items</title></head><body><main>
<h1>Shipyard items</h1>
<form method="post" action="/api/items"><input name="name" required aria-label="Item name">
<button type="submit">Add</button></form>
<ul data-testid="items">{items}</ul>
<footer>{html.escape(site.footer if site.footer is not None else f"web {site.release}")}</footer>
</main>{script}</body></html>""".encode()


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/api/health":
                self._send(200, f'{{"status": "ok", "version": "{state.release}"}}'.encode(), "application/json")
            elif self.path == "/":
                self._send(200, _page(state), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            if state.post_status >= 400:
                self._send(state.post_status, b'{"error": "cannot reach the API"}', "application/json")
                return
            state.items.append(form.get("name", [""])[0])
            self._send(303, b"", "text/plain", Location="/")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def chromium() -> str:
    present = Path(browser.CHROMIUM).is_file()
    need("chromium", present, f"chromium is not installed ({browser.INSTALL_CHROMIUM})")
    return browser.CHROMIUM


def run(site: Site, tmp_path: Path, **kwargs: Any) -> dict[str, Check]:
    kwargs.setdefault("timeout", 30)
    checks = browser.run_browser_checks(site.url, tmp_path / "shots" / "web.png", **kwargs)
    return {check.name: check for check in checks}


def test_a_working_page_passes_and_leaves_a_screenshot(site: Site, tmp_path: Path, chromium: str) -> None:
    checks = run(site, tmp_path)
    assert all(check.ok for check in checks.values()), checks
    assert list(checks) == ["page loads", "footer shows release", "form adds an item", "page script errors",
                            "screenshot"]
    assert len(site.items) == 1 and site.items[0].startswith("browser-")  # typed into the form, posted by Add
    assert site.items[0] in checks["form adds an item"].detail
    assert checks["footer shows release"].detail == "footer reads 'web 0123456789ab'"
    assert (tmp_path / "shots" / "web.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_footer_without_the_release_fails(site: Site, tmp_path: Path, chromium: str) -> None:
    site.footer = "web dev"
    checks = run(site, tmp_path)
    assert not checks["footer shows release"].ok
    assert "footer reads 'web dev', not release 0123456789ab" in checks["footer shows release"].detail
    assert checks["form adds an item"].ok and checks["screenshot"].ok


def test_an_explicit_release_must_be_the_one_shown(site: Site, tmp_path: Path, chromium: str) -> None:
    assert not run(site, tmp_path, release="fedcba987654")["footer shows release"].ok  # pragma: allowlist secret
    assert run(site, tmp_path, release="0123456789ab")["footer shows release"].ok


def test_an_add_that_fails_is_reported_with_its_status(site: Site, tmp_path: Path, chromium: str) -> None:
    site.post_status = 502
    checks = run(site, tmp_path, timeout=60)
    check = checks["form adds an item"]
    assert not check.ok and "-> 502" in check.detail and "cannot reach the API" in check.detail
    assert check.seconds < 30  # the failed post is seen at once, not after the wait for the item times out
    assert checks["footer shows release"].ok and checks["screenshot"].ok  # the screenshot shows the error


def test_a_script_error_in_the_page_fails(site: Site, tmp_path: Path, chromium: str) -> None:
    site.script_error = True
    check = run(site, tmp_path)["page script errors"]
    assert not check.ok and "boom in the page" in check.detail


def test_a_page_that_does_not_load_fails_every_step_that_needs_it(tmp_path: Path, chromium: str) -> None:
    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    checks = run(Site(url=f"http://127.0.0.1:{port}"), tmp_path)
    assert "ERR_CONNECTION_REFUSED" in checks["page loads"].detail
    assert [name for name, check in checks.items() if not check.ok] == [
        "page loads", "footer shows release", "form adds an item"]
    assert checks["form adds an item"].detail == "not run: the page did not load"


def test_missing_chromium_is_an_error_that_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(browser.BrowserMissing) as caught:
        browser.run_browser_checks("http://127.0.0.1:9", tmp_path / "web.png",
                                   environ={"SHIPYARD_CHROMIUM": str(tmp_path / "no-chromium")})
    message = str(caught.value)
    assert "\n" not in message and "chromium not found" in message and "apt-get install -y chromium" in message
    assert isinstance(caught.value, ShipyardError)  # tasks print it as one line, no traceback


def test_missing_playwright_is_an_error_that_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails as if not installed
    with pytest.raises(browser.BrowserMissing, match=r"shipyard\[browser\]"):
        browser.preflight({"SHIPYARD_CHROMIUM": sys.executable})  # any executable: the package is what is missing


def test_the_smoke_task_fails_at_once_in_one_line_without_chromium(tmp_path: Path) -> None:
    env = {**os.environ, "SHIPYARD_CHROMIUM": str(tmp_path / "no-chromium"), "WEB_PORT": "1", "API_PORT": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "invoke"), "docker.smoke", "--browser"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc
    assert proc.stdout == ""  # before any HTTP check: a missing browser is not found after minutes of waiting
    assert proc.stderr.strip().splitlines() == [
        f"error: chromium not found at {tmp_path / 'no-chromium'}; the browser smoke check needs Debian's chromium"
        " (next: apt-get install -y chromium (as root), or set SHIPYARD_CHROMIUM to a Chromium binary)"]

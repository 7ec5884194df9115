"""The web page in a real browser: headless Chromium from Debian's package, driven by Playwright's Python package.

Nothing is downloaded: Playwright launches the system Chromium by path (`/usr/bin/chromium`, or SHIPYARD_CHROMIUM),
so `playwright install` is never needed. A missing browser or package is a failure with the command that installs
it, never a skip. The checks are what a user does: open the page, type an item, click Add, see it in the list,
and read the release in the footer. A screenshot of the page is kept whatever the outcome.

    python -m shipyard.targets.browser      # preflight: is the browser check runnable here?
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import ShipyardError
from shipyard.targets.smoke import Check, timed

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
INSTALL_CHROMIUM = "apt-get install -y chromium"
INSTALL_PACKAGE = "pip install 'shipyard[browser]'"
#: Headless comes from Playwright (`headless=True`), the empty profile from a temporary --user-data-dir.
#: Without the networking flags Chromium tries to reach Google's services at start (refused on closed networks).
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")


class BrowserMissing(ShipyardError):
    """Chromium or Playwright's Python package is not installed: the browser check cannot run (a failure)."""


def chromium_path(environ: Mapping[str, str] = os.environ) -> str:
    """The Chromium binary to drive: SHIPYARD_CHROMIUM or Debian's /usr/bin/chromium; missing is an error."""
    path = environ.get("SHIPYARD_CHROMIUM") or CHROMIUM
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        raise BrowserMissing(f"chromium not found at {path}; the browser smoke check needs Debian's chromium",
                             hint=f"{INSTALL_CHROMIUM} (as root), or set SHIPYARD_CHROMIUM to a Chromium binary")
    return path


def _sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing("Playwright's Python package is not installed; the browser smoke check drives Chromium"
                             " with it", hint=f"{INSTALL_PACKAGE} (it uses the system chromium; no browser download)"
                             ) from None
    return sync_playwright


def preflight(environ: Mapping[str, str] = os.environ) -> str:
    """Raise BrowserMissing unless the browser check can run; otherwise say what it will use."""
    from importlib.metadata import version

    chromium = chromium_path(environ)
    _sync_playwright()
    return f"browser check ready: {chromium}, playwright {version('playwright')}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def run_browser_checks(web_url: str, screenshot: Path, *, release: str | None = None,
                       environ: Mapping[str, str] = os.environ, timeout: float = 60) -> list[Check]:
    """Drive the page at web_url in headless Chromium; every check is returned, the screenshot written to disk.

    `release` is what the footer must show; by default the release the web server reports on /api/health.
    """
    chromium = chromium_path(environ)
    sync_playwright = _sync_playwright()
    from playwright.sync_api import Error as PlaywrightError

    with tempfile.TemporaryDirectory(prefix="shipyard-chromium-") as profile, sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=list(FLAGS), timeout=timeout * 1000)
        except PlaywrightError as exc:
            raise ShipyardError(f"chromium ({chromium}) did not start: {_first_line(exc)}",
                                hint=f"run `{chromium} --headless --no-sandbox --dump-dom about:blank` to see why"
                                ) from None
        try:
            page = context.new_page()
            page.set_default_timeout(timeout * 1000)
            return _checks(page, web_url, screenshot, release, PlaywrightError)
        finally:
            context.close()


def _checks(page: Page, web_url: str, screenshot: Path, release: str | None,
            error: type[Exception]) -> list[Check]:
    marker = f"browser-{uuid.uuid4().hex[:10]}"
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(_first_line(exc)))

    def step(what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except error as exc:  # Playwright's messages continue with a call log: keep the first line
            raise AssertionError(f"{what}: {_first_line(exc)}") from None

    def loads() -> str:
        response = step(f"open {web_url}/", lambda: page.goto(f"{web_url}/", wait_until="load"))
        if response is None or not response.ok:
            raise AssertionError(f"GET {web_url}/ -> {response.status if response else 'no response'}")
        alert = page.get_by_test_id("api-error")
        if alert.count():
            raise AssertionError(f"the page shows an error: {alert.inner_text()}")
        heading = step("find the page heading", lambda: page.get_by_role("heading", level=1).inner_text())
        return f"{heading!r} rendered (HTTP {response.status}, title {page.title()!r})"

    def adds() -> str:
        step("type into the item field", lambda: page.get_by_role("textbox", name="Item name").fill(marker))

        def submit() -> Any:
            with page.expect_response(lambda r: r.request.method == "POST" and "/api/items" in r.url) as posted:
                page.get_by_role("button", name="Add", exact=True).click()
            return posted.value

        response = step("click Add", submit)
        if response.status >= 400:
            raise AssertionError(f"Add posted to {response.url} -> {response.status}: {response.text()[:120]}")
        step(f"wait for {marker} in the list",
             lambda: page.get_by_test_id("items").get_by_text(marker, exact=True).wait_for(state="visible"))
        return f"typed {marker}, clicked Add (HTTP {response.status}): it is in the list"

    def footer() -> str:
        expected = release or _served_release(page, web_url, step)
        text = " ".join(step("read the footer", lambda: page.locator("footer").inner_text()).split())
        if expected not in text.split():
            raise AssertionError(f"footer reads {text!r}, not release {expected}")
        return f"footer reads {text!r}"

    def no_script_errors() -> str:
        if script_errors:
            raise AssertionError(f"{len(script_errors)} uncaught script error(s): {script_errors[0]}")
        return "no uncaught script errors"

    def shot() -> str:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        step("take a screenshot", lambda: page.screenshot(path=str(screenshot), full_page=True))
        return str(screenshot)

    checks = [timed("page loads", loads)]
    for name, probe in [("footer shows release", footer), ("form adds an item", adds)]:  # Add leaves the page
        checks.append(timed(name, probe) if checks[0].ok else Check(name, False, "not run: the page did not load", 0))
    # Always: script errors and the picture of a failure are the useful ones.
    return [*checks, timed("page script errors", no_script_errors), timed("screenshot", shot)]


def _served_release(page: Page, web_url: str, step: Callable[[str, Callable[[], Any]], Any]) -> str:
    response = step("ask the web server its release", lambda: page.request.get(f"{web_url}/api/health"))
    if not response.ok:
        raise AssertionError(f"GET {web_url}/api/health -> {response.status}")
    version = response.json().get("version")
    if not isinstance(version, str) or not version:
        raise AssertionError(f"{web_url}/api/health reports no version")
    return version


if __name__ == "__main__":
    try:
        print(preflight())
    except ShipyardError as exc:
        sys.exit(f"error: {exc}")

"""Poll a probe until it answers or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], deadline: float, error: Exception, interval: float = 0.1) -> T:
    """Return the probe's first truthy value; raise `error` once `deadline` (time.monotonic) has passed."""
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise error
        time.sleep(interval)

"""The deploy lock on a host: a lease with holder, reason, start and expiry (JSON in lock.json). Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Lease:
    id: str
    holder: str  # user@machine
    machine: str
    pid: int
    reason: str
    started: float  # epoch seconds
    expires: float

    def to_json(self) -> str:
        # The default separators matter: the host-side lock script matches `"id": "<id>"`.
        return json.dumps(asdict(self), sort_keys=True)

    def describe(self, now: float) -> str:
        started = datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        left = self.expires - now
        expiry = f"expires in {left:.0f}s" if left > 0 else f"expired {-left:.0f}s ago"
        return f"held by {self.holder} (pid {self.pid}) since {started} for '{self.reason}', {expiry}"


def parse_lease(text: str) -> Lease | None:
    """None when there is no lock. A lease file that cannot be read is reported as a lease that never expires."""
    text = text.strip()
    if not text:
        return None
    try:
        raw = json.loads(text)
        return Lease(id=str(raw["id"]), holder=str(raw["holder"]), machine=str(raw.get("machine", "")),
                     pid=int(raw.get("pid", 0)), reason=str(raw.get("reason", "")),
                     started=float(raw["started"]), expires=float(raw["expires"]))
    except (ValueError, KeyError, TypeError):
        return Lease(id="", holder="unknown (unreadable lock.json)", machine="", pid=0,
                     reason="corrupt lock file", started=0.0, expires=float("inf"))

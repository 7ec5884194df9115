"""The deploy lock on a host: a lease with holder, reason, start and TTL (JSON in lock.json), and its age as the
host reported it. Pure.

Expiry is judged by the host's clock alone: lock.sh and `read_lock` answer with the lease and, on a last line
`age=<seconds>`, how long ago the host last wrote the file (each renewal rewrites it). A lease is expired when that
age exceeds the TTL it records. Two machines' clocks are never compared, except for a lease written by a Shipyard
older than the `ttl` field (see `Lease.remaining`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

_AGE = re.compile(r"^age=(-?\d+)$")


@dataclass(frozen=True)
class Lease:
    id: str
    holder: str  # user@machine
    machine: str  # the holder's hostname (shown; two machines may share one)
    pid: int
    reason: str
    started: float  # epoch seconds by the holder's clock (shown, never compared)
    expires: float  # started or last renewal + ttl, by the holder's clock: only judged for a lease without ttl
    ttl: float | None = None  # seconds a renewal keeps the lease; None in leases of older Shipyards
    machine_id: str | None = None  # a short hash identifying the holder's machine and pid namespace
    pid_start: int | None = None  # the holder process's start time (Linux: /proc/<pid>/stat field 22)
    age: float | None = None  # seconds since the host last wrote the lease, by the host's clock (never stored)

    def to_json(self) -> str:
        # The default separators matter: the host-side lock script matches `"id": "<id>"`.
        stored = asdict(self)
        del stored["age"]
        return json.dumps(stored, sort_keys=True)

    @property
    def judged_by_host(self) -> bool:
        return self.ttl is not None and self.age is not None

    def remaining(self, now: float) -> float:
        """Seconds until the lease expires (negative: since when it has expired), by the host's clock: its TTL
        minus its age. A lease written by an older Shipyard has no ttl (or a host that could not tell its age):
        then, and only then, its recorded expiry (the holder's clock) is compared with `now` (ours)."""
        if self.ttl is not None and self.age is not None:
            return self.ttl - self.age
        return self.expires - now

    def expired(self, now: float) -> bool:
        if self.ttl is not None and self.age is not None:
            return self.age > self.ttl
        return self.expires <= now  # a lease without ttl: the fallback of `remaining`

    def describe(self, now: float) -> str:
        started = datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        left = self.remaining(now)
        expiry = f"expired {-left:.0f}s ago" if self.expired(now) else f"expires in {left:.0f}s"
        return f"held by {self.holder} (pid {self.pid}) since {started} for '{self.reason}', {expiry}"


def parse_lease(text: str) -> Lease | None:
    """None when there is no lock. The host's `age=<seconds>` line, when it ends the text, becomes `age`. A lease
    file that cannot be read is reported as a lease that never expires. Leases of older Shipyards (no ttl,
    machine_id or pid_start) parse, with those None."""
    lines = text.strip().splitlines()
    age = None
    if lines and (found := _AGE.match(lines[-1].strip())):
        age, lines = float(found.group(1)), lines[:-1]
    body = "\n".join(lines).strip()
    if not body:
        return None
    try:
        raw = json.loads(body)
        return Lease(id=str(raw["id"]), holder=str(raw["holder"]), machine=str(raw.get("machine", "")),
                     pid=int(raw.get("pid", 0)), reason=str(raw.get("reason", "")),
                     started=float(raw["started"]), expires=float(raw["expires"]),
                     ttl=None if raw.get("ttl") is None else float(raw["ttl"]),
                     machine_id=None if raw.get("machine_id") is None else str(raw["machine_id"]),
                     pid_start=None if raw.get("pid_start") is None else int(raw["pid_start"]), age=age)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Lease(id="", holder="unknown (unreadable lock.json)", machine="", pid=0,
                     reason="corrupt lock file", started=0.0, expires=float("inf"), age=age)


def parse_process_start(stat: str) -> int | None:
    """A process's start time from the text of /proc/<pid>/stat (field 22, clock ticks after boot). The second
    field (the command name, in parentheses) may hold spaces and parentheses: fields are counted after its last ')'."""
    _, paren, rest = stat.rpartition(")")
    fields = rest.split()
    if not paren or len(fields) < 20:
        return None
    try:
        return int(fields[19])  # fields 3.. follow the name: field 22 is the 20th
    except ValueError:
        return None

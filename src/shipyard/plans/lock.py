"""Whether to take the deploy lock: acquire it, take over a dead or expired lease, or refuse. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shipyard.facts.lock import Lease

DEFAULT_TTL = 120.0  # seconds; a running deploy renews its lease every TTL/4
Action = Literal["acquire", "takeover", "refuse"]


@dataclass(frozen=True)
class Me:
    holder: str
    machine: str
    pid: int
    reason: str


@dataclass(frozen=True)
class LockDecision:
    action: Action
    expect: str = ""  # the id of the lease being replaced (takeover)
    why: str = ""
    current: Lease | None = None


def decide(current: Lease | None, now: float, me: Me, holder_alive: bool | None = None) -> LockDecision:
    """`holder_alive` is only known when the holder runs on this machine (None: cannot tell)."""
    if current is None:
        return LockDecision("acquire")
    if current.expires <= now:
        return LockDecision("takeover", current.id, f"the lease expired {now - current.expires:.0f}s ago", current)
    if current.machine == me.machine and current.pid != me.pid and holder_alive is False:
        return LockDecision("takeover", current.id,
                            f"its holder (pid {current.pid} on {current.machine}) is no longer running", current)
    return LockDecision("refuse", why=current.describe(now), current=current)


def lease(lease_id: str, me: Me, now: float, ttl: float = DEFAULT_TTL) -> Lease:
    return Lease(id=lease_id, holder=me.holder, machine=me.machine, pid=me.pid, reason=me.reason,
                 started=now, expires=now + ttl)


def renewed(current: Lease, now: float, ttl: float = DEFAULT_TTL) -> Lease:
    return Lease(id=current.id, holder=current.holder, machine=current.machine, pid=current.pid,
                 reason=current.reason, started=current.started, expires=now + ttl)

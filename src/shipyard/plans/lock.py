"""Whether to take the deploy lock: acquire it, take over a dead or expired lease, or refuse. Pure.

A lease may be taken over when it expired (judged by the host's clock: see facts/lock.py), or when its holder is a
process of this machine that no longer runs. "This machine" is the machine identity recorded in the lease (a hash
of the machine id and the pid namespace, so that its pids mean the same here), never a hostname, which two
laptops can share. A pid that runs again but with another start time was reused: its holder is gone too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from shipyard.facts.lock import Lease

DEFAULT_TTL = 120.0  # seconds; a running deploy renews its lease every TTL/4
Action = Literal["acquire", "takeover", "refuse"]


@dataclass(frozen=True)
class Me:
    holder: str
    machine: str  # hostname, shown
    pid: int
    reason: str
    machine_id: str | None = None  # None: this machine cannot tell who it is (then only expiry allows a takeover)
    pid_start: int | None = None  # this process's start time, where the system tells it


@dataclass(frozen=True)
class Process:
    """What this machine says of the pid recorded in a lease: whether a process has it now, and since when."""

    running: bool
    start: int | None = None  # that process's start time (same unit as Lease.pid_start); None when unknown


@dataclass(frozen=True)
class LockDecision:
    action: Action
    expect: str = ""  # the id of the lease being replaced (takeover)
    why: str = ""
    current: Lease | None = None


def same_machine(current: Lease, me: Me) -> bool:
    """Whether the lease's pid can be looked up here: both sides know their machine identity, and it is the same."""
    return current.machine_id is not None and current.machine_id == me.machine_id


def decide(current: Lease | None, now: float, me: Me, process: Process | None = None) -> LockDecision:
    """`process`: what this machine says of the lease's pid, looked up only when `same_machine` (None: not known).
    `now` (this machine's clock) only judges a lease written by an older Shipyard, which has no ttl."""
    if current is None:
        return LockDecision("acquire")
    if current.expired(now):
        if current.judged_by_host:
            why = (f"the lease expired {-current.remaining(now):.0f}s ago (last renewed {current.age:.0f}s ago by"
                   f" the host's clock, TTL {current.ttl:.0f}s)")
        else:
            why = f"the lease expired {now - current.expires:.0f}s ago"
        return LockDecision("takeover", current.id, why, current)
    if same_machine(current, me) and process is not None:
        where = f"pid {current.pid} on {current.machine}"
        if not process.running:
            return LockDecision("takeover", current.id, f"its holder ({where}) is no longer running", current)
        if current.pid_start is not None and process.start is not None and process.start != current.pid_start:
            return LockDecision("takeover", current.id,
                                f"its holder ({where}) is no longer running (that pid is another process now)",
                                current)
    return LockDecision("refuse", why=current.describe(now), current=current)


def lease(lease_id: str, me: Me, now: float, ttl: float = DEFAULT_TTL) -> Lease:
    return Lease(id=lease_id, holder=me.holder, machine=me.machine, pid=me.pid, reason=me.reason,
                 started=now, expires=now + ttl, ttl=ttl, machine_id=me.machine_id, pid_start=me.pid_start)


def renewed(current: Lease, now: float, ttl: float = DEFAULT_TTL) -> Lease:
    return replace(current, expires=now + ttl, ttl=ttl, age=None)

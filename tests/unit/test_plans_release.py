"""Lock, rollback and retention decisions as tables."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry
from shipyard.facts.lock import Lease
from shipyard.plans import lock, prune, rollback

ME = lock.Me(holder="ana@laptop", machine="laptop", pid=100, reason="deploy staging", machine_id="m-laptop",
             pid_start=5000)
NOBODY = lock.Me(holder="ana@box", machine="box", pid=100, reason="deploy staging")  # no machine identity known


def lease(machine: str = "ci", pid: int = 7, expires: float = 1100.0, *, machine_id: str | None = None,
          ttl: float | None = None, age: float | None = None, pid_start: int | None = None) -> Lease:
    return Lease(id="L1", holder=f"bot@{machine}", machine=machine, pid=pid, reason="deploy production",
                 started=1000.0, expires=expires, ttl=ttl, machine_id=machine_id, pid_start=pid_start, age=age)


def here(**changes: Any) -> Lease:
    """A lease of pid 7 on this machine (ME's identity), renewed 10s ago by the host's clock."""
    return replace(lease("laptop", machine_id="m-laptop", ttl=120.0, age=10.0, pid_start=4000), **changes)


GONE, RUNNING = lock.Process(running=False), lock.Process(running=True, start=4000)
REUSED = lock.Process(running=True, start=4711)  # pid 7 runs again, but it started later: another process


@pytest.mark.parametrize(("current", "process", "action", "why"), [
    (None, None, "acquire", ""),
    (lease(), None, "refuse", "held by bot@ci (pid 7)"),
    # a lease of an older Shipyard (no ttl): its recorded expiry is the only thing to judge
    (lease(expires=1049.0), None, "takeover", "expired 1s ago"),
    (lease(expires=1051.0), None, "refuse", "expires in 1s"),
    # ttl and the host's age: the deployer's clock is never compared with the recorded expiry
    (lease(expires=1100.0, ttl=120, age=130), None, "takeover",
     "expired 10s ago (last renewed 130s ago by the host's clock, TTL 120s)"),
    (lease(expires=1000.0, ttl=120, age=30), None, "refuse", "expires in 90s"),
    (lease(expires=1000.0, ttl=120, age=120), None, "refuse", "expires in 0s"),
    # the holder's process, on this machine (same machine identity)
    (here(), GONE, "takeover", "its holder (pid 7 on laptop) is no longer running"),
    (here(), RUNNING, "refuse", "expires in 110s"),
    (here(), REUSED, "takeover", "(that pid is another process now)"),
    (here(pid_start=None), REUSED, "refuse", "held by bot@laptop"),  # cannot tell: alive
    (here(), lock.Process(running=True), "refuse", "held by bot@laptop"),
    (here(), None, "refuse", "for 'deploy production'"),
    # the same hostname is not the same machine: a dead-looking pid there says nothing
    (here(machine_id="m-other-laptop"), GONE, "refuse", "bot@laptop (pid 7)"),
    (here(machine_id=None), GONE, "refuse", "bot@laptop (pid 7)"),  # an older Shipyard's lease
    (lease(machine="elsewhere", machine_id="m-elsewhere"), GONE, "refuse", "bot@elsewhere"),
])
def test_lock_decision(current: Lease | None, process: lock.Process | None, action: str, why: str) -> None:
    decision = lock.decide(current, 1050.0, ME, process)
    assert decision.action == action and why in decision.why, decision.why
    assert decision.expect == ("L1" if action == "takeover" else "")


def test_no_machine_identity_allows_no_dead_holder_takeover() -> None:
    unknown = lease(machine="box", ttl=120, age=10)
    assert not lock.same_machine(unknown, NOBODY)  # None is nobody's identity, not a match
    assert lock.decide(unknown, 1050.0, NOBODY, GONE).action == "refuse"
    assert lock.same_machine(here(), ME) and not lock.same_machine(here(), NOBODY)


def test_lease_and_renewal() -> None:
    new = lock.lease("id1", ME, 1000.0, ttl=60)
    assert (new.holder, new.pid, new.started, new.expires) == ("ana@laptop", 100, 1000.0, 1060.0)
    assert (new.ttl, new.machine_id, new.pid_start, new.age) == (60, "m-laptop", 5000, None)
    assert lock.renewed(new, 1030.0, ttl=60).expires == 1090.0 and lock.renewed(new, 1030.0).started == 1000.0
    seen = lock.renewed(new, 1030.0, ttl=60)
    assert lock.renewed(replace(seen, age=50.0), 1040.0, ttl=60).age is None  # the host's answer is not kept


def entry(release: str, outcome: str = "ok", action: str = "deploy") -> Entry:
    return Entry(at="t", action=action, who="w", outcome=outcome, host="h", release=release)


LEDGER = [entry("aaaaaaaaaaaa"), entry("bbbbbbbbbbbb"), entry("bad000000000", "failed"),
          entry("cccccccccccc"), entry("bbbbbbbbbbbb", action="rollback")]


@pytest.mark.parametrize(("live", "requested", "expected"), [
    ("bbbbbbbbbbbb", None, "aaaaaaaaaaaa"),  # b was rolled back to: the release deployed before it is a, not c
    ("cccccccccccc", None, "bbbbbbbbbbbb"),
    ("bbbbbbbbbbbb", "aaaa", "aaaaaaaaaaaa"),
    ("bbbbbbbbbbbb", "aaaaaaaaaaaa0000000000000000000000000000", "aaaaaaaaaaaa"),
    ("bbbbbbbbbbbb", "CCCCCC", "cccccccccccc"),
])
def test_rollback_choice(live: str, requested: str | None, expected: str) -> None:
    assert rollback.choose(LEDGER, live, requested) == expected


def test_rolling_back_twice_goes_two_releases_back() -> None:
    ledger = [entry("aaaaaaaaaaaa"), entry("bbbbbbbbbbbb"), entry("cccccccccccc")]
    first = rollback.choose(ledger, "cccccccccccc")
    assert first == "bbbbbbbbbbbb"
    ledger.append(entry(first, action="rollback"))
    second = rollback.choose(ledger, first)
    assert second == "aaaaaaaaaaaa"  # not back to c, where the first rollback came from
    ledger.append(entry(second, action="rollback"))
    with pytest.raises(ShipyardError, match="aaaaaaaaaaaa is the oldest release deployed here"):
        rollback.choose(ledger, second)


@pytest.mark.parametrize(("entries", "live", "requested", "message"), [
    (LEDGER, "bbbbbbbbbbbb", "bad0", "no release bad0 in the ledger"),
    (LEDGER, "bbbbbbbbbbbb", "ab", "too short"),
    ([entry("aaaaaaaaaaaa"), entry("aaaabbbbbbbb")], None, "aaaa", "matches several releases"),
    ([entry("aaaaaaaaaaaa")], "aaaaaaaaaaaa", None, "nothing to roll back to"),
    ([], None, None, "nothing to roll back to"),
])
def test_rollback_refusals(entries: list[Entry], live: str | None, requested: str | None, message: str) -> None:
    with pytest.raises(ShipyardError, match=message):
        rollback.choose(entries, live, requested)


@pytest.mark.parametrize(("tags", "recent", "retain", "protected", "keep", "remove"), [
    (["t1", "t2", "t3"], ["t3", "t2", "t1"], 5, [], ["t3", "t2", "t1"], []),
    (["t1", "t2", "t3", "t4", "t5", "t6", "t7"], ["t7", "t6", "t5", "t4", "t3", "t2", "t1"], 5, [],
     ["t7", "t6", "t5", "t4", "t3"], ["t2", "t1"]),
    # the live release was rolled back to an old one: it and the previous are kept on top of the newest five
    (["t1", "t2", "t3", "t4", "t5", "t6", "t7"], ["t7", "t6", "t5", "t4", "t3", "t2", "t1"], 5, ["t1", "t2"],
     ["t7", "t6", "t5", "t4", "t3", "t2", "t1"], []),
    (["t1", "x", "y"], ["t1"], 2, [], ["t1", "y"], ["x"]),
])
def test_retention(tags: list[str], recent: list[str], retain: int, protected: list[str], keep: list[str],
                   remove: list[str]) -> None:
    decision = prune.retain(tags, recent, retain=retain, protected=protected, created={"x": "2025-01", "y": "2025-02"})
    assert (decision.keep, decision.remove) == (keep, remove)

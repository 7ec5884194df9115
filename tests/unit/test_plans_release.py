"""Lock, rollback and retention decisions as tables."""

from __future__ import annotations

import pytest

from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry
from shipyard.facts.lock import Lease
from shipyard.plans import lock, prune, rollback

ME = lock.Me(holder="ana@laptop", machine="laptop", pid=100, reason="deploy staging")


def lease(machine: str = "ci", pid: int = 7, expires: float = 1100.0) -> Lease:
    return Lease(id="L1", holder=f"bot@{machine}", machine=machine, pid=pid, reason="deploy production",
                 started=1000.0, expires=expires)


@pytest.mark.parametrize(("current", "alive", "action", "why"), [
    (None, None, "acquire", ""),
    (lease(), None, "refuse", "held by bot@ci (pid 7)"),
    (lease(expires=1049.0), None, "takeover", "expired 1s ago"),
    (lease(machine="laptop"), False, "takeover", "pid 7 on laptop) is no longer running"),
    (lease(machine="laptop"), True, "refuse", "expires in 50s"),
    (lease(machine="laptop"), None, "refuse", "for 'deploy production'"),
    (lease(machine="elsewhere"), False, "refuse", "bot@elsewhere"),
])
def test_lock_decision(current: Lease | None, alive: bool | None, action: str, why: str) -> None:
    decision = lock.decide(current, 1050.0, ME, alive)
    assert decision.action == action and why in decision.why
    assert decision.expect == ("L1" if action == "takeover" else "")


def test_lease_and_renewal() -> None:
    new = lock.lease("id1", ME, 1000.0, ttl=60)
    assert (new.holder, new.pid, new.started, new.expires) == ("ana@laptop", 100, 1000.0, 1060.0)
    assert lock.renewed(new, 1030.0, ttl=60).expires == 1090.0 and lock.renewed(new, 1030.0).started == 1000.0


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

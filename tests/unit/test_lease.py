"""The deploy lease, run for real against the lock script in a temporary state directory (LocalRunner): a renewal
that is refused (the lock was broken or taken over) or that cannot reach the host marks the lease lost, which
stops the deploy on that host before its next step; the heartbeat renews every lease, concurrently."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from shipyard.commands import hoststate
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.run import LocalRunner
from shipyard.targets.vmlock import Heartbeat, HostLock, me


def lock(tmp_path: Path, runner: object | None = None) -> HostLock:
    return HostLock(runner or LocalRunner(), HostLayout("demo", root=str(tmp_path)), me("deploy x to test"))  # type: ignore[arg-type]


def test_renewal_keeps_a_held_lease(tmp_path: Path) -> None:
    held = lock(tmp_path)
    first = held.acquire()
    time.sleep(0.01)
    held.renew()
    assert held.lost is None and held.lease is not None and held.lease.id == first.id
    assert held.lease.expires >= first.expires


def test_a_broken_lock_makes_the_next_renewal_refused_and_the_lease_lost(tmp_path: Path) -> None:
    held = lock(tmp_path)
    held.acquire()
    layout = HostLayout("demo", root=str(tmp_path))
    subprocess.run(hoststate.lock(layout, "break"), check=True, capture_output=True)  # deploy.unlock --force
    held.renew()
    assert held.lost == "the deploy lock was taken by someone else (broken or taken over)"
    other = lock(tmp_path)
    other.acquire()  # someone else's now; our renewal must not overwrite it
    held.renew()
    assert other.read() is not None and other.read().id == other.lease.id  # type: ignore[union-attr]


class Unreachable:
    host, dry_run = "gone", False

    def run(self, *args: object, **kwargs: object) -> object:
        raise ShipyardError("[gone] cannot connect")


def test_an_unreachable_host_makes_the_lease_lost(tmp_path: Path) -> None:
    held = lock(tmp_path)
    held.acquire()
    held.runner = Unreachable()  # type: ignore[assignment]
    held.renew()
    assert held.lost is not None and held.lost.startswith("renewing the deploy lock failed ([gone] cannot connect")


def test_heartbeat_renews_every_lease(tmp_path: Path) -> None:
    locks = [lock(tmp_path / str(i)) for i in range(3)]
    before = [held.acquire().expires for held in locks]
    with Heartbeat(locks, ttl=0.2):  # every 0.05 s
        time.sleep(0.4)
    assert all(held.lease is not None and held.lease.expires > b for held, b in zip(locks, before, strict=True))
    assert all(held.lost is None for held in locks)

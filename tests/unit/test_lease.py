"""The deploy lease, run for real against the lock script in a temporary state directory (LocalRunner): a renewal
that is refused (the lock was broken or taken over) or that cannot reach the host marks the lease lost, which
stops the deploy on that host before its next step; the heartbeat renews every lease, concurrently. Expiry is
judged by the host's clock (the lease file's age), and a dead holder is recognised by machine identity and the
start time of its pid, never by hostname."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shipyard.commands import hoststate
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts.lock import Lease
from shipyard.run import LocalRunner
from shipyard.targets.vm.lock import Heartbeat, HostLock, Leased, LockHeld, machine_id, me, process_start


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


# --- taking over: the host's clock, the machine's identity, the holder's start time --------------------------------

def theirs(**changes: Any) -> Lease:
    """Someone else's lease, as a current Shipyard writes it (ttl, machine identity, start time)."""
    now = time.time()
    base = Lease(id="theirs", holder="bob@laptop", machine="laptop", pid=1, reason="deploy y to test", started=now,
                 expires=now + 120, ttl=120.0, machine_id="feedfacefeedface", pid_start=None)
    return replace(base, **changes)


def plant(tmp_path: Path, lease: Lease | str, age: float = 0.0) -> Path:
    """A lease file on the "host", last written `age` seconds ago by the host's (here: this) clock."""
    path = tmp_path / "demo" / "lock.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lease if isinstance(lease, str) else lease.to_json())
    written = time.time() - age
    os.utime(path, (written, written))
    return path


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_lease_the_host_saw_unrenewed_beyond_its_ttl_is_taken_over_whatever_its_recorded_expiry(
        tmp_path: Path) -> None:
    plant(tmp_path, theirs(expires=time.time() + 3600), age=300)  # "valid for an hour" by its holder's clock
    held = lock(tmp_path)
    held.acquire()
    assert held.took_over is not None and held.took_over.id == "theirs"
    assert "by the host's clock, TTL 120s" in held.took_over_why and "expired 18" in held.took_over_why
    assert held.read() is not None and held.read().id == held.lease.id  # type: ignore[union-attr]


@pytest.mark.parametrize("skew", [0.0, 86400.0, -86400.0])
def test_a_lease_the_host_saw_renewed_is_refused_whatever_the_deployers_clock_says(tmp_path: Path,
                                                                                   skew: float) -> None:
    path = plant(tmp_path, theirs(expires=time.time() - 3600), age=10)  # "expired an hour ago" by its holder's clock
    held = HostLock(LocalRunner(), HostLayout("demo", root=str(tmp_path)), me("deploy x to test"),
                    clock=lambda: time.time() + skew)  # a deployer whose clock is a day off
    with pytest.raises(LockHeld, match=r"held by bob@laptop \(pid 1\) .* expires in 1[01]\ds"):
        held.acquire()
    assert '"id": "theirs"' in path.read_text()


def test_a_lease_of_an_older_shipyard_is_judged_by_its_recorded_expiry(tmp_path: Path) -> None:
    old = ('{"expires": %s, "holder": "bob@laptop", "id": "old", "machine": "laptop", "pid": 1, '
           '"reason": "deploy y", "started": 0.0}')
    plant(tmp_path, old % (time.time() + 3600), age=3000)  # no ttl: the age cannot be judged
    with pytest.raises(LockHeld, match="expires in 3"):
        lock(tmp_path).acquire()
    plant(tmp_path, old % (time.time() - 5))
    taken = lock(tmp_path)
    taken.acquire()
    assert taken.took_over is not None and taken.took_over.id == "old" and "expired 5s ago" in taken.took_over_why


def test_a_dead_holder_is_taken_over_only_on_the_same_machine_not_the_same_hostname(tmp_path: Path) -> None:
    mine = me("deploy x to test")
    assert mine.machine_id is not None and len(mine.machine_id) == 16  # a short hash, never the raw machine id
    raw = Path("/etc/machine-id")
    assert not raw.exists() or mine.machine_id not in raw.read_text()
    dead = dead_pid()
    host = socket.gethostname()
    plant(tmp_path, theirs(machine=host, holder=f"bob@{host}", pid=dead))  # another laptop called the same
    with pytest.raises(LockHeld, match=f"held by bob@{host} \\(pid {dead}\\)"):
        lock(tmp_path).acquire()
    plant(tmp_path, theirs(machine=host, pid=dead, machine_id=None))  # an older Shipyard's: no identity recorded
    with pytest.raises(LockHeld):
        lock(tmp_path).acquire()
    plant(tmp_path, theirs(machine=host, pid=dead, machine_id=mine.machine_id))  # this machine: its holder is gone
    taken = lock(tmp_path)
    taken.acquire()
    assert taken.took_over is not None and f"its holder (pid {dead} on {host}) is no longer running" \
        in taken.took_over_why


def test_a_reused_pid_is_taken_over_and_a_live_holder_is_not(tmp_path: Path) -> None:
    started = process_start(1)
    if started is None or machine_id() is None:
        pytest.skip("no /proc or no machine identity here: pid reuse cannot be told")
    plant(tmp_path, theirs(pid=1, pid_start=started, machine_id=machine_id()))  # pid 1 runs: the holder lives
    with pytest.raises(LockHeld):
        lock(tmp_path).acquire()
    plant(tmp_path, theirs(pid=1, pid_start=started + 1, machine_id=machine_id()))  # pid 1 is another process now
    taken = lock(tmp_path)
    taken.acquire()
    assert taken.took_over is not None and "that pid is another process now" in taken.took_over_why
    assert taken.lease is not None and taken.lease.pid_start == process_start(os.getpid())


def test_a_lost_lease_stops_the_next_change_and_a_reclaimed_one_does_not(tmp_path: Path) -> None:
    held = lock(tmp_path)
    held.acquire()
    act = Leased(held)
    assert act.run(["true"]).ok
    held.runner = Unreachable()  # type: ignore[assignment]
    held.renew()
    with pytest.raises(ShipyardError, match=r"lock failed \(\[gone\] cannot connect\): stopped before the next change"):
        act.run(["true"])
    held.runner = LocalRunner()
    held.reclaim()  # the host answers again, and the lease there is still ours
    assert held.lost is None and act.run(["true"]).ok
    subprocess.run(hoststate.lock(HostLayout("demo", root=str(tmp_path)), "break"), check=True, capture_output=True)
    held.reclaim()  # broken meanwhile: it stays lost
    assert held.lost is not None


def test_then_runs_in_the_same_round_trip_only_once_the_lease_is_ours(tmp_path: Path) -> None:
    """A deploy reads its facts with the lock: `then` runs once the lease is taken, and never for a refused one.
    A `then` that fails still leaves the lease taken (and so released at the end), its failure kept for the
    caller."""
    calls: list[list[str]] = []

    class Counting(LocalRunner):
        def run(self, argv: Any, **kwargs: Any) -> Any:
            calls.append(list(argv))
            return super().run(argv, **kwargs)

    held = lock(tmp_path, Counting())
    held.acquire(then=["sh", "-c", 'echo "facts of $1"; echo more', "x", "h1"])
    assert len(calls) == 1 and held.then is not None
    assert (held.then.exit_code, held.then.stdout) == (0, "facts of h1\nmore\n")
    assert held.then.argv == ("sh", "-c", 'echo "facts of $1"; echo more', "x", "h1")
    other = lock(tmp_path)
    with pytest.raises(LockHeld):
        other.acquire(then=["sh", "-c", "echo should-not-run; exit 9"])
    assert other.then is None and other.lease is None
    held.release()
    failing = lock(tmp_path)
    failing.acquire(then=["sh", "-c", "echo half; exit 4"])
    assert failing.lease is not None and failing.then is not None
    assert (failing.then.exit_code, failing.then.stdout) == (4, "half\n")
    assert lock(tmp_path).read() is not None  # still held until released
    failing.release()
    assert lock(tmp_path).read() is None

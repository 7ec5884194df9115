"""The deploy lock on each VM: a lease taken atomically on the host, renewed while the deploy runs.

Taking over a lease is allowed when it expired (a cancelled CI job), judged by the host's clock alone, or when its
holder is a process of this very machine that no longer exists (a deployer killed mid-deploy), so the next deploy
needs no manual step. This machine is recognised by a machine identity recorded in the lease, not by hostname.

`holding` takes the lock on several hosts for the commands that change them outside a deploy (deploy.setup,
deploy.prune): a running deploy must not have its proxy configuration rewritten or its freshly pulled image
removed under it.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from shipyard.commands import hoststate
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry
from shipyard.facts.lock import Lease, parse_lease, parse_process_start
from shipyard.plans import lock as lock_plan
from shipyard.run.base import DEFAULT_TIMEOUT, Result, Runner


class LockHeld(ShipyardError):
    def __init__(self, host: str, lease: Lease | None, now: float) -> None:
        detail = lease.describe(now) if lease else "held by someone else"
        super().__init__(f"[{host}] another deploy is in progress: {detail}",
                         hint="wait for it (add --wait to queue), or if it is stuck: invoke deploy.unlock --force")
        self.lease = lease


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@cache
def machine_id() -> str | None:
    """Who this machine is, for a lease: the same for every process that sees the same pids, different on another
    machine even when the hostname is the same. From systemd's machine id (D-Bus's on older systems), else the
    network card's address (when Python found a real one), combined with the pid namespace (two containers of one
    machine do not see each other's pids). Only a short hash of it is written: the machine id is meant to stay
    private. None when nothing stable is known."""
    source = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            source = Path(path).read_text(encoding="ascii").strip()
        if source:
            break
    if not source:
        node = uuid.getnode()
        if node >> 40 & 1:  # the multicast bit: Python made a random number up (no hardware address found)
            return None
        source = f"node:{node:012x}"
    namespace = ""
    with contextlib.suppress(OSError):
        namespace = str(Path("/proc/self/ns/pid").readlink())
    return hashlib.sha256(f"shipyard lease\0{source}\0{namespace}".encode()).hexdigest()[:16]


def process_start(pid: int) -> int | None:
    """When the process `pid` started (Linux: clock ticks after boot); None where the system does not say."""
    try:
        return parse_process_start(Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def me(reason: str) -> lock_plan.Me:
    actor = os.environ.get("GITHUB_ACTOR")
    user = f"{actor} (ci)" if actor else getpass.getuser()
    machine = socket.gethostname()
    pid = os.getpid()
    return lock_plan.Me(holder=f"{user}@{machine}", machine=machine, pid=pid, reason=reason,
                        machine_id=machine_id(), pid_start=process_start(pid))


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_process(pid: int) -> lock_plan.Process:
    """What this machine says of `pid`: running or not, and since when (a pid may have been reused)."""
    running = pid_alive(pid)
    return lock_plan.Process(running, process_start(pid) if running else None)


class HostLock:
    def __init__(self, runner: Runner, layout: HostLayout, who: lock_plan.Me, *,
                 ttl: float = lock_plan.DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self.runner, self.layout, self.who, self.ttl, self.clock = runner, layout, who, ttl, clock
        self.lease: Lease | None = None
        self.took_over: Lease | None = None
        self.took_over_why = ""
        self.lost: str | None = None  # why the lease can no longer be trusted (a renewal failed or was refused)
        self.then: Result | None = None  # what acquire(then=...) ran once it held the lease (output after the mark)

    def read(self) -> Lease | None:
        return parse_lease(self.runner.run(hoststate.read_lock(self.layout), timeout=30).stdout)

    def acquire(self, wait: float = 0.0, then: Sequence[str] | None = None) -> Lease:
        """Optimistic: try to create the lease first; the script answers with the holder's lease (and its age by
        the host's clock) when it is taken, and only then is the decision (refuse, or take over a dead or expired
        lease) made on what it said. `then`: a command run on the host in the same round trip once the lease is
        ours (a deploy's facts); its result is kept in `self.then`."""
        deadline = time.monotonic() + wait
        seen: str | None = None  # the current lease's JSON and age, once the host has told us
        while True:
            now = self.clock()
            if seen is None:
                decision = lock_plan.LockDecision("acquire")
            else:
                current = parse_lease(seen)
                process = local_process(current.pid) if current and lock_plan.same_machine(current, self.who) \
                    else None
                decision = lock_plan.decide(current, now, self.who, process)
            if decision.action != "refuse":
                new = lock_plan.lease(uuid.uuid4().hex, self.who, now, self.ttl)
                mode = "acquire" if decision.action == "acquire" else "replace"
                argv = hoststate.lock(self.layout, mode, decision.expect) if then is None else \
                    hoststate.lock_then(self.layout, mode, decision.expect, list(then))
                result = self.runner.run(argv, input=new.to_json(), timeout=60 if then else 30, check=False)
                marked = then is not None and hoststate.THEN_MARK in result.stdout
                if result.ok or marked:  # the mark: the lease is ours, whatever `then` did
                    self.lease = new
                    self.took_over = decision.current if decision.action == "takeover" else None
                    self.took_over_why = decision.why
                    if then is not None:
                        self.then = replace(result, argv=tuple(then),
                                            stdout=result.stdout.split(hoststate.THEN_MARK + "\n", 1)[-1])
                    return new
                if result.exit_code != hoststate.LOCK_HELD:
                    raise ShipyardError(f"[{self.runner.host}] cannot take the deploy lock: "
                                        f"{(result.stderr.strip() or 'no output').splitlines()[-1]}")
                seen = result.stdout  # held (or someone else won a race): decide on what the host said
                continue
            if time.monotonic() >= deadline:
                raise LockHeld(self.runner.host, decision.current, now)
            time.sleep(min(2.0, max(0.2, deadline - time.monotonic())))
            seen = None

    def renew(self) -> bool:
        """Renew the lease (compare-and-swap on its id); False, with `lost` saying why, when the host refused or
        could not be reached."""
        if self.lease is None:
            return False
        new = lock_plan.renewed(self.lease, self.clock(), self.ttl)
        try:
            result = self.runner.run(hoststate.lock(self.layout, "replace", self.lease.id), input=new.to_json(),
                                     timeout=30, check=False)
        except ShipyardError as exc:  # unreachable: the lease may expire while we cannot tell
            self.lost = self.lost or f"renewing the deploy lock failed ({exc})"
            return False
        if result.ok:
            self.lease = new
            return True
        if result.exit_code == hoststate.LOCK_HELD:
            self.lost = self.lost or "the deploy lock was taken by someone else (broken or taken over)"
        else:
            self.lost = self.lost or f"renewing the deploy lock failed (exit {result.exit_code})"
        return False

    def reclaim(self) -> None:
        """After a dropped connection: renew at once; when the host still holds this very lease (the swap on its id
        succeeds, so nobody took it over meanwhile), a renewal that failed while the host was unreachable is
        forgiven. A lease taken by someone else stays lost."""
        if self.renew():
            self.lost = None

    def check(self) -> None:
        """Raise when the lease is lost: the next change must not run."""
        if self.lost:
            raise ShipyardError(f"[{self.runner.host}] {self.lost}: stopped before the next change",
                                hint="see who holds it now: invoke deploy.status")

    def release(self) -> None:
        if self.lease is None or self.runner.dry_run:
            return
        self.runner.run(hoststate.lock(self.layout, "release", self.lease.id), timeout=30, check=False)
        self.lease = None

    def record_takeover(self) -> str | None:
        """After acquire(): when it took over a stale lease, a `takeover` entry in the host's ledger, and the line
        that says so (None when nothing was taken over)."""
        old = self.took_over
        if old is None:
            return None
        why = self.took_over_why
        entry = Entry(at=now_iso(), action="takeover", who=self.who.holder, outcome="ok", host=self.runner.host,
                      detail=f"lease of {old.holder} pid {old.pid} for '{old.reason}': {why}")
        self.runner.run(hoststate.append_ledger(self.layout), input=entry.to_json() + "\n", timeout=30, check=False)
        return f"took over a stale deploy lock of {old.holder} for '{old.reason}': {why}"


class Heartbeat:
    """Renews every held lease every ttl/4 until stopped (a deploy longer than the TTL keeps its locks)."""

    def __init__(self, locks: Sequence[HostLock], ttl: float = lock_plan.DEFAULT_TTL) -> None:
        self.locks, self.every = locks, ttl / 4
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="shipyard-lock-heartbeat")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        """Every host's lease at once (one slow host does not let the others expire); a lease that could not be
        renewed is marked `lost`, and the deploy stops on that host before its next step."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, len(self.locks)), thread_name_prefix="shipyard-renew") as pool:
            while not self._stop.wait(self.every):
                list(pool.map(lambda held: held.renew(), self.locks))


class Leased:
    """A host's runner for the changes of deploy.setup and deploy.prune: it runs nothing once the host's lease is
    lost (broken, taken over, or not renewed in time), as a deploy stops before its next step."""

    def __init__(self, lock: HostLock) -> None:
        self.lock, self.inner = lock, lock.runner
        self.host, self.dry_run = lock.runner.host, lock.runner.dry_run

    def run(self, argv: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        self.lock.check()
        return self.inner.run(argv, timeout=timeout, check=check, env=env, cwd=cwd, input=input, stream=stream)


@dataclass
class Held:
    """The deploy locks `holding` took, and the hosts where it could not take one (unreachable: left alone)."""

    locks: dict[str, HostLock] = field(default_factory=dict)
    failed: dict[str, BaseException] = field(default_factory=dict)

    def runner(self, host: str) -> Runner:
        """The host's runner for changes: stops once its lease is lost."""
        return Leased(self.locks[host])

    def check(self) -> None:
        """Raise when any lease is lost (before a change that concerns every host, such as the registry's tags)."""
        for held in self.locks.values():
            held.check()



@contextlib.contextmanager
def holding(runners: Sequence[Runner], layout: HostLayout, reason: str, *, wait: float = 0.0,
            say: Callable[[str], None] = print) -> Iterator[Held]:
    """The deploy lock of every host, for a command that changes them outside a deploy: taken on all of them first
    (in parallel; `wait` seconds of queueing behind a deploy, as `deploy --wait`), renewed while the body runs,
    released at the end whatever happens. Another deploy holding any host's lock refuses the whole command
    (LockHeld, after releasing the locks already taken); a host that cannot be reached is left out, in `failed`."""
    who = me(reason)
    locks = {r.host: HostLock(r, layout, who) for r in runners}
    try:
        with Heartbeat(list(locks.values())):  # renews each lease from the moment it is taken
            from shipyard.run import on_hosts

            taken = on_hosts(runners, lambda r: locks[r.host].acquire(wait=wait), raise_on_failure=False)
            failed = {host: exc for host, exc in taken.items() if isinstance(exc, BaseException)}
            refused = [exc for exc in failed.values() if isinstance(exc, LockHeld)]
            bugs = [exc for exc in failed.values() if not isinstance(exc, ShipyardError)]
            if refused or bugs:
                raise (refused or bugs)[0]
            held = Held({host: lock for host, lock in locks.items() if host not in failed}, failed)
            for host, lock in held.locks.items():
                with contextlib.suppress(ShipyardError):  # the lease is ours either way; only the record is lost
                    if note := lock.record_takeover():
                        say(f"[{host}] {note}")
            yield held
    finally:
        for lock in locks.values():
            with contextlib.suppress(ShipyardError):  # an unreachable host's lease expires by itself
                lock.release()

"""The deploy lock on each VM: a lease taken atomically on the host, renewed while the deploy runs.

Taking over a lease is allowed when it expired (a cancelled CI job) or when its holder is a process on this
machine that no longer exists (a deployer killed mid-deploy), so the next deploy needs no manual step.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from shipyard.commands import hoststate
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts.lock import Lease, parse_lease
from shipyard.plans import lock as lock_plan
from shipyard.run.base import Runner


class LockHeld(ShipyardError):
    def __init__(self, host: str, lease: Lease | None, now: float) -> None:
        detail = lease.describe(now) if lease else "held by someone else"
        super().__init__(f"[{host}] another deploy is in progress: {detail}",
                         hint="wait for it (add --wait to queue), or if it is stuck: invoke deploy.unlock --force")
        self.lease = lease


def me(reason: str) -> lock_plan.Me:
    actor = os.environ.get("GITHUB_ACTOR")
    user = f"{actor} (ci)" if actor else getpass.getuser()
    machine = socket.gethostname()
    return lock_plan.Me(holder=f"{user}@{machine}", machine=machine, pid=os.getpid(), reason=reason)


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


class HostLock:
    def __init__(self, runner: Runner, layout: HostLayout, who: lock_plan.Me, *,
                 ttl: float = lock_plan.DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self.runner, self.layout, self.who, self.ttl, self.clock = runner, layout, who, ttl, clock
        self.lease: Lease | None = None
        self.took_over: Lease | None = None
        self.took_over_why = ""
        self.lost: str | None = None  # why the lease can no longer be trusted (a renewal failed or was refused)

    def read(self) -> Lease | None:
        return parse_lease(self.runner.run(hoststate.read_lock(self.layout), timeout=30).stdout)

    def acquire(self, wait: float = 0.0) -> Lease:
        """Optimistic: try to create the lease first; the script answers with the holder's lease when it is taken,
        and only then is the decision (refuse, or take over a dead or expired lease) made on what it said."""
        deadline = time.monotonic() + wait
        seen: str | None = None  # the current lease's JSON, once the host has told us
        while True:
            now = self.clock()
            if seen is None:
                decision = lock_plan.LockDecision("acquire")
            else:
                current = parse_lease(seen)
                alive = pid_alive(current.pid) if current and current.machine == self.who.machine else None
                decision = lock_plan.decide(current, now, self.who, alive)
            if decision.action != "refuse":
                new = lock_plan.lease(uuid.uuid4().hex, self.who, now, self.ttl)
                mode = "acquire" if decision.action == "acquire" else "replace"
                result = self.runner.run(hoststate.lock(self.layout, mode, decision.expect), input=new.to_json(),
                                         timeout=30, check=False)
                if result.ok:
                    self.lease = new
                    self.took_over = decision.current if decision.action == "takeover" else None
                    self.took_over_why = decision.why
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

    def renew(self) -> None:
        if self.lease is None:
            return
        new = lock_plan.renewed(self.lease, self.clock(), self.ttl)
        try:
            result = self.runner.run(hoststate.lock(self.layout, "replace", self.lease.id), input=new.to_json(),
                                     timeout=30, check=False)
        except ShipyardError as exc:  # unreachable: the lease may expire while we cannot tell
            self.lost = self.lost or f"renewing the deploy lock failed ({exc})"
            return
        if result.ok:
            self.lease = new
        elif result.exit_code == hoststate.LOCK_HELD:
            self.lost = self.lost or "the deploy lock was taken by someone else (broken or taken over)"
        else:
            self.lost = self.lost or f"renewing the deploy lock failed (exit {result.exit_code})"

    def release(self) -> None:
        if self.lease is None or self.runner.dry_run:
            return
        self.runner.run(hoststate.lock(self.layout, "release", self.lease.id), timeout=30, check=False)
        self.lease = None


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

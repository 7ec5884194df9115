"""Fault injection for deploys and rollbacks: a documented test hook, off unless SHIPYARD_FAULT is set.

    SHIPYARD_FAULT=<action>@<point>[@<host>][,<action>@<point>[@<host>]...]

Actions:
  kill  SIGKILL of the deploying process (what a crashed laptop or a killed CI runner does);
  drop  the SSH connection to the host is closed and the step is lost with it (a network drop);
  fail  the step fails: at a `before-` point it never runs, at an `after-` point it ran and is reported failed.
Points: `before-<step>` and `after-<step>` for every step name in POINTS (the order a deploy runs them on a
host); `<host>` limits the fault to one host (default: the first host that reaches the point). A fault fires
once per process. Several faults, comma-separated, each fire once: the recovery steps (RECOVERY: undoing a
prepared colour, switching back) only run after a failure, so their points are reached with a fault that causes
one first, e.g. `fail@before-watch,kill@after-switch-back`. Nothing here runs unless the variable is set; a
malformed value is a one-line error.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shipyard.errors import ShipyardError

ENV = "SHIPYARD_FAULT"
ACTIONS = ("kill", "drop", "fail")
#: Step names in the order a deploy (or rollback) runs them on a host. `lock` is taking the host's lease and
#: `ledger` writing its entry (after which the lease is released); the others are the blue/green plan's steps
#: (shipyard.plans.bluegreen.Step.point), some of which only exist when they have work to do (a pull when the
#: image is missing, a release command or a hook when configured, removal of a stale container; with
#: deploy.previous_colour stop or standby, keeping the old colour, and a rollback starting a kept stopped one).
STEPS = ("lock", "pull", "env-file", "release-command", "isolate-stale", "remove-stale", "drain-new",
         "restart-kept", "start", "healthy", "hook", "switch", "record", "verify-proxy", "verify-http", "watch",
         "isolate-old", "remove-old", "stop-old", "standby-old", "ledger")
#: The steps that undo a deploy on a host after a failure: a prepared colour taken out of the proxy and removed
#: (also what a later deploy does to a leftover colour), a switched one switched back.
RECOVERY = ("abandon-isolate", "abandon-remove", "switch-back")
POINTS = tuple(f"{when}-{step}" for step in (*STEPS, *RECOVERY) for when in ("before", "after"))


@dataclass(frozen=True)
class Fault:
    action: str
    point: str
    host: str | None = None

    def __str__(self) -> str:
        return f"{self.action}@{self.point}" + (f"@{self.host}" if self.host else "")


def parse(text: str) -> Fault:
    """`action@point[@host]`, checked against ACTIONS and POINTS."""
    parts = text.strip().split("@")
    if len(parts) not in (2, 3) or not all(parts):
        raise ShipyardError(f"{ENV}={text!r}: expected <action>@<point>[@<host>]",
                            hint=f"for example {ENV}=kill@after-switch; `invoke deploy --dry-run` lists the points")
    action, point = parts[0], parts[1]
    if action not in ACTIONS:
        raise ShipyardError(f"{ENV}={text!r}: unknown action {action!r} (actions: {', '.join(ACTIONS)})")
    if point not in POINTS:
        raise ShipyardError(f"{ENV}={text!r}: unknown point {point!r}",
                            hint="`invoke deploy --dry-run` lists the points")
    return Fault(action, point, parts[2] if len(parts) == 3 else None)


def listing() -> str:
    """The points, for `deploy --dry-run`."""
    return (f"fault injection points ({ENV}=<{'|'.join(ACTIONS)}>@<point>[@<host>][,...], a test hook, off unless"
            " set; the recovery points need a fault that causes a failure first): " + ", ".join(POINTS))


class Injector:
    """Fires each configured fault once, at its point, on its host (or the first host to reach the point)."""

    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        self.faults = tuple(faults)
        self._lock = threading.Lock()
        self._fired: set[int] = set()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Injector:
        text = (os.environ if environ is None else environ).get(ENV, "")
        return cls([parse(part) for part in text.split(",")] if text.strip() else [])

    def at(self, when: str, step: str, host: str, *, drop: object = None) -> None:
        """Called before and after each step on `host`; `drop` closes that host's connection (a callable)."""
        for index, fault in enumerate(self.faults):
            if fault.point == f"{when}-{step}" and (not fault.host or fault.host == host):
                with self._lock:
                    if index in self._fired:
                        continue
                    self._fired.add(index)
                self._fire(fault, host, step, drop)

    @staticmethod
    def _fire(fault: Fault, host: str, step: str, drop: object) -> None:
        message = f"fault injected: {fault} on {host}"
        print(f"[{host}] {message}", file=sys.stderr, flush=True)
        if fault.action == "kill":
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        if fault.action == "drop" and callable(drop):
            drop()
        from shipyard.targets.vm.host import StepFailed

        raise StepFailed(host, message, phase=step)

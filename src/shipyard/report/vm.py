"""Reports of a VM environment: status, the ledger (releases) and the dry-run plan. Pure: objects in, lines or
documents out.

Plain layouts fit an 80-column terminal: a host's rows sit under a `[host]` line of their own, so a long host
name is printed whole once instead of pushing every column to the right.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shipyard.facts.ledger import Entry
from shipyard.facts.lock import Lease
from shipyard.plans.bluegreen import ServicePlan, Step
from shipyard.report import schema

if TYPE_CHECKING:
    from shipyard.targets.vm.accessories import BootReport
    from shipyard.targets.vm.admin import HostStatus

NONE = ("-", "?")  # how HostStatus marks a colour or release it does not know


def _when(at: str) -> str:
    """An ISO 8601 time as `YYYY-MM-DD HH:MM:SS` (the ledger's sub-seconds and zone are for the JSON)."""
    return at[:19].replace("T", " ")


def _iso(epoch: float) -> str | None:
    if epoch in (float("inf"), float("-inf")) or epoch != epoch:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _known(value: str) -> str | None:
    return None if value in NONE else value


# --- status ----------------------------------------------------------------------------------------------------

def lease_doc(lease: Lease, now: float) -> dict[str, Any]:
    return {"holder": lease.holder, "machine": lease.machine, "pid": lease.pid, "reason": lease.reason,
            "started": _iso(lease.started), "expires": _iso(lease.expires), "expired": lease.expired(now),
            "description": lease.describe(now)}


def entry_doc(entry: Entry) -> dict[str, Any]:
    """One ledger entry; every key is always present (null, [] or {} when the entry has nothing to say)."""
    return {"at": entry.at, "action": entry.action, "who": entry.who, "outcome": entry.outcome,
            "host": entry.host, "release": entry.release, "previous": entry.previous, "hosts": list(entry.hosts),
            "services": dict(entry.services), "phases": dict(entry.phases),
            "duration": round(sum(entry.phases.values()), 3), "error": entry.error, "detail": entry.detail,
            "schema_changed": entry.schema_changed}


def status_doc(env: str, statuses: Sequence[HostStatus], now: float) -> dict[str, Any]:
    hosts = []
    for st in statuses:
        services = [{"service": svc, "colour": _known(colour), "release": _known(release), "health": health,
                     "kept": _kept_doc(st.kept.get(svc))}
                    for svc, (colour, release, health) in sorted(st.services.items())]
        hosts.append({"host": st.host, "error": st.error, "services": [] if st.error else services,
                      "lock": lease_doc(st.lock, now) if st.lock and not st.error else None,
                      "last": entry_doc(st.last) if st.last and not st.error else None})
    return {"schema": schema("status"), "environment": env, "ok": not any(st.error for st in statuses),
            "hosts": hosts}


def _kept_doc(kept: tuple[str, str, str] | None) -> dict[str, str] | None:
    if kept is None:
        return None
    colour, release, state = kept
    return {"colour": colour, "release": release, "state": state}


def status_lines(statuses: Sequence[HostStatus], now: float) -> list[str]:
    rows = [row for st in statuses if not st.error for row in st.services.items()]
    svc_w = max((len(svc) for svc, _ in rows), default=0)
    rel_w = max((len(release) for _, (_, release, _) in rows), default=0)
    col_w = max((len(colour) for _, (colour, _, _) in rows), default=0)
    out = []
    for st in statuses:
        if st.error:
            out.append(f"[{st.host}] unreachable or not set up: {st.error}")
            continue
        out.append(f"[{st.host}]")
        for svc, (colour, release, health) in sorted(st.services.items()):
            out.append(f"  {svc:<{svc_w}}  {release:<{rel_w}}  {colour:<{col_w}}  {health}")
            if svc in st.kept:
                k_colour, k_release, k_state = st.kept[svc]
                out.append(f"  {'':<{svc_w}}  {k_release:<{rel_w}}  {k_colour:<{col_w}}  kept: {k_state}")
        out.append(f"  lock: {st.lock.describe(now) if st.lock else 'free'}")
        if st.last:
            last = st.last
            out.append(f"  last: {_when(last.at)} {last.action} {last.release or '-'} {last.outcome} by {last.who}")
    return out


# --- releases (the ledger) -------------------------------------------------------------------------------------

Ledgers = Mapping[str, list[Entry] | BaseException]
#: Under an entry whose release command changed the schema (the short form of the JSON's `schema_changed`).
SCHEMA_MARK = "schema-changed (rolling back past it needs --yes)"


def releases_doc(env: str, found: Ledgers) -> dict[str, Any]:
    hosts = [{"host": host, "error": str(value) if isinstance(value, BaseException) else None,
              "entries": [] if isinstance(value, BaseException) else [entry_doc(e) for e in value]}
             for host, value in found.items()]
    return {"schema": schema("releases"), "environment": env,
            "ok": not any(isinstance(v, BaseException) for v in found.values()), "hosts": hosts}


def releases_lines(found: Ledgers) -> list[str]:
    entries = [e for v in found.values() if not isinstance(v, BaseException) for e in v]
    act_w = max((len(e.action) for e in entries), default=0)
    rel_w = max((len(e.release or "-") for e in entries), default=0)
    out_w = max((len(e.outcome) for e in entries), default=0)
    out = []
    for host, value in found.items():
        if isinstance(value, BaseException):
            out.append(f"[{host}] cannot read the ledger: {value}")
            continue
        if not value:
            out.append(f"[{host}] no releases yet")
            continue
        out.append(f"[{host}]")
        for e in value:
            took = sum(e.phases.values())
            out.append(f"  {_when(e.at)} {e.action:<{act_w}} {e.release or '-':<{rel_w}} {e.outcome:<{out_w}}"
                       f" {took:6.1f}s {e.who}")
            if e.schema_changed:
                out.append(f"      {SCHEMA_MARK}")
            if e.error:
                out.append(f"      error: {e.error}")
            elif e.detail:
                out.append(f"      {e.detail}")
    return out


# --- the dry-run plan ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedStep:
    """One command of the plan as shown: programs embedded in the argv by name, a secret input never kept."""

    phase: str
    kind: str
    what: str
    argv: tuple[str, ...]
    command: str  # the argv as a shell line, programs by name unquoted (`python3 -c <admin-client.py> ...`)
    stdin: str | None = None  # the text written on stdin, when there is one and it is not secret
    stdin_bytes: int = 0
    stdin_secret: bool = False


def planned_step(step: Step, programs: Mapping[str, str]) -> PlannedStep:
    """`programs`: name -> text of a program passed whole in an argv (`<switch.sh>` -> the script)."""
    by_text = {text: name for name, text in programs.items()}
    argv = tuple(by_text.get(arg, arg) for arg in step.argv)
    command = " ".join(arg if step.argv[i] in by_text else shlex.quote(arg) for i, arg in enumerate(argv))
    data = step.input
    return PlannedStep(phase=step.phase, kind=step.kind, what=step.what, argv=argv, command=command,
                       stdin=None if data is None or step.secret_input else data,
                       stdin_bytes=len(data.encode()) if data is not None else 0,
                       stdin_secret=data is not None and step.secret_input)


@dataclass(frozen=True)
class HostPlanView:
    """What a deploy would do on one host, or why its facts could not be read."""

    host: str
    error: str | None = None
    lock: str = ""  # the lock file
    ledger: str = ""  # the ledger file
    login: Mapping[str, str] | None = None  # address, username, config_dir: when a pull needs a registry login
    services: tuple[ServicePlan, ...] = ()
    steps: tuple[PlannedStep, ...] = ()


@dataclass(frozen=True)
class PlanInfo:
    action: str  # deploy | rollback
    release: str
    environment: str
    strategy: str
    on_host_failure: str
    images: Mapping[str, str]  # service -> image reference
    warnings: tuple[str, ...] = ()  # what a real run needs confirmed (a rollback across a schema change)


def _stdin_shown(step: PlannedStep) -> str:
    if step.stdin_secret:
        return " <<< (secret input, not shown)"
    if step.stdin is None:
        return ""
    if step.kind != "run" or len(step.stdin) < 80:
        return f" <<< {step.stdin.strip()!r}"
    return f" <<< ({step.stdin_bytes} bytes)"


def host_plan_lines(view: HostPlanView) -> list[str]:
    if view.error is not None:
        return [f"cannot read this host's facts: {view.error}"]
    lines = [f"lock {view.lock} (lease, renewed while the deploy runs)"]
    if view.login:
        lines.append(f"registry login to {view.login['address']} as {view.login['username']} into"
                     f" {view.login['config_dir']} (mode 700; the password on stdin, not shown)")
    for svc in view.services:
        now = f"{svc.live}={svc.live_release}" if svc.live else "nothing live"
        lines.append(f"{svc.service}: {now} -> {svc.target}={svc.desired.release}"
                     + (" (already live: nothing to do)" if svc.converged else ""))
    for step in view.steps:
        lines.append(f"  {step.phase:<8} {step.what}")
        lines.append(f"           $ {step.command}{_stdin_shown(step)}")
    lines.append(f"ledger append to {view.ledger}; unlock")
    return lines


def plan_lines(info: PlanInfo, hosts: Sequence[HostPlanView]) -> list[str]:
    out = [f"plan: {info.action} {info.release} to {info.environment} ({info.strategy},"
           f" on_host_failure={info.on_host_failure}); nothing changes"]
    out += [f"warning: {warning} (a real run needs --yes)" for warning in info.warnings]
    for view in hosts:
        out += [f"[{view.host}] {line}" for line in host_plan_lines(view)]
    return out


def _service_doc(svc: ServicePlan) -> dict[str, Any]:
    return {"service": svc.service, "live": svc.live, "live_release": svc.live_release, "target": svc.target,
            "release": svc.desired.release, "image": svc.desired.image, "pull": svc.pull,
            "converged": svc.converged, "reuse": svc.reuse}


def _step_doc(step: PlannedStep) -> dict[str, Any]:
    stdin = None if step.stdin is None and not step.stdin_secret else {
        "secret": step.stdin_secret, "bytes": step.stdin_bytes, "text": step.stdin}
    return {"phase": step.phase, "kind": step.kind, "what": step.what, "argv": list(step.argv),
            "command": step.command, "stdin": stdin}


def _host_doc(view: HostPlanView) -> dict[str, Any]:
    if view.error is not None:
        return {"host": view.host, "error": view.error, "lock": None, "ledger": None, "registry_login": None,
                "services": [], "steps": []}
    return {"host": view.host, "error": None, "lock": view.lock, "ledger": view.ledger,
            "registry_login": dict(view.login) if view.login else None,
            "services": [_service_doc(s) for s in view.services], "steps": [_step_doc(s) for s in view.steps]}


def _accessories_doc(report: BootReport) -> dict[str, Any]:
    return {"host": report.host, "error": report.unreadable, "would_change": list(report.changed),
            "in_place": list(report.in_place)}


def plan_doc(info: PlanInfo, hosts: Sequence[HostPlanView], *, accessories: Sequence[BootReport] = (),
             log: Sequence[str] = ()) -> dict[str, Any]:
    """The dry run as one document. `log`: the lines a plain dry run prints before the plan (images reused,
    built or pushed, the registry login, the accessories' commands)."""
    ok = all(v.error is None for v in hosts) and all(r.unreadable is None for r in accessories)
    return {"schema": schema("plan"), "action": info.action, "release": info.release,
            "environment": info.environment, "target": "vm", "commands": [],
            "strategy": info.strategy, "on_host_failure": info.on_host_failure,
            "images": dict(info.images), "ok": ok, "log": list(log), "warnings": list(info.warnings),
            "accessories": [_accessories_doc(r) for r in accessories], "hosts": [_host_doc(v) for v in hosts]}

"""Reading and tidying VMs: status, the ledger, the rollback release, the dry-run plan, unlock, retention."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard import imageref
from shipyard.commands import bluegreen as bgc
from shipyard.commands import docker as docker_cmd
from shipyard.commands import hoststate
from shipyard.commands.layout import other
from shipyard.errors import ShipyardError
from shipyard.facts import containers as container_facts
from shipyard.facts.ledger import Entry, last_live, parse_ledger, releases
from shipyard.facts.lock import Lease, parse_lease
from shipyard.plans import bluegreen as bg
from shipyard.plans import prune as prune_plan
from shipyard.plans import rollback as rollback_plan
from shipyard.report.vm import HostPlanView, PlanInfo, plan_doc, plan_lines, planned_step
from shipyard.run import on_hosts
from shipyard.run.base import Runner
from shipyard.targets.vm.bluegreen import Request, context
from shipyard.targets.vm.host import VmHost
from shipyard.targets.vm.lock import Held, holding, me, now_iso
from shipyard.targets.vm.target import Target

if TYPE_CHECKING:
    from shipyard.targets.vm.accessories import BootReport


def _each(target: Target, body: Callable[[VmHost], object], *, keep_open: bool = False) -> dict[str, object]:
    """host -> what `body` returned (or raised), in shipyard.yaml's order of the hosts."""
    runners = target.runners()
    hosts = {r.host: VmHost(r, target.layout) for r in runners}
    try:
        found = on_hosts(runners, lambda r: body(hosts[r.host]), raise_on_failure=False)
        return {name: found[name] for name in hosts}
    finally:
        if not keep_open:
            for host in hosts.values():
                host.close()


@dataclass
class HostStatus:
    host: str
    services: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # svc -> (colour, release, health)
    kept: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # svc -> (colour, release, state): the
    # previous release kept out of traffic (deploy.previous_colour): "standby" (running, healthy), "stopped", ...
    lock: Lease | None = None
    last: Entry | None = None
    error: str | None = None


def status(target: Target) -> list[HostStatus]:
    def one(host: VmHost) -> HostStatus:
        images = {svc: target.image(svc, "unknown") for svc in target.services}
        facts = host.facts(images)
        out = HostStatus(host.name)
        for svc, f in facts.services.items():
            live = bg.live_colour(f)
            if live is None:
                out.services[svc] = ("-", "-", "not serving" if f.containers else "not deployed")
                continue
            health = "healthy" if f.servers[live].healthy else "unhealthy"
            out.services[svc] = (live, f.containers[live].release or "?", health)
            kept = f.containers.get(other(live))
            if kept is not None:
                server = f.servers.get(other(live))
                state = ("stopped" if not kept.running else "standby" if server and server.healthy
                         else "running, not healthy")
                out.kept[svc] = (other(live), kept.release or "?", state)
        out.lock = parse_lease(host.runner.run(hoststate.read_lock(target.layout), timeout=30).stdout)
        entries = parse_ledger(host.runner.run(hoststate.read_ledger(target.layout, 20), timeout=30).stdout)
        out.last = entries[-1] if entries else None
        return out

    results = _each(target, one)
    return [v if isinstance(v, HostStatus) else HostStatus(name, error=str(v)) for name, v in results.items()]


def ledgers(target: Target, last: int | None = None, *,
            keep_open: bool = False) -> dict[str, list[Entry] | BaseException]:
    def one(host: VmHost) -> list[Entry]:
        return parse_ledger(host.runner.run(hoststate.read_ledger(target.layout, last), timeout=60).stdout)

    out: dict[str, list[Entry] | BaseException] = {}
    for name, value in _each(target, one, keep_open=keep_open).items():
        out[name] = value if isinstance(value, list | BaseException) else ShipyardError(str(value))
    return out


@dataclass(frozen=True)
class Rollback:
    """A rollback as chosen from the ledgers: the request, and the releases whose release command changed the
    schema since the release it puts back last ran (empty: no schema change to cross)."""

    request: Request
    schema_changes: tuple[str, ...] = ()

    @property
    def warning(self) -> str | None:
        return rollback_plan.schema_warning(self.request.release, self.schema_changes)


def plan_rollback(target: Target, requested: str | None, *, wait_lock: float = 0.0,
                  check_images: bool = True) -> Rollback:
    """The release to put back, from every reachable host's ledger (reconciled: the live release is the one most
    recently put live on any host), with the images that were deployed (their recorded digests), and the schema
    changes it would cross. With `check_images`, a release whose image is gone from a host and from the registry
    is refused here, naming both; a real rollback leaves that to the facts it reads under the lock
    (bluegreen's `refuse_pruned`), one round trip fewer. Reads only."""
    read = ledgers(target, keep_open=True)  # the rollback that follows reuses the connections
    merged = sorted((e for result in read.values() if isinstance(result, list) for e in result), key=lambda e: e.at)
    if not any(isinstance(result, list) for result in read.values()):
        raise ShipyardError(f"no host of '{target.env_name}' answered; cannot read the ledger to roll back")
    current = last_live(merged)
    release = rollback_plan.choose(merged, current.release if current else None, requested)
    entry = last_live(merged, release)
    assert entry is not None  # choose() picks among the releases that went live
    images = {svc: image for svc, image in entry.services.items() if svc in target.services}
    if not images:
        images = {svc: target.image(svc, release) for svc in target.services}
    if check_images:
        present = _each(target, lambda host: host.images_present(sorted(set(images.values()))), keep_open=True)
        refuse_pruned(target, release, images, {
            ref: [h for h, found in present.items() if isinstance(found, dict) and not found.get(ref)]
            for ref in images.values()})
    request = Request(action="rollback", release=release, images=images, hooks=False, wait_lock=wait_lock)
    return Rollback(request, tuple(rollback_plan.schema_changes(merged, release)))


def refuse_pruned(target: Target, release: str, images: dict[str, str], missing_on: dict[str, list[str]]) -> None:
    """Refuse a rollback to `release` when one of its images is gone from a host (`missing_on`: image -> hosts
    without it) and from the registry (by its digest, or its tag for old ledgers). Changes nothing."""
    for svc, ref in sorted(images.items()):
        if not missing_on.get(ref):
            continue
        if target.registry_client().digest(target.repository(svc), imageref.reference_of(ref)) is None:
            raise ShipyardError(f"cannot roll back to {release}: {ref} is gone from {', '.join(missing_on[ref])}"
                                f" and from the registry (pruned); nothing was changed",
                                hint="pick a retained release from `invoke deploy.releases`")


def programs() -> dict[str, str]:
    """Programs passed whole in an argv, by the name a plan shows instead of their text."""
    from shipyard.commands.programs import program

    return {"<admin-client.py>": program("haproxy_admin.py"), "<switch.sh>": program("switch.sh"),
            "<http-probe.py>": program("http_probe.py"), "<write.sh>": program("write-file.sh")}


def plan_hosts(target: Target, request: Request) -> list[HostPlanView]:
    """What a deploy would do on each host (facts are read for real; nothing changes). A host whose facts
    cannot be read gets a view with its error."""
    first = target.host_names()[0]
    shown = programs()

    def one(host: VmHost) -> HostPlanView:
        facts = host.facts(request.images)
        desired = target.desired(request.images, request.release, hooks=request.hooks)
        hooks = request.hooks and host.name == first  # hooks and the release command run on one host only
        plan = bg.plan_host(host.name, desired, facts.services, run_hooks=hooks, force=request.force,
                            reuse=request.action == "rollback")
        ctx = context(target, facts, request)
        login = target.host_login()
        pulls = login is not None and any(s.pull for s in plan.changes)
        return HostPlanView(
            host=host.name, lock=target.layout.lock, ledger=target.layout.ledger,
            login={"address": login.address, "username": login.username, "config_dir": login.config_dir}
            if login is not None and pulls else None,
            services=plan.services, steps=tuple(planned_step(step, shown) for step in bg.describe(plan, ctx)))

    return [value if isinstance(value, HostPlanView) else HostPlanView(name, error=str(value))
            for name, value in _each(target, one).items()]


def show_plan(target: Target, request: Request, *, as_json: bool = False, accessories: Sequence[BootReport] = (),
              log: Sequence[str] = (), say: Callable[[str], None] = print, warnings: Sequence[str] = ()) -> None:
    """Print a dry run's plan (text, or the shipyard.plan document), then end non-zero, in one line, if a host's
    facts or accessories (a boot report's `unreadable`) could not be read. `warnings`: what a real run would need
    confirmed (a rollback across a schema change)."""
    from shipyard.report import dumps, fail_unreachable
    from shipyard.targets.faults import listing

    views = plan_hosts(target, request)
    info = PlanInfo(action=request.action, release=request.release, environment=target.env_name,
                    strategy=target.env.deploy.strategy, on_host_failure=target.env.deploy.on_host_failure,
                    images=request.images, warnings=tuple(warnings))
    if as_json:
        say(dumps(plan_doc(info, views, accessories=accessories, log=log)))
    else:
        for line in [*plan_lines(info, views), listing()]:
            say(line)
    unreadable = {r.host for r in accessories if r.unreadable}
    fail_unreachable([v.host for v in views if v.error is not None or v.host in unreadable], len(views),
                     "the plan is incomplete")


def unlock(target: Target, *, force: bool, dry_run: bool) -> dict[str, str]:
    who = me("unlock")

    def one(host: VmHost) -> str:
        current = parse_lease(host.runner.run(hoststate.read_lock(target.layout), timeout=30).stdout)
        if current is None:
            return "no lock"
        if not force:
            return f"locked: {current.describe(time.time())} (pass --force to break it)"
        if dry_run:
            return f"would break: {current.describe(time.time())}"
        host.runner.run(hoststate.lock(target.layout, "break"), timeout=30)
        entry = Entry(at=now_iso(), action="unlock", who=who.holder, outcome="forced", host=host.name,
                      detail=f"broke the lease of {current.holder} pid {current.pid} for '{current.reason}'")
        host.runner.run(hoststate.append_ledger(target.layout), input=entry.to_json() + "\n", timeout=30)
        return f"broke: {current.describe(time.time())} (recorded in the ledger)"

    return {k: (v if isinstance(v, str) else f"failed: {v}") for k, v in _each(target, one).items()}


@dataclass
class Pruned:
    hosts: dict[str, list[str]]  # host -> the images removed (or that would be), or ["failed: why"]
    registry: list[str] | None = None  # the registry's tags removed; None when it was not pruned
    registry_skipped: str | None = None  # why it was not, when it was asked to be


def prune(target: Target, *, dry_run: bool, registry: bool, wait: float = 0.0,
          say: Callable[[str], None] = print) -> Pruned:
    """deploy.prune: retention on every host, then (with `registry`) in the registry, all under every host's deploy
    lock, so that a running deploy never has the image it just pulled removed (LockHeld when a deploy holds one;
    `wait` seconds of queueing first). The registry is pruned only when every host's lock is held. A dry run
    changes nothing, so it takes no lock."""
    try:
        if dry_run:
            return Pruned(prune_hosts(target, dry_run=True),
                          prune_registry(target, _recent(target), dry_run=True) if registry else None)
        with holding(target.runners(), target.layout, f"deploy.prune on {target.env_name}", wait=wait,
                     say=say) as held:
            out = Pruned(prune_hosts(target, dry_run=False, held=held))
            if registry and held.failed:
                out.registry_skipped = (f"the deploy lock of {', '.join(sorted(held.failed))} is not held (a deploy"
                                        " may be pushing there)")
            elif registry:
                out.registry = prune_registry(target, _recent(target), dry_run=False, held=held)
            return out
    finally:
        _close(target)


def _recent(target: Target) -> list[str]:
    """The ledger's releases, most recent first, from the first host that answers."""
    first = next((v for v in ledgers(target, keep_open=True).values() if isinstance(v, list)), [])
    return releases(first)


def _close(target: Target) -> None:
    """Close the hosts' connections (kept open while their leases were renewed through them)."""
    for runner in target.runners():
        VmHost(runner, target.layout).close()


def prune_hosts(target: Target, *, dry_run: bool, held: Held | None = None) -> dict[str, list[str]]:
    """Per host: the images removed (or that would be), keeping `registry.retain` releases, live and previous.

    With `held` (the hosts' deploy locks), images are removed through each host's lease, and a host whose lock
    could not be taken is left alone (reported failed)."""
    retain = target.registry.retain

    def one(host: VmHost) -> list[str]:
        runner: Runner = host.runner
        if held is not None and host.name in held.failed:
            raise held.failed[host.name]
        act = held.runner(host.name) if held is not None else runner
        entries = parse_ledger(runner.run(hoststate.read_ledger(target.layout), timeout=60).stdout)
        recent = releases(entries)
        ps = container_facts.parse_ps(runner.run(bgc.ps(target.layout), timeout=30).stdout)
        in_use = {c.image for c in ps}
        in_use_releases = {c.release for c in ps if c.release}  # containers run `repo@sha256:...`, tagged here
        live = [r for r in recent[:1]]
        previous = recent[1:2]
        removed = []
        for svc in target.services:
            repo = imageref.repository_of(target.image(svc, "x"))
            images = container_facts.parse_images(runner.run(bgc.images(repo), timeout=60).stdout)
            tags = [i.tag for i in images if i.tag != "<none>"]
            decision = prune_plan.retain(tags, recent, retain=retain, protected=[*live, *previous],
                                         created={i.tag: i.created for i in images})
            for tag in decision.remove:
                ref = imageref.retagged(repo, tag)
                if ref in in_use or tag in in_use_releases:
                    continue
                if not dry_run:
                    act.run(docker_cmd.remove_image(ref), timeout=120, check=False)
                removed.append(ref)
        return removed

    return {k: (v if isinstance(v, list) else [f"failed: {v}"])
            for k, v in _each(target, one, keep_open=held is not None).items()}  # held: the leases use them


def prune_registry(target: Target, recent: Sequence[str], *, dry_run: bool, held: Held | None = None) -> list[str]:
    """Delete release tags beyond retention from the registry (by manifest digest; shared digests are kept).

    Through the registry client, with the registry's credentials: a refusal is an error, never a silent skip.
    With `held`, nothing more is deleted once a host's lease is lost."""
    import re

    sha_tag = re.compile(r"^[0-9a-f]{7,40}(-dirty)?$")
    client = target.registry_client()
    removed = []
    live, previous = list(recent[:1]), list(recent[1:2])
    for svc in target.services:
        repository = target.repository(svc)
        tags = [t for t in client.tags(repository) if sha_tag.match(t)]
        decision = prune_plan.retain(tags, recent, retain=target.registry.retain, protected=[*live, *previous])
        kept = {client.digest(repository, t) for t in decision.keep}
        for tag in decision.remove:
            found = client.digest(repository, tag)
            if found is None or found in kept:
                continue
            if not dry_run:
                if held is not None:
                    held.check()
                client.delete(repository, found)
            removed.append(f"{svc}:{tag}")
    return removed

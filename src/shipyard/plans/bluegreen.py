"""Blue/green on one host: from what runs there and what the proxy reports, the steps that put a release live.

Pure. Every step carries the exact argv it runs, so `--dry-run` prints what a real run executes.
Order on a host: prepare every service (new colour started, healthy while the proxy still sends it nothing),
run the pre-cutover hook once, switch each service in the proxy's runtime (no reload), verify, watch, retire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from shipyard.commands import bluegreen as bg
from shipyard.commands import docker as docker_cmd
from shipyard.commands import haproxy, hoststate
from shipyard.commands import proxy as proxy_cmd
from shipyard.commands.layout import COLOURS, Colour, HostLayout, other
from shipyard.facts.containers import Container
from shipyard.facts.proxy import Counters, ServerState

Kind = Literal["run", "admin", "wait", "verify", "watch"]
Previous = Literal["remove", "stop", "standby"]  # deploy.previous_colour: what the old colour becomes
Reuse = Literal["running", "stopped"]
PHASES = ("lock", "release", "pull", "start", "healthy", "hook", "switch", "verify", "watch", "retire", "ledger")


@dataclass(frozen=True)
class ServiceFacts:
    """One service on one host as observed: its containers, the proxy's view, the persisted live colour."""

    service: str
    containers: Mapping[Colour, Container] = field(default_factory=dict)
    servers: Mapping[Colour, ServerState] = field(default_factory=dict)
    persisted: Colour | None = None
    image_present: bool = False


@dataclass(frozen=True)
class Desired:
    service: str
    image: str
    release: str
    port: int
    readiness: str
    public: bool = False
    hook: str | None = None
    release_command: str | None = None


@dataclass(frozen=True)
class ServicePlan:
    desired: Desired
    target: Colour
    live: Colour | None
    live_release: str | None
    pull: bool
    stale_target: bool
    converged: bool
    persisted: Colour | None = None  # the live colour haproxy.cfg records (what a proxy restart would serve)
    # A rollback to a release still on the host in the other colour (deploy.previous_colour stop or standby)
    # reuses that container: "running" (a standby: a switch in the proxy) or "stopped" (started again).
    reuse: Reuse | None = None
    target_running: bool = False  # the other colour's container runs now (facts, for repairs)
    target_release: str | None = None  # the release of the other colour's container, if there is one
    target_admin: str | None = None  # the proxy's admin state of the other colour (ready, drain, maint)
    target_healthy: bool = False  # the proxy's last check of the other colour passed

    @property
    def service(self) -> str:
        return self.desired.service


@dataclass(frozen=True)
class HostPlan:
    host: str
    services: tuple[ServicePlan, ...]
    run_hooks: bool = False

    @property
    def changes(self) -> tuple[ServicePlan, ...]:
        return tuple(s for s in self.services if not s.converged)

    @property
    def leftovers(self) -> tuple[ServicePlan, ...]:
        """Converged services with a container in the other colour (an interrupted deploy's, or a kept previous
        release's: which of the two, and what to do with it, depends on deploy.previous_colour)."""
        return tuple(s for s in self.services if s.converged and s.stale_target)

    @property
    def unrecorded(self) -> tuple[ServicePlan, ...]:
        """Converged services whose live colour haproxy.cfg does not record (a deploy killed between the runtime
        switch and the file's write): left so, the next proxy restart or setup would serve the other colour."""
        return tuple(s for s in self.services if s.converged and s.live is not None and s.persisted != s.live)


@dataclass(frozen=True)
class Context:
    """Everything about the environment the commands need, fixed for one deploy."""

    layout: HostLayout
    backends: tuple[haproxy.Backend, ...]  # every service behind the proxy, live colours as observed
    public: str | None
    http_port: int
    bind: str
    health_timeout: float
    watch_window: float
    env_files: Mapping[str, str] = field(default_factory=dict)  # service -> env file on the host
    env_contents: Mapping[str, str] = field(default_factory=dict)  # service -> file text (may hold secrets)
    tls: haproxy.Tls | None = None  # HTTPS on the public frontend: part of every haproxy.cfg written
    docker_config: str | None = None  # pulls use this Docker config (the registry login) when set
    previous_colour: Previous = "remove"  # deploy.previous_colour

    @property
    def probe_host(self) -> str:
        return "127.0.0.1" if self.bind in {"0.0.0.0", "::", ""} else self.bind  # noqa: S104


@dataclass(frozen=True)
class Step:
    phase: str
    kind: Kind
    what: str
    argv: tuple[str, ...] = ()
    input: str | None = None
    secret_input: bool = False
    service: str | None = None
    colour: Colour | None = None
    timeout: float = 600.0
    check: bool = True
    url: str | None = None
    name: str = ""  # the step's name where its phase has several (shipyard.targets.faults.STEPS)

    @property
    def point(self) -> str:
        """The step's name in fault-injection points (before-<point>, after-<point>)."""
        return self.name or self.phase


def live_colour(facts: ServiceFacts) -> Colour | None:
    """The colour taking traffic: serving in the proxy with a running container; the persisted one on a tie."""
    serving = [c for c in COLOURS if c in facts.servers and facts.servers[c].serving
               and c in facts.containers and facts.containers[c].running]
    if len(serving) == 1:
        return serving[0]
    if len(serving) == 2:
        return facts.persisted if facts.persisted in serving else serving[0]
    return None


def plan_service(desired: Desired, facts: ServiceFacts, *, force: bool = False, reuse: bool = False) -> ServicePlan:
    """`reuse`: a container of the desired release and image in the other colour may be put back as it is (a
    rollback to a kept previous release); otherwise the other colour always gets a fresh container."""
    live = live_colour(facts)
    live_container = facts.containers.get(live) if live else None
    live_release = live_container.release if live_container else None
    healthy = live is not None and facts.servers[live].healthy
    converged = (not force and live_release == desired.release and healthy
                 and live_container is not None and live_container.image == desired.image)
    if live is not None:
        target = other(live)
    elif facts.persisted is not None:
        target = other(facts.persisted)
    else:
        target = "blue"
    kept = facts.containers.get(target)
    server = facts.servers.get(target)
    reused: Reuse | None = None
    if (reuse and not converged and kept is not None and kept.release == desired.release
            and kept.image == desired.image and kept.state in {"running", "exited", "created"}):
        reused = "running" if kept.running else "stopped"
    return ServicePlan(desired=desired, target=target, live=live, live_release=live_release,
                       pull=not facts.image_present and reused is None, stale_target=kept is not None,
                       converged=converged, persisted=facts.persisted, reuse=reused,
                       target_running=bool(kept and kept.running), target_release=kept.release if kept else None,
                       target_admin=server.admin if server else None,
                       target_healthy=bool(server and server.healthy and kept and kept.running))


def plan_host(host: str, desired: Sequence[Desired], facts: Mapping[str, ServiceFacts], *,
              run_hooks: bool = False, force: bool = False, reuse: bool = False) -> HostPlan:
    services = tuple(plan_service(d, facts.get(d.service, ServiceFacts(d.service)), force=force, reuse=reuse)
                     for d in desired)
    return HostPlan(host=host, services=services, run_hooks=run_hooks)


def batches(hosts: Sequence[str], strategy: str, batch_size: int) -> list[list[str]]:
    """Parallel: one batch of every host. Rolling: consecutive batches of batch_size."""
    if strategy == "parallel" or not hosts:
        return [list(hosts)] if hosts else []
    size = max(1, batch_size)
    return [list(hosts[i:i + size]) for i in range(0, len(hosts), size)]


def _admin(phase: str, what: str, text: str, ctx: Context, service: str, colour: Colour | None,
           name: str = "") -> Step:
    return Step(phase, "admin", what, tuple(haproxy.admin(ctx.layout)), input=text, service=service,
                colour=colour, timeout=30, name=name)


def _config_step(ctx: Context, live: Mapping[str, Colour | None], service: str) -> Step:
    backends = [replace(b, live=live.get(b.service, b.live)) for b in ctx.backends]
    text = haproxy.render_config(ctx.layout, backends, ctx.public, ctx.tls)
    shown = ", ".join(f"{s}={c or 'none'}" for s, c in sorted(live.items()))
    return Step("switch", "run", f"record live colours in haproxy.cfg ({shown})",
                tuple(hoststate.write_file(ctx.layout.proxy_config)), input=text, service=service, timeout=30,
                name="record")


def _pull_and_env_steps(plan: ServicePlan, ctx: Context, env_phase: str) -> list[Step]:
    """Pull the new image when the host lacks it; write the service's env file (mode 600, secret input)."""
    d = plan.desired
    steps = []
    if plan.pull:
        steps.append(Step("pull", "run", f"pull {d.image}",
                          tuple(docker_cmd.pull_pinned(d.image, d.release, config=ctx.docker_config)),
                          service=d.service, timeout=900))
    env_file = ctx.env_files.get(d.service)
    if env_file is not None:
        steps.append(Step(env_phase, "run", f"write {d.service}'s environment file (mode 600)",
                          tuple(hoststate.write_file(env_file, "077")),
                          input=ctx.env_contents.get(d.service, ""), secret_input=True, service=d.service,
                          timeout=30, name="env-file"))
    return steps


def reuse_steps(plan: ServicePlan, ctx: Context) -> list[Step]:
    """Put a kept container of the release back in line: health checks on (drain), started when it was stopped,
    healthy. A running standby whose checks pass (drain, up: what the facts just read) needs nothing: the switch
    follows at once, verified in the proxy, with the live colour as its backup through the watch window."""
    d, t, layout = plan.desired, plan.target, ctx.layout
    if plan.reuse == "running" and plan.target_admin == "drain" and plan.target_healthy:
        return []
    steps = []
    if plan.target_admin != "drain":
        steps.append(_admin("start", f"no traffic to {d.service}/{t}, health checks on (drain)",
                            haproxy.prepare(d.service, t), ctx, d.service, t, "drain-new"))
    if plan.reuse == "stopped":
        steps.append(Step("start", "run", f"start the stopped {t} container of {d.service} {d.release} again",
                          tuple(bg.restart(layout, d.service, t)), service=d.service, colour=t, timeout=60,
                          name="restart-kept"))
    kept = "standby" if plan.reuse == "running" else "restarted container"
    steps.append(Step("healthy", "wait", f"wait until the {kept} {d.service}/{t} passes {d.readiness} "
                                         f"(timeout {ctx.health_timeout:g}s)",
                      tuple(haproxy.admin(layout)), input=haproxy.batch(haproxy.show_servers_state(d.service)),
                      service=d.service, colour=t, timeout=ctx.health_timeout))
    return steps


def prepare_steps(plan: ServicePlan, ctx: Context) -> list[Step]:
    if plan.reuse is not None:
        return reuse_steps(plan, ctx)
    d, t, layout = plan.desired, plan.target, ctx.layout
    steps = []
    if plan.stale_target:  # out of the proxy first, then gone: no check can pass against it afterwards
        steps += [_admin("start", f"keep {d.service}/{t} out of traffic (maint)", haproxy.isolate(d.service, t), ctx,
                         d.service, t, "isolate-stale"),
                  Step("start", "run", f"remove the stale {t} container", tuple(bg.remove(layout, d.service, t)),
                       service=d.service, colour=t, timeout=60, name="remove-stale")]
    steps.append(_admin("start", f"no traffic to {d.service}/{t}, health checks on (drain)",
                        haproxy.prepare(d.service, t), ctx, d.service, t, "drain-new"))
    steps += _pull_and_env_steps(plan, ctx, "start")
    env_file = ctx.env_files.get(d.service)
    steps += [
        Step("start", "run", f"start {d.service} {d.release} as {t}",
             tuple(bg.start(layout, d.service, t, d.image, d.release, env_file=env_file)),
             service=d.service, colour=t, timeout=120),
        Step("healthy", "wait", f"wait until {d.service}/{t} passes {d.readiness} (timeout {ctx.health_timeout:g}s)",
             tuple(haproxy.admin(layout)), input=haproxy.batch(haproxy.show_servers_state(d.service)),
             service=d.service, colour=t, timeout=ctx.health_timeout),
    ]
    return steps


def release_steps(plan: HostPlan, ctx: Context) -> list[Step]:
    """On the one host that runs them: each changed service's release command, in a one-off container of the
    new image (pulled, with the service's env file), before any new colour starts anywhere."""
    if not plan.run_hooks:
        return []
    steps: list[Step] = []
    for s in plan.changes:
        d = s.desired
        if not d.release_command:
            continue
        steps += _pull_and_env_steps(s, ctx, "release")
        steps.append(Step("release", "run", f"release command of {d.service} {d.release}: {d.release_command}",
                          tuple(bg.release(ctx.layout, d.service, d.image, d.release, d.release_command,
                                           env_file=ctx.env_files.get(d.service))), service=d.service,
                          timeout=1800, name="release-command"))
    return steps


def hook_steps(plan: HostPlan, ctx: Context) -> list[Step]:
    if not plan.run_hooks:
        return []
    return [Step("hook", "run", f"pre-cutover hook for {s.service}: {s.desired.hook}",
                 tuple(bg.hook(ctx.layout, s.service, s.target, s.desired.hook)), service=s.service,
                 colour=s.target, timeout=1800)
            for s in plan.changes if s.desired.hook]


def cutover_steps(plan: ServicePlan, ctx: Context, live: dict[str, Colour | None]) -> list[Step]:
    """Switch one service; `live` is the running map of live colours, updated in place."""
    d, t = plan.desired, plan.target
    live[d.service] = t
    if plan.live is None:
        switch = _admin("switch", f"switch {d.service} to {t}", haproxy.switch(d.service, t, None), ctx, d.service, t)
    else:
        switch = Step("switch", "run", f"switch {d.service} to {t}, {plan.live} kept as backup",
                      tuple(haproxy.switch_with_backup(ctx.layout, d.service, t, plan.live, d.port)),
                      service=d.service, colour=t, timeout=30)
    steps = [
        switch,
        _config_step(ctx, live, d.service),
        Step("verify", "verify", f"{d.service}/{t} serves in the proxy", tuple(haproxy.admin(ctx.layout)),
             input=haproxy.batch(haproxy.show_servers_state(d.service)), service=d.service, colour=t, timeout=10,
             name="verify-proxy"),
    ]
    if d.public:
        url = f"http://{ctx.probe_host}:{ctx.http_port}{d.readiness}"
        steps.append(Step("verify", "verify", f"GET {url} through the proxy", tuple(proxy_cmd.http_probe(url)),
                          service=d.service, colour=t, timeout=10, url=url, name="verify-http"))
    return steps


def watch_step(plan: HostPlan, ctx: Context) -> Step | None:
    if not plan.changes or ctx.watch_window <= 0:
        return None
    names = ", ".join(f"{s.service}/{s.target}" for s in plan.changes)
    return Step("watch", "watch", f"watch {names} for {ctx.watch_window:g}s (the old colour stays up)",
                tuple(haproxy.admin(ctx.layout)), input=haproxy.batch(haproxy.show_servers_state()),
                timeout=ctx.watch_window)


def retire_steps(plan: ServicePlan, ctx: Context) -> list[Step]:
    """After the watch window, the old colour as deploy.previous_colour says: removed, stopped or a standby."""
    d, old = plan.desired, other(plan.target)
    if plan.live is None:  # nothing served before this release: nothing to retire (an empty colour is cleaned)
        return _remove_old(plan, ctx)
    return _keep_steps(d.service, old, plan.live_release or "none", ctx) or _remove_old(plan, ctx)


def _keep_steps(service: str, colour: Colour, release: str, ctx: Context, *, running: bool = True) -> list[Step]:
    """Keep `colour`'s container of `release` as deploy.previous_colour says (empty: remove it)."""
    if ctx.previous_colour == "standby":
        start = [] if running else [
            Step("retire", "run", f"start the kept {colour} container of {service} again (standby)",
                 tuple(bg.restart(ctx.layout, service, colour)), service=service, colour=colour, timeout=60,
                 name="restart-kept")]
        return [*start, _admin("retire", f"keep {service}/{colour} ({release}) running as a standby, out of traffic "
                                 "(drain, health checks on)", haproxy.prepare(service, colour), ctx, service,
                       colour, "standby-old")]
    if ctx.previous_colour == "stop":
        return [_admin("retire", f"take {service}/{colour} out of the proxy (maint)", haproxy.isolate(service, colour),
                       ctx, service, colour, "isolate-old"),
                Step("retire", "run", f"stop the {colour} container ({release}), kept for a rollback",
                     tuple(bg.stop(ctx.layout, service, colour)), service=service, colour=colour, timeout=60,
                     name="stop-old")]
    return []


def _remove_old(plan: ServicePlan, ctx: Context) -> list[Step]:
    d, old = plan.desired, other(plan.target)
    return [
        _admin("retire", f"take {d.service}/{old} out of the proxy (maint)", haproxy.isolate(d.service, old), ctx,
               d.service, old, "isolate-old"),
        Step("retire", "run", f"stop and remove the {old} container ({plan.live_release or 'none'})",
             tuple(docker_cmd.stop_and_remove(ctx.layout.container(d.service, old))),
             service=d.service, colour=old, timeout=60, name="remove-old"),
    ]


def abandon_steps(plan: ServicePlan, ctx: Context) -> list[Step]:
    """Undo a prepared but not switched colour: out of the proxy, container removed. The live one is untouched."""
    d, t = plan.desired, plan.target
    return [
        _admin("start", f"keep {d.service}/{t} out of traffic (maint)", haproxy.isolate(d.service, t), ctx,
               d.service, t, "abandon-isolate"),
        Step("start", "run", f"remove the new {t} container", tuple(bg.remove(ctx.layout, d.service, t)),
             service=d.service, colour=t, timeout=60, check=False, name="abandon-remove"),
    ]


def repair_steps(plan: HostPlan, ctx: Context, live: dict[str, Colour | None]) -> list[Step]:
    """What an interrupted deploy left on a host whose services are converged: first the live colours recorded
    in haproxy.cfg where the file disagrees with the runtime, then the other colour's leftover containers (in that
    order, so that the file never names a removed container)."""
    steps: list[Step] = []
    for service in plan.unrecorded:
        live[service.service] = service.live
    if plan.unrecorded:
        steps.append(_config_step(ctx, live, plan.unrecorded[0].service))
    for service in plan.leftovers:
        if ctx.previous_colour == "remove":
            steps += abandon_steps(service, ctx)
            continue
        kept = service.target_running if ctx.previous_colour == "standby" else not service.target_running
        wanted = "drain" if ctx.previous_colour == "standby" else "maint"
        if not (kept and service.target_admin == wanted):  # not yet in the shape the policy keeps it in
            steps += _keep_steps(service.service, service.target, service.target_release or "unknown", ctx,
                                 running=service.target_running)
    return steps


def switch_back_steps(plan: ServicePlan, ctx: Context, live: dict[str, Colour | None]) -> list[Step]:
    """The new colour failed inside the watch window: traffic back to the old colour, new one removed."""
    d, t = plan.desired, plan.target
    if plan.live is None:
        return abandon_steps(plan, ctx)
    live[d.service] = plan.live
    return [
        _admin("watch", f"switch {d.service} back to {plan.live}, drain {t}",
               haproxy.switch_back(d.service, plan.live, t), ctx, d.service, plan.live, "switch-back"),
        _config_step(ctx, live, d.service),
        *abandon_steps(plan, ctx),
    ]


def describe(plan: HostPlan, ctx: Context) -> list[Step]:
    """The whole happy path on one host, in order (what --dry-run prints)."""
    live = {b.service: b.live for b in ctx.backends}
    steps: list[Step] = release_steps(plan, ctx)
    for service in plan.changes:
        steps += prepare_steps(service, ctx)
    steps += hook_steps(plan, ctx)
    for service in plan.changes:
        steps += cutover_steps(service, ctx, live)
    watch = watch_step(plan, ctx)
    if watch:
        steps.append(watch)
    for service in plan.changes:
        steps += retire_steps(service, ctx)
    steps += repair_steps(plan, ctx, live)
    return steps


#: The watch window judges a new colour's traffic only over at least this many requests (fewer say nothing).
MIN_JUDGED_REQUESTS = 20


def traffic_problems(before: Mapping[tuple[str, str], Counters], after: Mapping[tuple[str, str], Counters],
                     targets: Sequence[tuple[str, Colour]], max_error_rate: float | None,
                     max_response_time: float | None = None) -> list[str]:
    """Why the new colours' real traffic since `before` is not good enough (empty: good, or too little to judge).

    A release that answers its readiness probe but fails real requests is caught here, not by the health check.
    Counters that went backwards (HAProxy restarted) count from zero.
    """
    problems = []
    for service, colour in targets:
        now = after.get((service, colour))
        if now is None:
            continue
        then = before.get((service, colour), Counters(0, 0))
        if now.responses < then.responses or now.failed < then.failed:
            then = Counters(0, 0)
        answered, failed = now.responses - then.responses, now.failed - then.failed
        if answered < MIN_JUDGED_REQUESTS:
            continue
        if max_response_time is not None and now.rtime_ms > max_response_time * 1000:
            problems.append(f"{service}/{colour} answered real requests in {now.rtime_ms} ms on average inside the"
                            f" watch window (more than the {max_response_time * 1000:.0f} ms allowed by"
                            " deploy.max_response_time)")
        if max_error_rate is not None and failed > max_error_rate * answered:
            problems.append(f"{service}/{colour} failed {failed} of {answered} real requests inside the watch window"
                            f" ({failed / answered:.0%}, more than the {max_error_rate:.0%} allowed by"
                            " deploy.max_error_rate)")
    return problems

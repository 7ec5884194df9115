"""Blue/green deploys and rollbacks across the VMs of an environment, over SSH.

Per batch of hosts (all at once, or rolling): lock every host, observe, plan; prepare the new colour on each
host in parallel; run the pre-cutover hook once; switch each host's proxy in its runtime; verify; watch while
the old colour keeps running; then retire the old colour and write the ledger. A host whose new colour never
becomes healthy keeps serving the old one; `on_host_failure: abort` undoes the whole batch before cutover.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.commands import hoststate
from shipyard.commands.layout import Colour
from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry
from shipyard.facts.release_command import schema_changed
from shipyard.plans import bluegreen as bg
from shipyard.run import on_hosts
from shipyard.targets.faults import Injector
from shipyard.targets.progress import Progress
from shipyard.targets.vm.host import HostFacts, StepFailed, VmHost, loopback_registry
from shipyard.targets.vm.lock import Heartbeat, HostLock, me, now_iso
from shipyard.targets.vm.target import Target


@dataclass(frozen=True)
class Request:
    action: str  # deploy | rollback
    release: str
    images: dict[str, str]  # service -> image
    hooks: bool = True
    force: bool = False
    wait_lock: float = 0.0
    env_contents: dict[str, str] = field(default_factory=dict)  # service -> env file text (may hold secrets)


@dataclass
class HostRun:
    host: VmHost
    lock: HostLock
    facts: HostFacts | None = None
    plan: bg.HostPlan | None = None
    ctx: bg.Context | None = None
    phases: dict[str, float] = field(default_factory=dict)
    outcome: str = "pending"
    error: str | None = None
    live: dict[str, Colour | None] = field(default_factory=dict)
    switched: list[bg.ServicePlan] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def previous(self) -> str | None:
        if self.plan is None:
            return None
        return next((s.live_release for s in self.plan.services if s.live_release), None)


class DeployFailed(ShipyardError):
    pass


def context(target: Target, facts: HostFacts | None, request: Request) -> bg.Context:
    live: dict[str, Colour | None] = dict(facts.persisted) if facts else {}
    if facts:
        live.update({svc: bg.live_colour(f) for svc, f in facts.services.items()})
    layout = target.layout
    return bg.Context(layout=layout, backends=target.backends(live), public=target.public,
                      http_port=target.env.proxy.http_port, bind=target.env.proxy.bind,
                      health_timeout=target.env.deploy.health_timeout, watch_window=target.env.deploy.watch_window,
                      env_files={svc: layout.env_file(svc) for svc in request.env_contents},
                      env_contents=request.env_contents, tls=target.tls, docker_config=target.docker_config,
                      previous_colour=target.env.deploy.previous_colour)


class Deployment:
    def __init__(self, target: Target, request: Request, progress: Progress) -> None:
        self.target, self.request, self.progress = target, request, progress
        self.policy = target.env.deploy
        self.faults = Injector.from_env()  # a test hook: off unless SHIPYARD_FAULT is set
        self.interrupted: str | None = None  # the signal that asked this deploy to stop at a step boundary
        self.stopping = threading.Event()  # set with `interrupted`: ends a watch window early
        self.hook_pending = False  # the hook's host failed before running it: the next ready host runs it
        self.schema_changed: list[str] = []  # services whose release command reported a schema change
        self.who = me(f"{request.action} {request.release} to {target.env_name}")
        tunnel = loopback_registry(target.registry)
        login = target.host_login()
        self.runs = [HostRun(VmHost(r, target.layout, tunnel_port=tunnel, login=login),
                             HostLock(r, target.layout, self.who))
                     for r in target.runners()]

    # --- helpers -------------------------------------------------------------------------------------------
    def _stop_if_asked(self, run: HostRun, step: bg.Step) -> None:
        if self.interrupted:
            raise StepFailed(run.name, f"interrupted by {self.interrupted}: stopped before {step.what}",
                             phase=step.phase)
        if run.lock.lost:
            raise StepFailed(run.name, f"{run.lock.lost}: stopped before {step.what}", phase=step.phase)

    def _fault(self, when: str, point: str, run: HostRun) -> None:
        self.faults.at(when, point, run.name, drop=getattr(run.host.runner, "close", None))

    def _steps(self, run: HostRun, steps: Sequence[bg.Step], *, cleanup: bool = False) -> None:
        """Run steps on one host. A forward step is not started once the deploy was interrupted (SIGINT, SIGTERM)
        or the host's lease could not be renewed; clean-up steps (abandon, switch back) always run."""
        for step in steps:
            if not cleanup:
                self._stop_if_asked(run, step)
            self._fault("before", step.point, run)
            started = time.monotonic()
            self.progress.begin(run.name, step.phase, step.what)
            try:
                output = run.host.run_step(step)
            except StepFailed as exc:
                self._release_output(run, step, exc.output)
                raise
            finally:
                took = time.monotonic() - started
                run.phases[step.phase] = run.phases.get(step.phase, 0.0) + took
            self.progress.step(run.name, step.phase, step.what, took)
            self._release_output(run, step, output)
            self._fault("after", step.point, run)

    def _release_output(self, run: HostRun, step: bg.Step, output: str) -> None:
        """A release command's verdict on the schema (its output itself is never shown): every host's ledger
        entry of this deploy records it, even when a later step fails (the schema changed all the same)."""
        if step.point != "release-command" or not schema_changed(output):
            return
        service = step.service or "?"
        if service not in self.schema_changed:
            self.schema_changed.append(service)
            self.progress.note(run.name, f"{service}'s release command changed the database schema (marked in"
                                         " the ledger: a rollback to an older release will ask for --yes)")

    def _parallel(self, runs: Sequence[HostRun], body: Callable[[HostRun], None]) -> dict[str, BaseException]:
        if not runs:
            return {}
        by_name = {r.name: r for r in runs}
        results = on_hosts([r.host.runner for r in runs], lambda runner: body(by_name[runner.host]),
                           raise_on_failure=False)
        return {host: value for host, value in results.items() if isinstance(value, BaseException)}

    def _fail(self, run: HostRun, exc: BaseException, outcome: str = "failed", *, also: Sequence[str] = ()) -> None:
        """The host's outcome and why (`also`: what went wrong after, e.g. a switch-back that failed too)."""
        run.outcome = outcome
        run.error = "; ".join([getattr(exc, "reason", None) or str(exc).removeprefix(f"[{run.name}] "), *also])
        self.progress.failed(run.name, run.error, getattr(exc, "logs", ""))

    def _ledger(self, run: HostRun) -> None:
        if run.outcome == "pending":
            return
        entry = Entry(at=now_iso(), action=self.request.action, who=self.who.holder, outcome=run.outcome,
                      host=run.name, release=self.request.release, previous=run.previous,
                      hosts=self.target.host_names(), services=dict(self.request.images),
                      phases={k: round(v, 3) for k, v in run.phases.items()}, error=run.error,
                      schema_changed=bool(self.schema_changed))
        self._fault("before", "ledger", run)
        run.host.runner.run(hoststate.append_ledger(self.target.layout), input=entry.to_json() + "\n",
                            timeout=30, check=False)
        self._fault("after", "ledger", run)

    # --- phases --------------------------------------------------------------------------------------------
    def lock_all(self) -> list[HostRun]:
        def take(run: HostRun) -> None:
            started = time.monotonic()
            self._fault("before", "lock", run)
            # the host's facts come back with the lease, in the same round trip (observe() reads them)
            run.lock.acquire(wait=self.request.wait_lock, then=run.host.facts_argv(self.request.images))
            run.phases["lock"] = time.monotonic() - started
            self._fault("after", "lock", run)
            if note := run.lock.record_takeover():  # a stale lease taken over: said, and in the ledger
                self.progress.note(run.name, note)

        failures = self._parallel(self.runs, take)
        from shipyard.targets.vm.lock import LockHeld

        held = [exc for exc in failures.values() if isinstance(exc, LockHeld)]
        if held or (failures and self.policy.on_host_failure == "abort"):
            for run in self.runs:
                run.lock.release()
            raise held[0] if held else next(iter(failures.values()))
        for run in self.runs:
            if run.name in failures:
                self._fail(run, failures[run.name])
        return [r for r in self.runs if r.name not in failures]

    def observe(self, runs: Sequence[HostRun]) -> None:
        hook_owner: list[str] = []

        def look(run: HostRun) -> None:
            run.facts = run.host.facts(self.request.images, read=run.lock.then)
            if not run.facts.proxy_up:
                raise StepFailed(run.name, "the proxy is not running on this host",
                                 phase="setup") from None

        failures = self._parallel(runs, look)
        for run in runs:
            if run.name in failures:
                exc = failures[run.name]
                if isinstance(exc, StepFailed) and exc.phase == "setup":
                    exc = ShipyardError(f"[{run.name}] the proxy is not running here",
                                        hint=f"run `invoke deploy.setup --env {self.target.env_name}` first")
                self._fail(run, exc)
                continue
            assert run.facts is not None
            wants_hook = self.request.hooks and not hook_owner
            # every plan knows the hooks (a host that fails before its hook hands them on, see hooks()); one runs them
            desired = self.target.desired(self.request.images, self.request.release, hooks=self.request.hooks)
            # A rollback puts a kept previous release (deploy.previous_colour: stop, standby) back as it ran.
            run.plan = bg.plan_host(run.name, desired, run.facts.services, run_hooks=False, force=self.request.force,
                                    reuse=self.request.action == "rollback")
            if wants_hook and run.plan.changes and any(d.hook or d.release_command for d in desired):
                run.plan = bg.HostPlan(run.plan.host, run.plan.services, run_hooks=True)
                hook_owner.append(run.name)
            run.ctx = context(self.target, run.facts, self.request)
            run.live = {b.service: b.live for b in run.ctx.backends}

    def refuse_pruned(self, runs: Sequence[HostRun]) -> None:
        """A rollback whose image a host would pull and the registry no longer has is refused before any host
        changes (the facts just read say which images each host has)."""
        from shipyard.targets.vm.admin import refuse_pruned

        missing_on: dict[str, list[str]] = {}
        for run in runs:
            assert run.plan is not None
            for service in run.plan.changes:
                if service.pull:
                    missing_on.setdefault(self.request.images[service.service], []).append(run.name)
        refuse_pruned(self.target, self.request.release, self.request.images, missing_on)

    def prepare(self, runs: Sequence[HostRun]) -> list[HostRun]:
        def body(run: HostRun) -> None:
            assert run.plan and run.ctx
            prepared: list[bg.ServicePlan] = []
            try:
                for service in run.plan.changes:
                    prepared.append(service)
                    self._steps(run, bg.prepare_steps(service, run.ctx))
            except BaseException:
                self._abandon(run, prepared)
                raise

        failures = self._parallel(runs, body)
        for run in runs:
            if run.name in failures:
                self._fail(run, failures[run.name])
        return [r for r in runs if r.name not in failures]

    def _abandon(self, run: HostRun, services: Sequence[bg.ServicePlan]) -> None:
        assert run.ctx
        for service in services:
            try:
                self._steps(run, bg.abandon_steps(service, run.ctx), cleanup=True)
            except ShipyardError as exc:
                self.progress.note(run.name, f"could not clean up {service.service}/{service.target}: {exc}")

    def release(self, runs: Sequence[HostRun]) -> None:
        """The release commands, once, on the host chosen in observe(); a failure raises (nothing started yet)."""
        for run in runs:
            assert run.plan and run.ctx
            self._steps(run, bg.release_steps(run.plan, run.ctx))

    def hooks(self, batch: Sequence[HostRun], ready: Sequence[HostRun]) -> None:
        """The pre-cutover hooks, once, on the batch's hook host; if that host failed before them (its new colour
        never became healthy, under on_host_failure: continue), on the first ready host with the hooks to run, so
        that no host switches without them."""
        owner_ready = any(r.plan and r.plan.run_hooks for r in ready)
        if any(r.plan and r.plan.run_hooks for r in batch) and not owner_ready:
            self.hook_pending = True  # handed on to a ready host of this batch, or of a later one (rolling)
        if self.hook_pending and not owner_ready:
            heir = next((r for r in ready if r.plan and any(s.desired.hook for s in r.plan.changes)), None)
            if heir is not None:
                assert heir.plan is not None
                heir.plan = bg.HostPlan(heir.plan.host, heir.plan.services, run_hooks=True)
                self.hook_pending = False
                self.progress.note(heir.name, "runs the pre-cutover hook: the host chosen for it failed before it")
        for run in ready:
            assert run.plan and run.ctx
            if run.plan.run_hooks:
                self._steps(run, bg.hook_steps(run.plan, run.ctx))

    def cutover(self, runs: Sequence[HostRun]) -> list[HostRun]:
        def body(run: HostRun) -> None:
            assert run.plan and run.ctx
            for service in run.plan.changes:
                run.switched.append(service)
                self._steps(run, bg.cutover_steps(service, run.ctx, run.live))
            watch = bg.watch_step(run.plan, run.ctx)
            if watch is not None:
                self._fault("before", "watch", run)
                started = time.monotonic()
                self.progress.begin(run.name, "watch", watch.what)
                problems = run.host.watch([(s.service, s.target) for s in run.plan.changes], watch.timeout,
                                          self.stopping, max_error_rate=self.target.env.deploy.max_error_rate,
                                          max_response_time=self.target.env.deploy.max_response_time)
                run.phases["watch"] = time.monotonic() - started
                if self.interrupted:  # inside the window: switched back, like a failure. (A lost lease is not:
                    # another deployer may hold the host now; the retire step stops before touching it.)
                    raise StepFailed(run.name, f"interrupted by {self.interrupted} inside the watch window",
                                     phase="watch")
                if problems:
                    raise StepFailed(run.name, "; ".join(problems), phase="watch")
                self.progress.step(run.name, "watch", watch.what, run.phases["watch"])
                self._fault("after", "watch", run)

        failures = self._parallel(runs, body)
        for run in runs:
            if run.name in failures:
                self.switch_back(run, failures[run.name])
        return [r for r in runs if r.name not in failures]

    def switch_back(self, run: HostRun, reason: BaseException | str) -> None:
        assert run.ctx
        stuck: list[str] = []
        for service in reversed(run.switched):
            try:
                self._steps(run, bg.switch_back_steps(service, run.ctx, run.live), cleanup=True)
            except ShipyardError as exc:
                stuck.append(f"could not switch {service.service} back: {exc}")
                self.progress.note(run.name, stuck[-1])
        switched = bool(run.switched)
        run.switched = []
        message = reason if isinstance(reason, BaseException) else ShipyardError(reason)
        # A failed switch-back: the host may still serve the failing release, so it is never recorded as switched back
        self._fail(run, message, "switch-back-failed" if stuck else "switched-back" if switched else "failed",
                   also=stuck)

    def retire(self, runs: Sequence[HostRun]) -> None:
        def body(run: HostRun) -> None:
            assert run.plan and run.ctx
            for service in run.plan.changes:
                self._steps(run, bg.retire_steps(service, run.ctx))
            self._steps(run, bg.repair_steps(run.plan, run.ctx, run.live))
            run.outcome = "ok" if run.plan.changes else "converged"

        failures = self._parallel(runs, body)
        for run in runs:
            if run.name in failures:  # the new release serves; only the clean-up failed
                run.outcome = "ok"
                self.progress.note(run.name, f"the new release is live but retiring the old one failed: "
                                             f"{failures[run.name]}")

    # --- the whole run -------------------------------------------------------------------------------------
    def run(self) -> list[HostRun]:
        previous = self._catch_signals()
        try:
            with Heartbeat([r.lock for r in self.runs]):  # renews each lease from the moment it is taken
                live_runs = self.lock_all()
                self.observe(live_runs)
                planned = [r for r in live_runs if r.plan is not None]
                if self.request.action == "rollback":
                    self.refuse_pruned(planned)
                self._batches(planned)
        finally:
            self._restore_signals(previous)
            for run in self.runs:
                try:
                    self._ledger(run)
                    run.lock.release()
                except ShipyardError as exc:
                    self.progress.note(run.name, f"could not write the ledger or release the lock: {exc}")
                run.host.close()
        return self.runs

    def _catch_signals(self) -> dict[int, Any]:
        """SIGINT and SIGTERM (a Ctrl-C, a cancelled CI job) stop the deploy at the next step boundary on every
        host: prepared colours are abandoned, switched ones switched back, then the ledger is written and the
        locks released. A second signal interrupts at once."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def stop(signum: int, _frame: object) -> None:
            name = signal.Signals(signum).name
            if self.interrupted:
                raise KeyboardInterrupt(f"{name} again: stopping now")
            self.interrupted = name
            self.stopping.set()
            self.progress.note("deploy", f"{name}: stopping at the next step boundary (send it again to stop now)")

        previous: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stop)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _batches(self, planned: list[HostRun]) -> None:
        by_name = {r.name: r for r in planned}
        order = [n for n in self.target.host_names() if n in by_name]
        stopped = any(r.outcome == "failed" for r in self.runs) and self.policy.on_host_failure == "abort"
        for batch_names in bg.batches(order, self.policy.strategy, self.policy.batch_size):
            batch = [by_name[n] for n in batch_names]
            if stopped:
                for run in batch:
                    run.outcome, run.error = "aborted", "an earlier host failed (on_host_failure: abort)"
                continue
            try:
                self.release(batch)  # migrations first: if they fail, no host has started the new release
            except ShipyardError as exc:
                for run in batch:
                    self._fail(run, exc, "aborted")
                stopped = True
                continue
            ready = self.prepare(batch)
            if len(ready) < len(batch) and self.policy.on_host_failure == "abort":
                for run in ready:
                    assert run.plan
                    self._abandon(run, run.plan.changes)
                    run.outcome, run.error = "aborted", "another host failed before cutover (on_host_failure: abort)"
                stopped = True
                continue
            try:
                self.hooks(batch, ready)
            except ShipyardError as exc:
                for run in ready:
                    assert run.plan
                    self._abandon(run, run.plan.changes)
                    self._fail(run, exc, "aborted")
                stopped = True
                continue
            switched = self.cutover(ready)
            if len(switched) < len(ready) and self.policy.on_host_failure == "abort":
                for run in switched:
                    self.switch_back(run, "another host failed after cutover (on_host_failure: abort)")
                stopped = True
                continue
            self.retire(switched)


def report(progress: Progress, request: Request, runs: Sequence[HostRun]) -> None:
    progress.summary(f"{request.action} {request.release}",
                     {r.name: (request.release, r.outcome, r.phases) for r in runs})
    bad = [r for r in runs if r.outcome not in {"ok", "converged"}]
    if bad:
        first = bad[0]
        others = f" (and {len(bad) - 1} more host(s))" if len(bad) > 1 else ""
        still = "; the previous release keeps serving there" if first.outcome in {"failed", "switched-back",
                                                                                   "aborted"} else ""
        raise DeployFailed(f"{request.action} of {request.release} {first.outcome} on {first.name}{others}: "
                           f"{first.error}{still}",
                           hint="see the log lines above; `invoke deploy.status` shows what each host serves")


def deploy(target: Target, request: Request, progress: Progress) -> list[HostRun]:
    with progress:  # the live panel goes, however the deploy ends
        runs = Deployment(target, request, progress).run()
        report(progress, request, runs)
    return runs

"""The deploy's recovery paths, on stand-in host runners: the pre-cutover hook when its host fails first, a
switch-back that fails, and a signal that arrives inside the watch window."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from shipyard.commands.haproxy import Backend
from shipyard.commands.layout import HostLayout
from shipyard.plans import bluegreen as bg
from shipyard.run.base import Result
from shipyard.targets.progress import Progress
from shipyard.targets.vm import bluegreen as vm_bluegreen

B = "bbbbbbbbbbbb"
HOOK = "python -m app warm-cache"


class Host:
    """A host's runner stand-in: records every command; exits `code` (0: everything succeeds)."""

    dry_run = False

    def __init__(self, name: str, code: int = 0) -> None:
        self.host, self.code = name, code
        self.ran: list[list[str]] = []

    def run(self, argv: list[str], *, input: str | None = None, **_kwargs: Any) -> Result:
        self.ran.append(list(argv))
        return Result(tuple(argv), self.code, "", "switch failed" if self.code else "", 0.0, self.host)

    def close(self) -> None:
        pass


def deployment(hosts: list[Host], monkeypatch: pytest.MonkeyPatch,
               watch_window: float = 5) -> tuple[vm_bluegreen.Deployment, io.StringIO]:
    monkeypatch.delenv("SHIPYARD_FAULT", raising=False)
    layout = HostLayout("demo")
    target = SimpleNamespace(
        env=SimpleNamespace(deploy=SimpleNamespace(strategy="parallel", batch_size=1, on_host_failure="continue",
                                                   max_error_rate=None, max_response_time=None)),
        env_name="staging", registry=SimpleNamespace(address="registry.example.com"), layout=layout,
        host_login=lambda: None, runners=lambda: hosts, host_names=lambda: [h.host for h in hosts])
    request = vm_bluegreen.Request(action="deploy", release=B, images={"api": f"reg/api:{B}"})
    shown = io.StringIO()
    deploy = vm_bluegreen.Deployment(target, request,  # type: ignore[arg-type]
                                     Progress(Console(file=shown, width=300, highlight=False)))
    desired = bg.Desired("api", f"reg/api:{B}", B, 8000, "/ready", hook=HOOK)
    live = bg.ServiceFacts("api", image_present=True)
    for index, run in enumerate(deploy.runs):
        run.plan = bg.plan_host(run.name, [desired], {"api": live}, run_hooks=index == 0)
        run.ctx = bg.Context(layout=layout, backends=(Backend("api", 8000, "/ready", None),), public="api",
                             http_port=80, bind="0.0.0.0", health_timeout=30,
                             watch_window=watch_window, env_files={}, env_contents={})
    return deploy, shown


def hooks_ran(host: Host) -> list[list[str]]:
    return [argv for argv in host.ran if any(HOOK in part for part in argv)]


def test_the_hook_moves_to_a_ready_host_when_its_host_failed_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """on_host_failure: continue, and the host chosen for the hook never got its new colour healthy: another
    ready host runs the hook, so no host switches without it."""
    h1, h2 = Host("h1"), Host("h2")
    deploy, shown = deployment([h1, h2], monkeypatch)
    second = deploy.runs[1]
    deploy.hooks(deploy.runs, [second])
    assert hooks_ran(h1) == []
    assert len(hooks_ran(h2)) == 1
    assert "runs the pre-cutover hook" in shown.getvalue()


def test_the_hook_runs_once_on_its_own_host_when_that_host_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    h1, h2 = Host("h1"), Host("h2")
    deploy, _ = deployment([h1, h2], monkeypatch)
    deploy.hooks(deploy.runs, deploy.runs)
    assert (len(hooks_ran(h1)), len(hooks_ran(h2))) == (1, 0)


def test_rolling_batches_hand_the_hook_on_to_a_later_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """strategy: rolling, batch_size: 1: the hook's host fails alone in the first batch (nothing ready there to
    take the hook); the next batch's host runs it before it switches."""
    h1, h2, h3 = Host("h1"), Host("h2"), Host("h3")
    deploy, _ = deployment([h1, h2, h3], monkeypatch)
    first, second, third = deploy.runs
    deploy.hooks([first], [])
    deploy.hooks([second], [second])
    deploy.hooks([third], [third])
    assert (len(hooks_ran(h1)), len(hooks_ran(h2)), len(hooks_ran(h3))) == (0, 1, 0)


def test_a_batch_without_the_hook_host_runs_no_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rolling batches: the hook ran in an earlier batch; a later batch (no hook host in it) runs none."""
    h1, h2 = Host("h1"), Host("h2")
    deploy, _ = deployment([h1, h2], monkeypatch)
    deploy.hooks([deploy.runs[1]], [deploy.runs[1]])
    assert hooks_ran(h1) == hooks_ran(h2) == []


def test_a_failed_switch_back_is_not_reported_as_switched_back(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Host("h1", code=1)
    deploy, _ = deployment([broken], monkeypatch)
    run = deploy.runs[0]
    assert run.plan is not None
    run.switched = list(run.plan.changes)
    deploy.switch_back(run, "api/green went down inside the watch window")
    assert run.outcome == "switch-back-failed"
    assert run.error is not None and "could not switch api back" in run.error
    assert run.error.startswith("api/green went down")


def test_a_switch_back_that_works_is_reported_so(monkeypatch: pytest.MonkeyPatch) -> None:
    deploy, _ = deployment([Host("h1")], monkeypatch)
    run = deploy.runs[0]
    assert run.plan is not None
    run.switched = list(run.plan.changes)
    deploy.switch_back(run, "api/green went down inside the watch window")
    assert run.outcome == "switched-back"


def watched(deploy: vm_bluegreen.Deployment, signal_inside: bool) -> list[str]:
    """Cutover on a stand-in whose steps succeed; the watch window sees SIGTERM arrive when `signal_inside`."""
    seen: list[str] = []

    def steps(run: Any, steps: Sequence[bg.Step], *, cleanup: bool = False) -> None:
        seen.extend(f"cleanup {step.phase}" if cleanup else step.phase for step in steps)

    def watch(targets: Any, window: float, stop: Any, **_kwargs: Any) -> list[str]:
        assert stop is deploy.stopping  # the watch can end at once when a signal comes
        if signal_inside:
            deploy.interrupted = "SIGTERM"
            stop.set()
        return []

    deploy._steps = steps  # type: ignore[method-assign]
    for run in deploy.runs:
        run.host.watch = watch  # type: ignore[method-assign]
    deploy.cutover(deploy.runs)
    return seen


def test_a_signal_inside_the_watch_window_switches_back(monkeypatch: pytest.MonkeyPatch) -> None:
    deploy, _ = deployment([Host("h1")], monkeypatch)
    seen = watched(deploy, signal_inside=True)
    run = deploy.runs[0]
    assert run.outcome == "switched-back"
    assert run.error == "interrupted by SIGTERM inside the watch window"
    assert seen[-1].startswith("cleanup")  # the new colour undone (no colour was live before: it is removed)


def test_a_lease_lost_inside_the_watch_window_changes_nothing_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another deployer may hold the host now: no switch-back from here (retire then stops before its step)."""
    deploy, _ = deployment([Host("h1")], monkeypatch)
    deploy.runs[0].lock.lost = "the lease was taken over"
    seen = watched(deploy, signal_inside=False)
    assert deploy.runs[0].outcome == "pending"
    assert not any(phase.startswith("cleanup") for phase in seen)


def test_a_quiet_watch_window_keeps_the_new_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    deploy, _ = deployment([Host("h1")], monkeypatch)
    seen = watched(deploy, signal_inside=False)
    assert deploy.runs[0].outcome == "pending"  # retire() decides next
    assert not any(phase.startswith("cleanup") for phase in seen)


def test_the_signal_handler_ends_the_watch_window(monkeypatch: pytest.MonkeyPatch) -> None:
    deploy, _ = deployment([Host("h1")], monkeypatch)
    previous = deploy._catch_signals()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        deploy._restore_signals(previous)
    assert deploy.interrupted == "SIGTERM"
    assert deploy.stopping.is_set()

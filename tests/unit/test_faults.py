"""The fault-injection hook (SHIPYARD_FAULT): parsing, one-line errors, firing once, on the right host, and every
step a plan can hold having a named point."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from shipyard.commands.haproxy import HEALTH_FULL, Backend
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts.containers import Container
from shipyard.facts.proxy import ServerState
from shipyard.plans import bluegreen as bg
from shipyard.targets import faults
from shipyard.targets.vm.host import StepFailed


def test_off_unless_set() -> None:
    injector = faults.Injector.from_env({})
    assert injector.faults == ()
    for point in faults.POINTS:  # nothing fires anywhere
        when, _, step = point.partition("-")
        injector.at(when, step, "h1")


@pytest.mark.parametrize(("text", "message"), [
    ("kill", "expected <action>@<point>[@<host>]"),
    ("explode@after-switch", "unknown action 'explode' (actions: kill, drop, fail)"),
    ("kill@after-lunch", "unknown point 'after-lunch'"),
    ("kill@@h1", "expected <action>@<point>[@<host>]"),
])
def test_malformed_values_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ShipyardError) as info:
        faults.Injector.from_env({faults.ENV: text})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_fail_fires_once_at_its_point_on_its_host() -> None:
    injector = faults.Injector.from_env({faults.ENV: "fail@after-switch@h2"})
    injector.at("before", "switch", "h2")  # another point
    injector.at("after", "switch", "h1")  # another host
    with pytest.raises(StepFailed, match=r"\[h2\] fault injected: fail@after-switch@h2 on h2"):
        injector.at("after", "switch", "h2")
    injector.at("after", "switch", "h2")  # once per process


def test_drop_closes_the_connection_then_fails_the_step() -> None:
    closed: list[bool] = []
    injector = faults.Injector.from_env({faults.ENV: "drop@before-record"})
    with pytest.raises(StepFailed):
        injector.at("before", "record", "h1", drop=lambda: closed.append(True))
    assert closed == [True]


def test_kill_is_a_sigkill_of_the_deployer() -> None:
    code = ("from shipyard.targets import faults\n"
            "faults.Injector.from_env({faults.ENV: 'kill@after-lock'}).at('after', 'lock', 'h1')\n"
            "print('survived')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9 and "survived" not in proc.stdout
    assert "fault injected: kill@after-lock on h1" in proc.stderr


def test_every_step_of_a_plan_has_a_listed_point() -> None:
    """A full plan (stale colour, pull, env file, release command, hook, backup switch, public probe, retire):
    each step's point is one of faults.STEPS, so the matrix test reaches every step by name."""
    def server(colour: str, admin: int) -> ServerState:
        return ServerState("app", colour, "172.18.0.2", 8000, True, admin, HEALTH_FULL)

    containers = {c: Container(f"demo-app-{c}", f"r/app:{rel}", "running", "", "app", c, rel, "app")  # type: ignore[arg-type]
                  for c, rel in (("blue", "a"), ("green", "old"))}
    observed = bg.ServiceFacts("app", containers=containers,  # type: ignore[arg-type]
                               servers={"blue": server("blue", 0), "green": server("green", 1)}, persisted="blue")
    desired = bg.Desired("app", "r/app:b", "b", 8000, "/ready", public=True, hook="./check",
                         release_command="./migrate")
    plan = bg.plan_host("h1", [desired], {"app": observed}, run_hooks=True)
    ctx = bg.Context(layout=HostLayout("demo"), backends=(Backend("app", 8000, "/ready", "blue"),), public="app",
                     http_port=80, bind="0.0.0.0", health_timeout=30, watch_window=5,
                     env_files={"app": "/var/lib/shipyard/demo/env/app.env"}, env_contents={"app": "A=1\n"})
    points = [step.point for step in bg.describe(plan, ctx)]
    assert set(points) <= set(faults.STEPS), set(points) - set(faults.STEPS)
    assert {"pull", "env-file", "release-command", "isolate-stale", "remove-stale", "drain-new", "start", "healthy",
            "hook", "switch", "record", "verify-proxy", "verify-http", "watch", "isolate-old",
            "remove-old"} <= set(points)
    # the steps of a kept previous colour: stopped or a standby after the watch window, a stopped one restarted
    for policy in ("stop", "standby"):
        points += [step.point for step in bg.describe(plan, replace(ctx, previous_colour=policy))]  # type: ignore[arg-type]
    stopped = {**containers, "green": replace(containers["green"], release="b", image="r/app:b", state="exited")}
    rollback = bg.plan_host("h1", [desired], {"app": replace(observed, containers=stopped)}, reuse=True)
    points += [step.point for step in bg.describe(rollback, replace(ctx, previous_colour="stop"))]
    assert {"stop-old", "standby-old", "restart-kept"} <= set(points)
    assert set(points) <= set(faults.STEPS), set(points) - set(faults.STEPS)
    # a name that is not a step would be a point no deploy reaches: the list holds nothing else
    assert set(faults.STEPS) - set(points) == {"lock", "ledger"}
    # the recovery steps: a prepared colour undone, a switched one switched back (which also undoes it)
    switched = next(s for s in plan.changes)
    recovery = [step.point for step in bg.switch_back_steps(switched, ctx, {"app": "blue"})]
    recovery += [step.point for step in bg.abandon_steps(switched, ctx)]
    assert set(recovery) - {"record"} == set(faults.RECOVERY)


def test_several_faults_each_fire_once_in_their_order() -> None:
    """A recovery step runs only after a failure: one fault causes it, the next one hits the recovery."""
    injector = faults.Injector.from_env({faults.ENV: "fail@before-watch,drop@after-switch-back"})
    with pytest.raises(StepFailed, match="fail@before-watch"):
        injector.at("before", "watch", "h1")
    injector.at("before", "watch", "h1")  # fired already
    closed: list[bool] = []
    with pytest.raises(StepFailed, match="drop@after-switch-back"):
        injector.at("after", "switch-back", "h1", drop=lambda: closed.append(True))
    assert closed == [True]
    with pytest.raises(ShipyardError, match="unknown point 'after-lunch'"):
        faults.Injector.from_env({faults.ENV: "fail@before-watch,kill@after-lunch"})

"""deploy.previous_colour: what the old colour becomes after the watch window, and a rollback that puts a kept
colour back as it ran (a standby is a switch in the proxy; a stopped one is started again)."""

from __future__ import annotations

import pytest
from test_plans_bluegreen import IMAGE, A, B, context, facts

from shipyard.plans import bluegreen as bg

DESIRED_A = bg.Desired("app", IMAGE.format(A), A, 8000, "/ready", public=True)
DESIRED_B = bg.Desired("app", IMAGE.format(B), B, 8000, "/ready", public=True)
# B serves in green; A is kept in blue: running out of traffic (standby), or stopped
STANDBY = facts({"green": {}, "blue": {"admin": "drain"}}, {"green": (B, True), "blue": (A, True)}, "green", True)
STOPPED = facts({"green": {}, "blue": {"admin": "maint", "up": False}}, {"green": (B, True), "blue": (A, False)},
                "green", True)


def kinds(steps: list[bg.Step]) -> list[tuple[str, str]]:
    return [(s.phase, s.name or s.kind) for s in steps]


@pytest.mark.parametrize("policy", ["remove", "stop", "standby"])
def test_retire_keeps_the_old_colour_as_the_policy_says(policy: str) -> None:
    observed = facts({"blue": {}}, {"blue": (A, True)}, "blue")
    plan = bg.plan_service(DESIRED_B, observed)
    steps = bg.retire_steps(plan, context(previous_colour=policy))
    argvs = [s.argv for s in steps]
    if policy == "remove":
        assert [s.name for s in steps] == ["isolate-old", "remove-old"]
    elif policy == "stop":
        assert [s.name for s in steps] == ["isolate-old", "stop-old"]
        assert argvs[1][:2] == ("docker", "stop") and argvs[1][-1] == "demo-app-blue"
        assert not any("rm" in a for a in argvs)
    else:
        assert [s.name for s in steps] == ["standby-old"]
        assert steps[0].input == "set server app/blue state drain; set server app/blue-standby state maint\n"
        assert "(aaaaaaaaaaaa)" in steps[0].what


def test_a_rollback_to_a_running_standby_is_a_switch_in_the_proxy() -> None:
    plan = bg.plan_host("h1", [DESIRED_A], {"app": STANDBY}, reuse=True)
    (svc,) = plan.changes
    assert (svc.target, svc.reuse, svc.pull) == ("blue", "running", False)
    steps = bg.describe(plan, context(previous_colour="standby"))
    phases = [s.phase for s in steps]
    # no pull, no env file, no stale removal, no new container, no wait: it passes its checks, the switch follows
    assert "pull" not in phases and not any(s.name in {"env-file", "remove-stale"} for s in steps)
    assert not any(s.argv[:2] == ("docker", "run") for s in steps)
    assert phases[0] == "switch" and "healthy" not in phases
    # after the watch window, B (the colour it left) becomes the standby in turn
    assert steps[-1].name == "standby-old" and "(bbbbbbbbbbbb)" in steps[-1].what


def test_a_standby_failing_its_checks_is_waited_for() -> None:
    failing = facts({"green": {}, "blue": {"admin": "drain", "passed": False}}, {"green": (B, True), "blue": (A, True)},
                    "green", True)
    plan = bg.plan_service(DESIRED_A, failing, reuse=True)
    assert plan.reuse == "running" and not plan.target_healthy
    assert kinds(bg.prepare_steps(plan, context())) == [("healthy", "wait")]


def test_a_rollback_to_a_stopped_colour_starts_it_again() -> None:
    plan = bg.plan_host("h1", [DESIRED_A], {"app": STOPPED}, reuse=True)
    (svc,) = plan.changes
    assert svc.reuse == "stopped" and not svc.pull
    steps = bg.prepare_steps(svc, context(previous_colour="stop"))
    assert kinds(steps) == [("start", "drain-new"), ("start", "restart-kept"), ("healthy", "wait")]
    assert steps[1].argv == ("docker", "start", "demo-app-blue")


@pytest.mark.parametrize(("observed", "reuse", "why"), [
    (STANDBY, False, "a deploy (not a rollback) always starts a fresh container"),
    (facts({"green": {}, "blue": {"admin": "drain"}}, {"green": (B, True), "blue": (B, True)}, "green", True), True,
     "the kept colour runs another release"),
])
def test_no_reuse(observed: bg.ServiceFacts, reuse: bool, why: str) -> None:
    plan = bg.plan_service(DESIRED_A, observed, reuse=reuse)
    assert plan.reuse is None, why
    assert plan.stale_target and bg.prepare_steps(plan, context())[1].name == "remove-stale"


def test_a_kept_container_of_another_image_is_not_reused() -> None:
    other_image = bg.Desired("app", IMAGE.format(A) + "-rebuilt", A, 8000, "/ready", public=True)
    assert bg.plan_service(other_image, STANDBY, reuse=True).reuse is None


@pytest.mark.parametrize(("policy", "observed", "expected"), [
    ("remove", STANDBY, ["abandon-isolate", "abandon-remove"]),
    ("standby", STANDBY, []),  # already the standby the policy keeps: a converged deploy changes nothing
    ("stop", STOPPED, []),
    ("stop", STANDBY, ["isolate-old", "stop-old"]),  # the policy changed from standby to stop
    ("standby", STOPPED, ["restart-kept", "standby-old"]),  # from stop to standby: started, drain, checks on
])
def test_a_converged_deploy_brings_the_kept_colour_to_the_policy(policy: str, observed: bg.ServiceFacts,
                                                                   expected: list[str]) -> None:
    desired = DESIRED_B
    plan = bg.plan_host("h1", [desired], {"app": observed})
    assert plan.changes == ()
    assert [s.name for s in bg.describe(plan, context(previous_colour=policy))] == expected

"""Blue/green decisions from observed facts: a table of host situations -> the plan, and the exact steps."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.commands.haproxy import HEALTH_FULL, Backend
from shipyard.commands.layout import HostLayout
from shipyard.commands.programs import program
from shipyard.facts.containers import Container
from shipyard.facts.proxy import CMAINT, FDRAIN, FMAINT, ServerState, parse_config_live
from shipyard.plans import bluegreen as bg

IMAGE = "127.0.0.1:5000/demo/app:{}"
A, B = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
ADMIN = {"ready": 0, "drain": FDRAIN, "maint": FMAINT | CMAINT}


def server(colour: str, admin: str = "ready", up: bool = True, passed: bool = True) -> ServerState:
    return ServerState("app", colour, "172.18.0.2", 8000, up, ADMIN[admin], HEALTH_FULL if passed else 0)


def container(colour: str, release: str, running: bool = True) -> Container:
    return Container(f"demo-app-{colour}", IMAGE.format(release), "running" if running else "exited", "",
                     "app", colour, release, "app")  # type: ignore[arg-type]


def facts(servers: dict[str, dict[str, Any]] | None = None, containers: dict[str, tuple[str, bool]] | None = None,
          persisted: str | None = None, image_present: bool = False) -> bg.ServiceFacts:
    return bg.ServiceFacts(
        "app",
        containers={c: container(c, r, run) for c, (r, run) in (containers or {}).items()},  # type: ignore[misc]
        servers={c: server(c, **kw) for c, kw in (servers or {}).items()},  # type: ignore[misc]
        persisted=persisted, image_present=image_present)  # type: ignore[arg-type]


DESIRED_B = bg.Desired("app", IMAGE.format(B), B, 8000, "/ready", public=True)

CASES = [
    # name, facts, force -> (target, live, live_release, pull, stale_target, converged)
    ("fresh host", facts(), False, ("blue", None, None, True, False, False)),
    ("blue serves A", facts({"blue": {}, "green": {"admin": "maint", "up": False}}, {"blue": (A, True)},
                            persisted="blue"), False, ("green", "blue", A, True, False, False)),
    ("already live and healthy", facts({"blue": {}}, {"blue": (B, True)}, "blue", True), False,
     ("green", "blue", B, False, False, True)),
    ("forced redeploy", facts({"blue": {}}, {"blue": (B, True)}, "blue", True), True,
     ("green", "blue", B, False, False, False)),
    ("live but failing its checks", facts({"blue": {"passed": False}}, {"blue": (B, True)}, "blue", True), False,
     ("green", "blue", B, False, False, False)),
    ("deployer killed mid-switch: both ready",
     facts({"blue": {}, "green": {}}, {"blue": (A, True), "green": (B, True)}, persisted="blue"),
     False, ("green", "blue", A, True, True, False)),
    ("killed after switch: green ready, blue draining",
     facts({"blue": {"admin": "drain"}, "green": {}}, {"blue": (A, True), "green": (B, True)}, persisted="blue"),
     False, ("blue", "green", B, True, True, True)),
    ("killed before switch: green healthy in drain",
     facts({"blue": {}, "green": {"admin": "drain"}}, {"blue": (A, True), "green": (B, True)}, persisted="blue"),
     False, ("green", "blue", A, True, True, False)),
    ("nothing serves, config says green", facts({"green": {"up": False}}, {"green": (A, False)}, persisted="green"),
     False, ("blue", None, None, True, False, False)),
    ("container gone under a ready server", facts({"blue": {}}, {}, persisted="blue", image_present=True), False,
     ("green", None, None, False, False, False)),
]


@pytest.mark.parametrize(("name", "observed", "force", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_service(name: str, observed: bg.ServiceFacts, force: bool, expected: tuple[Any, ...]) -> None:
    plan = bg.plan_service(DESIRED_B, observed, force=force)
    assert (plan.target, plan.live, plan.live_release, plan.pull, plan.stale_target, plan.converged) == expected


@pytest.mark.parametrize(("hosts", "strategy", "size", "expected"), [
    (["h1", "h2", "h3"], "parallel", 1, [["h1", "h2", "h3"]]),
    (["h1", "h2", "h3"], "rolling", 1, [["h1"], ["h2"], ["h3"]]),
    (["h1", "h2", "h3"], "rolling", 2, [["h1", "h2"], ["h3"]]),
    ([], "rolling", 2, []),
])
def test_batches(hosts: list[str], strategy: str, size: int, expected: list[list[str]]) -> None:
    assert bg.batches(hosts, strategy, size) == expected


def context(**over: Any) -> bg.Context:
    base: dict[str, Any] = dict(layout=HostLayout("demo"), backends=(Backend("app", 8000, "/ready", "blue"),),
                                public="app", http_port=8080, bind="127.0.0.1", health_timeout=30, watch_window=5,
                                env_files={"app": "/var/lib/shipyard/demo/env/app.env"},
                                env_contents={"app": "TOKEN=canary-secret-1234\n"})
    base.update(over)
    return bg.Context(**base)


ISOLATE_GREEN = "set server app/green state maint; set server app/green-standby state maint\n"
ISOLATE_BLUE = "set server app/blue state maint; set server app/blue-standby state maint\n"
SOCK = ("python3", "-I", "-S", "-c", program("haproxy_admin.py"), "/var/lib/shipyard/demo/proxy/run/admin.sock")


def test_happy_path_steps_in_order() -> None:
    observed = facts({"blue": {}, "green": {"admin": "maint", "up": False}}, {"blue": (A, True)}, "blue")
    plan = bg.plan_host("h1", [bg.Desired("app", IMAGE.format(B), B, 8000, "/ready", True, "./migrate")],
                        {"app": observed}, run_hooks=True)
    steps = bg.describe(plan, context())
    assert [(s.phase, s.kind) for s in steps] == [
        ("start", "admin"), ("pull", "run"), ("start", "run"), ("start", "run"), ("healthy", "wait"),
        ("hook", "run"), ("switch", "run"), ("switch", "run"), ("verify", "verify"), ("verify", "verify"),
        ("watch", "watch"), ("retire", "admin"), ("retire", "run"),
    ]
    by_what = {s.what: s for s in steps}
    assert steps[0].argv == SOCK
    assert steps[0].input == "set server app/green state drain; set server app/green-standby state maint\n"
    assert steps[1].argv == ("docker", "pull", IMAGE.format(B))
    env = steps[2]
    assert env.secret_input and env.input == "TOKEN=canary-secret-1234\n"
    assert "canary" not in " ".join(env.argv)
    assert steps[3].argv == (
        "docker", "run", "--detach", "--name", "demo-app-green", "--network", "demo", "--init",
        "--restart", "unless-stopped",
        "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=5",
        "--env", f"SHIPYARD_RELEASE={B}",
        "--env-file", "/var/lib/shipyard/demo/env/app.env",
        "--label", "shipyard.colour=green", "--label", "shipyard.project=demo", "--label", f"shipyard.release={B}",
        "--label", "shipyard.role=app", "--label", "shipyard.service=app", IMAGE.format(B))
    assert steps[4].timeout == 30 and steps[4].input == "show servers state app\n"
    assert steps[5].argv == ("docker", "exec", "demo-app-green", "sh", "-c", "./migrate")
    switch = steps[6].argv
    assert switch[:2] == ("sh", "-c") and switch[3:] == (
        "shipyard-switch", "demo-app-blue", '{{with index .NetworkSettings.Networks "demo"}}{{.IPAddress}}{{end}}',
        "app/blue-standby", "8000",
        "set server app/green state ready; set server app/blue-standby state ready; set server app/blue state maint\n",
        program("haproxy_admin.py"), "/var/lib/shipyard/demo/proxy/run/admin.sock")
    config = steps[7].input or ""
    assert "server green demo-app-green:8000\n" in config and "server blue demo-app-blue:8000 disabled" in config
    assert "server blue-standby 127.0.0.1:8000 backup disabled" in config
    probe = by_what["GET http://127.0.0.1:8080/ready through the proxy"]
    assert probe.argv[-2:] == ("http://127.0.0.1:8080/ready", "5")
    assert steps[11].input == ISOLATE_BLUE
    assert steps[12].argv[-1] == "demo-app-blue"


def test_release_command_runs_first_in_a_one_off_container_of_the_new_image() -> None:
    observed = facts({"blue": {}, "green": {"admin": "maint", "up": False}}, {"blue": (A, True)}, "blue")
    desired = bg.Desired("app", IMAGE.format(B), B, 8000, "/ready", True, release_command="python -m app migrate")
    plan = bg.plan_host("h1", [desired], {"app": observed}, run_hooks=True)
    steps = bg.describe(plan, context())
    assert [(s.phase, s.kind) for s in steps[:4]] == [("pull", "run"), ("release", "run"), ("release", "run"),
                                                      ("start", "admin")]
    assert steps[1].secret_input and "canary" not in " ".join(steps[1].argv)
    assert steps[2].argv == (
        "docker", "run", "--rm", "--name", "demo-app-release", "--network", "demo", "--init",
        "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=5",
        "--env", f"SHIPYARD_RELEASE={B}", "--env-file", "/var/lib/shipyard/demo/env/app.env",
        "--label", "shipyard.project=demo", IMAGE.format(B), "sh", "-c", "python -m app migrate")
    # only the host chosen to run hooks runs it, so it runs once per deploy
    other = bg.plan_host("h2", [desired], {"app": observed}, run_hooks=False)
    assert bg.release_steps(other, context()) == []


def test_converged_host_has_no_steps() -> None:
    observed = facts({"blue": {}}, {"blue": (B, True)}, "blue", True)
    plan = bg.plan_host("h1", [DESIRED_B], {"app": observed})
    assert plan.changes == () and bg.describe(plan, context()) == []


def test_converged_after_interrupted_switch_records_the_live_colour_then_tidies() -> None:
    """Killed between the runtime switch and the write of haproxy.cfg: green serves, the file still says blue. The
    next deploy of the same release first records green in the file, then removes the blue leftover (never the
    other way round: the file must not name a removed container, or a proxy restart serves a 503)."""
    observed = facts({"blue": {"admin": "drain"}, "green": {}}, {"blue": (A, True), "green": (B, True)}, "blue", True)
    plan = bg.plan_host("h1", [DESIRED_B], {"app": observed})
    assert plan.changes == () and [s.service for s in plan.unrecorded] == ["app"]
    steps = bg.describe(plan, context())
    assert [(s.kind, s.input if s.kind == "admin" else s.what) for s in steps] == [
        ("run", "record live colours in haproxy.cfg (app=green)"), ("admin", ISOLATE_BLUE),
        ("run", "remove the new blue container")]
    assert "/var/lib/shipyard/demo/proxy/conf/haproxy.cfg" in steps[0].argv
    assert parse_config_live(steps[0].input or "") == {"app": "green"}
    assert steps[2].argv[-1] == "demo-app-blue"


def test_converged_and_recorded_needs_no_config_write() -> None:
    observed = facts({"blue": {"admin": "drain"}, "green": {}}, {"blue": (A, True), "green": (B, True)}, "green", True)
    plan = bg.plan_host("h1", [DESIRED_B], {"app": observed})
    assert plan.unrecorded == ()
    assert [s.what for s in bg.describe(plan, context())] == [
        "keep app/blue out of traffic (maint)", "remove the new blue container"]


def test_stale_target_removed_and_no_pull_when_present() -> None:
    observed = facts({"blue": {}, "green": {"admin": "drain"}}, {"blue": (A, True), "green": (B, True)}, "blue", True)
    plan = bg.plan_host("h1", [DESIRED_B], {"app": observed})
    steps = bg.describe(plan, context(env_files={}, watch_window=0))
    assert steps[1].argv == ("docker", "rm", "--force", "demo-app-green")
    assert not any(s.phase == "pull" for s in steps) and not any(s.phase == "watch" for s in steps)
    assert not any(s.phase == "hook" for s in steps)


def test_switch_back_and_abandon() -> None:
    observed = facts({"blue": {}}, {"blue": (A, True)}, "blue")
    plan = bg.plan_service(DESIRED_B, observed)
    live = {"app": "green"}
    back = bg.switch_back_steps(plan, context(), live)  # type: ignore[arg-type]
    assert live == {"app": "blue"}
    assert back[0].input == ("set server app/blue state ready; set server app/blue-standby state maint; "
                             "set server app/green state drain\n")
    assert "server blue demo-app-blue:8000\n" in (back[1].input or "")
    assert back[2].input == ISOLATE_GREEN
    assert back[3].argv == ("docker", "rm", "--force", "demo-app-green") and not back[3].check
    first = bg.plan_service(DESIRED_B, facts())
    assert [s.kind for s in bg.switch_back_steps(first, context(), {})] == ["admin", "run"]


def test_internal_service_verified_by_proxy_state_only() -> None:
    desired = bg.Desired("app", IMAGE.format(B), B, 8000, "/ready", public=False)
    plan = bg.plan_host("h1", [desired], {})
    steps = bg.describe(plan, context(public=None))
    assert [s.url for s in steps if s.kind == "verify"] == [None]

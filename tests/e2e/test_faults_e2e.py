"""Deploys under faults: every point x every action of SHIPYARD_FAULT, on 2 sandbox VMs, through the real CLI,
under strict keep-alive load (no retries) on both hosts' proxies.

For each (action, point): a deploy of the other release with the fault injected; then a plain deploy, which must
converge with no manual step; the load must see zero failed requests and no closed connection throughout. Then
HAProxy is restarted on each host and `deploy.setup` re-run: the same release must serve, and on each host the
live colour recorded in haproxy.cfg must be the one the proxy's runtime serves (persisted state = runtime
state). The ledger must parse line by line after every run. Every point must really fire (a point no deploy
reaches would be a test that checks nothing): the release command, the hook, a pull (the target image is
removed from the hosts first), a stale colour (left by a killed deploy first) and the recovery steps (a failure
causing them first) are all arranged for.

The points are spread over LANES independent sandboxes (2 VMs each) that run side by side; with `kill`, a
`before-` point is the same state as the `after-` point of the step before it, so only `before-lock` and the
`after-` points are run. SHIPYARD_FAULT_POINTS=after-switch,before-record narrows the matrix (debugging).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploybed import FIXTURE, NAMESPACE, REGISTRY, A, B, image

from shipyard.sandbox.load import LoadGenerator
from shipyard.targets import faults

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
LANES = int(os.environ.get("SHIPYARD_FAULT_LANES", "2"))
PULL_POINTS = {"before-pull", "after-pull"}
STALE_POINTS = {f"{w}-{s}" for w in ("before", "after") for s in ("isolate-stale", "remove-stale")}
# The recovery steps run only after a failure: each is reached with the fault that causes it first
CAUSES = {"abandon-isolate": "fail@before-healthy", "abandon-remove": "fail@before-healthy",
          "switch-back": "fail@before-watch"}
# Steps that only a kept previous colour has (deploy.previous_colour): run in environments with that policy
KEEP_POINTS = {f"{w}-{s}": env for w in ("before", "after")
               for s, env in (("stop-old", "faults-stop"), ("standby-old", "faults-standby"),
                              ("restart-kept", "faults-stop"))}


def config(project: str, env: dict[str, Any]) -> str:
    return (f"project: {project}\n"
            f"registry: {{address: {REGISTRY}, namespace: {NAMESPACE}, retain: 5}}\n"
            "services:\n"
            "  app:\n"
            "    port: 8000\n"
            "    health: {liveness: /health, readiness: /ready}\n"
            "    public: true\n"
            "    env: {LOG_LEVEL: info}\n"  # an env file to write: the env-file points exist
            "    release_command: 'test -n \"$SHIPYARD_RELEASE\"'\n"
            f"environments:\n  faults: {json.dumps(env)}\n"
            f"  faults-stop: {json.dumps(keeping(env, 'stop'))}\n"
            f"  faults-standby: {json.dumps(keeping(env, 'standby'))}\n")


def keeping(env: dict[str, Any], policy: str) -> dict[str, Any]:
    """The same environment keeping the previous colour (deploy.previous_colour)."""
    return {**env, "deploy": {**env.get("deploy", {}), "previous_colour": policy}}


@dataclass
class Lane:
    project: str
    root: Path
    vms: list[Any]
    live: str = ""
    outputs: list[str] = field(default_factory=list)

    def shipyard(self, *args: str, fault: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200"}
        env.pop(faults.ENV, None)
        if fault:
            env[faults.ENV] = fault
        proc = subprocess.run([SHIPYARD, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              env=env)
        self.outputs.append(proc.stdout + proc.stderr)
        return proc

    def on_vm(self, vm: Any, *argv: str, check: bool = True) -> str:
        proc = subprocess.run(["docker", "exec", vm.name, *argv], capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"{vm.name}: {' '.join(argv)}: {proc.stderr.strip()}")
        return proc.stdout

    def state(self, vm: Any) -> tuple[dict[str, Any], dict[str, tuple[str, bool]], dict[str, str]]:
        """(colours haproxy.cfg records, proxy runtime servers, app containers name -> release) on one VM."""
        from shipyard.commands.programs import program
        from shipyard.facts.proxy import parse_config_live, parse_servers_state

        root = f"/var/lib/shipyard/{self.project}"
        persisted = parse_config_live(self.on_vm(vm, "cat", f"{root}/proxy/conf/haproxy.cfg"))
        out = subprocess.run(["docker", "exec", "-i", vm.name, "python3", "-I", "-S", "-c", program("haproxy_admin.py"),
                              f"{root}/proxy/run/admin.sock"], input="show servers state app\n",
                             capture_output=True, text=True, timeout=60, check=True).stdout
        servers = {srv: (st.admin, st.op_running) for (_, srv), st in parse_servers_state(out).items()}
        ps = self.on_vm(vm, "docker", "ps", "--filter", f"label=shipyard.project={self.project}", "--filter",
                        "label=shipyard.role=app", "--format", '{{.Names}} {{.Label "shipyard.release"}}')
        containers = dict(line.split() for line in ps.splitlines() if line.strip())
        return persisted, servers, containers

    def ledger_lines(self, vm: Any) -> list[dict[str, Any]]:
        text = self.on_vm(vm, "cat", f"/var/lib/shipyard/{self.project}/ledger.jsonl", check=False)
        return [json.loads(line) for line in text.splitlines()]  # every line parses, or this raises


@pytest.fixture(scope="module")
def lanes(tmp_path_factory: pytest.TempPathFactory, fixture_images: dict[str, str]) -> Iterator[list[Lane]]:
    from shipyard.sandbox import vms

    made: list[Lane] = []
    try:
        for index in range(LANES):
            project = f"shipyard-faults-{index}"
            root = tmp_path_factory.mktemp(project)
            shutil.copytree(FIXTURE, root / "app")
            (root / "shipyard.yaml").write_text(config(project, {"target": "vm", "hosts": [{"address": "x"}]}))
            state = vms.up(root, project, 2, printer=lambda _line: None, health_timeout=20, watch_window=1)
            env = vms.environment(state, health_timeout=20, watch_window=1)
            env["deploy"]["pre_cutover"] = {"app": "test -n \"$SHIPYARD_RELEASE\""}
            env.pop("accessories", None)
            (root / "shipyard.yaml").write_text(config(project, env))
            lane = Lane(project, root, state.vms)
            made.append(lane)
            setup = lane.shipyard("deploy.setup", "--env", "faults")
            assert setup.returncode == 0, setup.stdout + setup.stderr
            first = lane.shipyard("deploy", "--env", "faults", "--sha", A)
            assert first.returncode == 0, first.stdout + first.stderr
            lane.live = A
        yield made
    finally:
        for lane in made:
            vms.down(lane.root, lane.project, printer=lambda _line: None)


def matrix(action: str) -> list[str]:
    points = [p for p in faults.POINTS if action != "kill" or p == "before-lock" or p.startswith("after-")]
    chosen = {p.strip() for p in os.environ.get("SHIPYARD_FAULT_POINTS", "").split(",") if p.strip()}
    return [p for p in points if p in chosen] if chosen else points


def serving(lane: Lane, vm: Any, release: str, timeout: float = 30) -> str | None:
    """None once the VM's proxy answers with `release`; else what it answered last."""
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            last = httpx.get(f"http://127.0.0.1:{vm.http_port}/", timeout=5).text.strip()
            if last == release:
                return None
        except httpx.HTTPError as exc:
            last = f"{exc.__class__.__name__}"
        time.sleep(0.2)
    return last


def tail(proc: subprocess.CompletedProcess[str], lines: int = 12) -> str:
    return " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-lines:])


def one(lane: Lane, action: str, point: str) -> tuple[bool, list[str]]:
    """Run one (action, point) on a lane: (whether the fault fired, the problems found)."""
    target = B if lane.live == A else A
    problems: list[str] = []
    if point in PULL_POINTS:  # make the hosts pull
        for vm in lane.vms:
            lane.on_vm(vm, "docker", "image", "rm", image(target), check=False)
    if point in STALE_POINTS:  # a killed deploy leaves the new colour's container behind
        lane.shipyard("deploy", "--env", "faults", "--sha", target, fault="kill@after-start")
    command = ["deploy", "--env", KEEP_POINTS.get(point, "faults"), "--sha", target]
    if point.endswith("-restart-kept"):  # the target kept stopped in the other colour, then a rollback to it
        for args in (["deploy", "--env", "faults-stop", "--sha", target],
                     ["rollback", "--env", "faults-stop", "--sha", lane.live]):
            arranged = lane.shipyard(*args)
            if arranged.returncode != 0:
                problems.append(f"arranging a kept stopped colour: {' '.join(args)}: {tail(arranged)}")
        command = ["rollback", "--env", "faults-stop", "--sha", target]
    loads = [LoadGenerator(vm.http_port, releases={A, B}, rate=15, clients=2, max_seconds=240, timeout=10)
             for vm in lane.vms]
    for load in loads:
        load.__enter__()
    try:
        time.sleep(0.3)
        cause = CAUSES.get(point.split("-", 1)[1])
        faulted = lane.shipyard(*command, fault=f"{cause},{action}@{point}" if cause else f"{action}@{point}")
        fired = f"fault injected: {action}@{point} on " in faulted.stderr
        converged = lane.shipyard("deploy", "--env", "faults", "--sha", target)
        time.sleep(0.3)
    finally:
        reports = [load.stop() for load in loads]
    if not fired:
        problems.append(f"the fault never fired (exit {faulted.returncode}): {tail(faulted)}")
    if converged.returncode != 0:
        problems.append(f"the next deploy did not converge: {tail(converged)}")
    for vm, report in zip(lane.vms, reports, strict=True):
        if report.failed or report.reopened or report.total < 5:
            problems.append(f"{vm.name}: load {report.summary()}")
    for vm in lane.vms:  # a proxy restart and deploy.setup keep the same colour serving
        lane.on_vm(vm, "docker", "restart", f"{lane.project}-proxy")
    setup = lane.shipyard("deploy.setup", "--env", "faults")
    if setup.returncode != 0:
        problems.append(f"deploy.setup after the proxy restarts failed: {(setup.stderr or setup.stdout)[-300:]}")
    for vm in lane.vms:
        answered = serving(lane, vm, target)
        if answered is not None:
            problems.append(f"{vm.name}: after a proxy restart and setup it answers {answered!r}, not {target}")
            continue
        persisted, servers, containers = lane.state(vm)
        live = [srv for srv, (admin, up) in servers.items() if srv in ("blue", "green") and admin == "ready" and up]
        if len(live) != 1 or persisted.get("app") != live[0]:
            problems.append(f"{vm.name}: haproxy.cfg records {persisted}, the runtime serves {live} ({servers})")
        if sorted(containers.values()) != [target]:
            problems.append(f"{vm.name}: app containers {containers}, expected one running {target}")
        try:
            lane.ledger_lines(vm)
        except ValueError as exc:
            problems.append(f"{vm.name}: the ledger has a line that does not parse: {exc}")
    lane.live = target
    return fired, problems


@pytest.mark.parametrize("action", faults.ACTIONS)
def test_fault_matrix_heals_with_no_manual_step(lanes: list[Lane], action: str) -> None:
    points = matrix(action)
    queues = [points[i::len(lanes)] for i in range(len(lanes))]
    started = time.monotonic()

    def work(lane: Lane, queue: list[str]) -> list[tuple[str, bool, list[str]]]:
        return [(point, *one(lane, action, point)) for point in queue]

    with ThreadPoolExecutor(len(lanes)) as pool:
        results = [r for chunk in pool.map(work, lanes, queues) for r in chunk]
    print(f"{action}: {len(results)} points in {time.monotonic() - started:.0f}s on {len(lanes)} lane(s)")
    failures = [f"{action}@{point}: {'; '.join(problems)}" for point, _, problems in results if problems]
    assert not failures, "\n".join(failures)
    assert all(fired for _, fired, _ in results)

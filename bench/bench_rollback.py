"""Rollback speed on three sandbox VMs for each deploy.previous_colour (real SSH, registry, HAProxy).

    .venv/bin/python bench/bench_rollback.py [--runs 10] [--keep]

Targets (issue 11), from the `shipyard rollback` command (a fresh process: CLI start-up included) to every one
of the 3 hosts answering with the old release through its proxy, median and worst of >= 10 runs:
  - to a running standby (previous_colour: standby): <= 1 s;
  - to a stopped one (previous_colour: stop): <= 2 s;
  - to a retained release whose image is on the hosts (previous_colour: remove): <= 3 s.
Each run deploys B (not timed), starts one light keep-alive client per host (20 req/s: it sees when the old
release answers, and counts failed requests), then runs `shipyard rollback --sha A`. A rollback that fails, or
whose old release does not answer on every host within --timeout, is a miss: counted, shown as the worst.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

from _stats import Miss, Row, Runs, main_of, repeat, short
from bench_deploy import HOSTS, PROJECT, REGISTRY, SHIPYARD, STARTUP, A, B, fixture_sandbox, shipyard

from shipyard.sandbox import vms
from shipyard.sandbox.load import LoadGenerator

TARGETS = {"standby": 1.0, "stop": 2.0, "remove": 3.0}
WATCH = 1.0


def startup(root: Path) -> float:
    """A fresh interpreter importing what `shipyard rollback` imports and loading shipyard.yaml."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", STARTUP.replace("'three'", "'standby'")], cwd=root, check=True,
                   capture_output=True, timeout=120)
    return time.monotonic() - start


def write_config(root: Path, state: vms.SandboxState) -> None:
    """One environment per policy over the same 3 VMs (a deploy with one policy leaves the hosts in its shape)."""
    base = vms.environment(state, health_timeout=30, watch_window=WATCH)
    envs = {policy: {**base, "hosts": base["hosts"][:HOSTS],
                     "deploy": {**base.get("deploy", {}), "watch_window": WATCH, "previous_colour": policy}}
            for policy in TARGETS}
    (root / "shipyard.yaml").write_text(
        f"project: {PROJECT}\nregistry: {{address: {REGISTRY}, namespace: bench}}\n"
        "services:\n  app: {port: 8000, public: true}\n" f"environments: {json.dumps(envs)}\n")


def rollback_once(root: Path, ports: list[int], policy: str, timeout: float, failed: Runs) -> float:
    shipyard(root, "deploy", "--env", policy, "--sha", B)  # B live, A kept as the policy says (not timed)
    with contextlib.ExitStack() as stack:
        loads = [stack.enter_context(LoadGenerator(port, releases={A, B}, rate=20, clients=1, max_seconds=120))
                 for port in ports]
        time.sleep(0.3)
        if any(load.wait_for(A, timeout=0.01) is not None for load in loads):
            raise Miss("a host already answered with A before the rollback")
        start = time.monotonic()
        process = subprocess.Popen([SHIPYARD, "rollback", "--env", policy, "--sha", A], cwd=root,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen = [load.wait_for(A, timeout=max(0.0, start + timeout - time.monotonic())) for load in loads]
        try:
            _, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise Miss("`shipyard rollback` did not finish within 300 s") from None
    failed.values.append(sum(load.report.failed for load in loads))
    if process.returncode != 0:
        raise Miss(f"`shipyard rollback` exited {process.returncode}: {(err.strip() or '?').splitlines()[-1]}")
    missing = [f"host {i + 1}" for i, t in enumerate(seen) if t is None]
    if missing:
        raise Miss(f"A did not answer on {', '.join(missing)} within {timeout:g} s")
    return max(t for t in seen if t is not None) - start


def measure(root: Path, state: vms.SandboxState, args: argparse.Namespace) -> list[Row]:
    setup = Runs()
    setup.attempt(lambda: shipyard(root, "deploy.setup", "--env", "remove", timeout=600))
    if setup.misses:
        return [Row.failed("rollback bench", f"deploy.setup failed, nothing measured: {setup.misses[0]}")]
    for sha in (A, B, A):  # both images on every host before anything is timed
        shipyard(root, "deploy", "--env", "remove", "--sha", sha)
    cli = repeat(lambda: startup(root), 5)
    ports = [vm.http_port for vm in state.vms[:HOSTS]]
    out = [Row.of("  fixed: CLI start-up (fresh interpreter, deploy's imports, config)", cli)]
    for policy, limit in TARGETS.items():
        failed = Runs()
        runs = Runs()
        for _ in range(args.runs):
            runs.attempt(lambda policy=policy, failed=failed: rollback_once(root, ports, policy, args.timeout, failed))
        shipyard(root, "deploy", "--env", "remove", "--sha", A)  # back to one colour between policies
        label = {"standby": "a running standby", "stop": "a stopped colour",
                 "remove": "a removed colour, image on the hosts"}[policy]
        out.append(Row.of(f"rollback to {label} ({policy}), command -> A on all {HOSTS} hosts", runs,
                          limit=limit, judge="worst"))
        out.append(Row.of(f"  failed requests per rollback ({policy})", failed, unit="failed", limit=0,
                          judge="worst"))
    return out


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="rollbacks per policy (default 10)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the old release")
    parser.add_argument("--keep", action="store_true", help="leave the VMs running afterwards")
    args = parser.parse_args(argv)

    try:
        with fixture_sandbox("bench_rollback", keep=args.keep) as (root, state):
            write_config(root, state)
            return measure(root, state, args)
    except Exception as exc:
        return [Row.failed("rollback bench", short(exc))]


def main() -> int:
    return main_of(rows, f"Rollback on {HOSTS} sandbox VMs, per deploy.previous_colour")


if __name__ == "__main__":
    sys.exit(main())

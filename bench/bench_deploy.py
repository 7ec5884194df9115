"""Blue/green deploy speed and safety on sandbox VMs (real SSH, real registry, real HAProxy).

    .venv/bin/python bench/bench_deploy.py [--rounds 3] [--keep]

Targets (issue 4):
  - deploy to 1 and to 3 hosts with the image already pushed: 3 hosts <= 1.3x one host;
  - rollback with the image present, from the command to traffic on the old release: <= 5 s;
  - failed/total requests during deploys and during rollbacks at >= 100 req/s: 0 of >= 5,000 each.

Every figure is measured end to end: the `shipyard` CLI in a fresh process (interpreter start-up, SSH
connections, lock, facts, pull when needed, health, switch, verify, a 2 s watch window, retire, ledger).
Load comes from keep-alive HTTP/1.1 clients that never retry, through host 1's proxy on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shipyard.sandbox import vms
from shipyard.sandbox.load import LoadGenerator, LoadReport

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "e2e" / "fixtures" / "app"
PROJECT = "shipyard-bench"
REGISTRY = "127.0.0.1:5000"
A, B = "aaaa5555aaaa", "bbbb6666bbbb"
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
RATE = 150.0


def image(tag: str) -> str:
    return f"{REGISTRY}/bench/app:{tag}"


def build_images() -> None:
    for tag in (A, B):
        subprocess.run(["docker", "build", "--force-rm", "-q", "--build-arg",
                        "BASE_IMAGE=shipyard-base/python:bookworm", "-t", image(tag), str(FIXTURE)],
                       check=True, capture_output=True)
        subprocess.run(["docker", "push", image(tag)], check=True, capture_output=True)


def write_config(root: Path, state: vms.SandboxState) -> None:
    def env(machines: list[vms.SandboxVm]) -> dict[str, object]:
        return {"target": "vm",
                "hosts": [{"address": "127.0.0.1", "port": m.ssh_port, "name": m.name} for m in machines],
                "ssh": {"user": "root", "key": state.key, "known_hosts": state.known_hosts},
                "proxy": {"image": vms.PROXY_IMAGE, "http_port": 80},
                "deploy": {"strategy": "parallel", "health_timeout": 30, "watch_window": 2},
                "overrides": {"registry": {"address": REGISTRY, "insecure": True}}}

    envs = {"one": env(state.vms[:1]), "three": env(state.vms[:3])}
    (root / "shipyard.yaml").write_text(
        f"project: {PROJECT}\nregistry: {{address: {REGISTRY}, namespace: bench}}\n"
        "services:\n  app: {port: 8000, public: true}\n" f"environments: {json.dumps(envs)}\n")


def shipyard(root: Path, *args: str) -> float:
    start = time.monotonic()
    result = subprocess.run([SHIPYARD, *args], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"}, timeout=600)
    took = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"`shipyard {' '.join(args)}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return took


def deploy_times(root: Path, env: str, rounds: int) -> list[float]:
    """Alternate B and A; the first pair pulls onto fresh hosts and is not counted."""
    shipyard(root, "deploy", "--env", env, "--sha", B)
    shipyard(root, "deploy", "--env", env, "--sha", A)
    times = []
    for _ in range(rounds):
        times.append(shipyard(root, "deploy", "--env", env, "--sha", B))
        times.append(shipyard(root, "deploy", "--env", env, "--sha", A))
    return times


def add(total: LoadReport, part: LoadReport) -> None:
    total.total += part.total
    total.failed += part.failed
    total.errors.update(part.errors)
    total.versions.update(part.versions)
    total.stopped += part.stopped - part.started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="deploy pairs per host count (default 3)")
    parser.add_argument("--requests", type=int, default=5000, help="minimum requests per kind (default 5000)")
    parser.add_argument("--keep", action="store_true", help="leave the VMs running afterwards")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="shipyard-bench-"))
    shutil.copytree(FIXTURE, root / "app")
    print("bench: building and pushing the fixture images, starting 3 sandbox VMs ...", flush=True)
    build_images()
    state = vms.up(root, PROJECT, 3, printer=lambda _line: None)
    write_config(root, state)
    try:
        shipyard(root, "deploy.setup", "--env", "three")
        one = deploy_times(root, "one", args.rounds)
        three = deploy_times(root, "three", args.rounds)
        port = state.vms[0].http_port

        rollback_to_traffic: list[float] = []
        during_deploy, during_rollback = LoadReport(), LoadReport()
        while during_deploy.total < args.requests or during_rollback.total < args.requests:
            with LoadGenerator(port, rate=RATE, clients=8, max_seconds=120) as load:
                time.sleep(0.3)
                shipyard(root, "deploy", "--env", "three", "--sha", B)
            add(during_deploy, load.report)
            with LoadGenerator(port, rate=RATE, clients=8, max_seconds=120) as load:
                time.sleep(0.3)
                start = time.monotonic()
                process = subprocess.Popen([SHIPYARD, "rollback", "--env", "three", "--sha", A], cwd=root,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                seen = load.wait_for(A, timeout=60)
                if seen is not None:
                    rollback_to_traffic.append(seen - start)
                _, err = process.communicate(timeout=300)
                if process.returncode != 0:
                    raise SystemExit(f"rollback failed: {err[-2000:]}")
            add(during_rollback, load.report)
    finally:
        if not args.keep:
            vms.down(root, PROJECT, printer=lambda _line: None)
            shutil.rmtree(root, ignore_errors=True)

    med1, med3 = statistics.median(one), statistics.median(three)
    worst = max(rollback_to_traffic) if rollback_to_traffic else float("nan")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"deploy, image pushed and on the hosts, 1 host : median {med1:5.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in one)})")
    print(f"deploy, image pushed and on the hosts, 3 hosts: median {med3:5.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in three)})")
    print(f"  3 hosts / 1 host = {med3 / med1:.2f}x  (target <= 1.30x: {'PASS' if med3 / med1 <= 1.3 else 'FAIL'})")
    print(f"rollback (image present), command -> first answer from the old release: median "
          f"{statistics.median(rollback_to_traffic):.2f} s, worst {worst:.2f} s over {len(rollback_to_traffic)} "
          f"(target <= 5 s: {'PASS' if worst <= 5 else 'FAIL'})")
    for name, report in (("deploys", during_deploy), ("rollbacks", during_rollback)):
        rate = report.total / report.stopped if report.stopped else 0
        ok = report.failed == 0 and report.total >= args.requests and rate >= 100
        print(f"during {name:<9}: {report.failed} failed of {report.total} requests at {rate:.0f} req/s "
              f"(target 0 of >= {args.requests} at >= 100 req/s: {'PASS' if ok else 'FAIL'})")


if __name__ == "__main__":
    main()

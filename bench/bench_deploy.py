"""Blue/green deploy speed and safety on three sandbox VMs (real SSH, real registry, real HAProxy).

    .venv/bin/python bench/bench_deploy.py [--runs 3] [--cycles 5] [--keep]

Targets (issue 4):
  - deploy with the image pushed and on the hosts: 3 hosts in parallel <= 1.3x one host, compared on the work
    that depends on the hosts: each deploy's end-to-end time minus its fixed costs (median over median);
  - rollback with the image present, from the command to the old release answering on *every one* of the 3
    hosts: <= 5 s for every rollback (the worst);
  - requests during deploys and during rollbacks, through all 3 hosts' proxies at >= 100 req/s each:
    0 failed of >= 5,000 per kind (a request fails when it gets no answer, an error, or neither release).

Every deploy and rollback is the `shipyard` CLI in a fresh process, end to end (interpreter start-up, SSH
connections, lock, facts, pull when needed, health, switch, verify, a 2 s watch window, retire, ledger).
The fixed costs, which do not grow with the number of hosts, are measured and reported on their own rows:
  - CLI start-up: a fresh interpreter importing what `shipyard deploy` imports and loading shipyard.yaml,
    that is everything before the first host is touched;
  - the watch window: each deploy's `watch` phase, read from the hosts' ledgers (the slowest host's).
Load comes from one generator per host (keep-alive HTTP/1.1 clients that never retry) through that host's
proxy on 127.0.0.1. Nothing is dropped: a deploy or rollback that fails, and a rollback whose old release does
not answer on every host within --rollback-timeout, is a miss: counted in N, shown as the worst, verdict FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _stats import Miss, Row, Runs, main_of, repeat, short

from shipyard.sandbox import vms
from shipyard.sandbox.load import LoadGenerator

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "e2e" / "fixtures" / "app"
PROJECT = "shipyard-bench"
REGISTRY = "127.0.0.1:5000"
A, B = "aaaa5555aaaa", "bbbb6666bbbb"
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
HOSTS, WATCH = 3, 2.0
RATIO_TARGET, ROLLBACK_TARGET, MIN_RATE, RATE = 1.3, 5.0, 100.0, 110.0
#: What a `shipyard deploy` process does before it touches a host: imports and configuration.
STARTUP = ("import fabric, shipyard.cli, shipyard.targets.vm.bluegreen, shipyard.targets.images\n"
           "from shipyard.config import load\nfrom shipyard.targets.vm.target import Target\n"
           "Target.from_config(load('shipyard.yaml'), 'three')\n")


def image(tag: str) -> str:
    return f"{REGISTRY}/bench/app:{tag}"


def build_images() -> None:
    for tag in (A, B):
        subprocess.run(["docker", "build", "--force-rm", "-q", "--build-arg",
                        "BASE_IMAGE=shipyard-base/python:bookworm", "-t", image(tag), str(FIXTURE)],
                       check=True, capture_output=True, timeout=600)
        subprocess.run(["docker", "push", image(tag)], check=True, capture_output=True, timeout=600)


@contextlib.contextmanager
def fixture_sandbox(name: str, *, keep: bool) -> Iterator[tuple[Path, vms.SandboxState]]:
    """A scratch project with the fixture app, its images built and pushed, and HOSTS sandbox VMs: (root, state).
    Afterwards the VMs are removed with the project, unless `keep`."""
    root = Path(tempfile.mkdtemp(prefix=f"shipyard-{name}-"))
    shutil.copytree(FIXTURE, root / "app")
    print(f"{name}: building and pushing the fixture images, starting {HOSTS} sandbox VMs ...", flush=True)
    try:
        build_images()
        yield root, vms.up(root, PROJECT, HOSTS, printer=lambda _line: None)
    finally:
        if keep:
            print(f"{name}: VMs kept; project {root} (`vms.down` it with project {PROJECT})")
        else:
            vms.down(root, PROJECT, printer=lambda _line: None)
            shutil.rmtree(root, ignore_errors=True)


def write_config(root: Path, state: vms.SandboxState) -> None:
    """Two environments over the sandbox's VMs, shaped like the generated `sandbox` one: host 1, hosts 1-3."""
    base = vms.environment(state, health_timeout=30, watch_window=WATCH)
    envs = {"one": {**base, "hosts": base["hosts"][:1]}, "three": {**base, "hosts": base["hosts"][:HOSTS]}}
    (root / "shipyard.yaml").write_text(
        f"project: {PROJECT}\nregistry: {{address: {REGISTRY}, namespace: bench}}\n"
        "services:\n  app: {port: 8000, public: true}\n" f"environments: {json.dumps(envs)}\n")


def shipyard(root: Path, *args: str, timeout: float = 300) -> float:
    """Seconds the CLI took; a miss when it fails or hangs."""
    start = time.monotonic()
    try:
        result = subprocess.run([SHIPYARD, *args], cwd=root, capture_output=True, text=True, timeout=timeout,
                                env={**os.environ, "COLUMNS": "200"})
    except subprocess.TimeoutExpired:
        raise Miss(f"`shipyard {' '.join(args)}` did not finish within {timeout:g} s") from None
    took = time.monotonic() - start
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise Miss(f"`shipyard {' '.join(args)}` exited {result.returncode}: {last[:160]}")
    return took


def startup(root: Path) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", STARTUP], cwd=root, check=True, capture_output=True, timeout=120)
    return time.monotonic() - start


def watch_phase(root: Path, env: str) -> float:
    """The latest deploy's watch phase from every host's ledger: the slowest host's (they watch in parallel)."""
    from shipyard.config import load
    from shipyard.targets.vm.admin import ledgers
    from shipyard.targets.vm.target import Target

    seconds = []
    for host, entries in ledgers(Target.from_config(load(root / "shipyard.yaml"), env), 1).items():
        if isinstance(entries, BaseException) or not entries or "watch" not in entries[-1].phases:
            raise Miss(f"{host}: no watch phase in the ledger ({entries if isinstance(entries, Exception) else ''})")
        seconds.append(entries[-1].phases["watch"])
    return max(seconds)


class Deploys:
    """Deploys alternating B and A to one environment: end to end, the watch phase, and the two subtracted."""

    def __init__(self, root: Path, env: str, pair: tuple[str, str] = (A, B)) -> None:
        self.root, self.env, self.pair = root, env, pair
        self.total, self.watch, self.minus_watch = Runs(), Runs(), Runs()

    def measure(self, rounds: int) -> Deploys:
        a, b = self.pair
        for sha in (b, a):  # the first pair pulls onto fresh hosts: not counted
            Runs().attempt(lambda sha=sha: shipyard(self.root, "deploy", "--env", self.env, "--sha", sha))
        for _ in range(rounds):
            for sha in (b, a):
                took = self.total.attempt(lambda sha=sha: shipyard(self.root, "deploy", "--env", self.env,
                                                                   "--sha", sha))
                if took is None:
                    self.minus_watch.misses.append("the deploy missed")
                    continue
                watch = self.watch.attempt(lambda: watch_phase(self.root, self.env))
                if watch is None:
                    self.minus_watch.misses.append("its watch phase could not be read from the ledger")
                    continue
                self.minus_watch.values.append(took - watch)
        return self

    def net(self, cli: float) -> Runs:
        """End to end minus both fixed costs: this deploy's watch phase and the median CLI start-up."""
        return Runs([v - cli for v in self.minus_watch.values], list(self.minus_watch.misses))


class UnderLoad:
    """Deploy B, then roll back to A, each with every host's proxy loaded; requests and rollback times per host."""

    def __init__(self, root: Path, ports: list[int], rate: float, clients: int, rollback_timeout: float,
                 pair: tuple[str, str] = (A, B), loads_of: Callable[[int], list[LoadGenerator]] | None = None) -> None:
        """`pair`: the releases (old, new); `loads_of(port)`: the load generators for one host's proxy (default:
        one of `clients` clients at `rate` on the fixture's page), their rates adding up to the host's rate."""
        self.root, self.ports, self.rate, self.clients = root, ports, rate, clients
        self.rollback_timeout, self.pair = rollback_timeout, pair
        self.loads_of = loads_of or (lambda port: [LoadGenerator(port, releases=set(pair), rate=rate, clients=clients,
                                                                 max_seconds=180)])
        self.deploys, self.rollbacks = Runs(), Runs()
        self.per_host: list[list[float]] = [[] for _ in ports]
        self.failed: dict[str, Runs] = {"deploys": Runs(), "rollbacks": Runs()}
        self.requests: dict[str, int] = {"deploys": 0, "rollbacks": 0}
        self.rates: dict[str, Runs] = {"deploys": Runs(), "rollbacks": Runs()}
        self.errors: dict[str, Counter[str]] = {"deploys": Counter(), "rollbacks": Counter()}

    def cycle(self) -> None:
        self._loaded("deploys", lambda loads: self.deploys.attempt(
            lambda: shipyard(self.root, "deploy", "--env", "three", "--sha", self.pair[1][:12])))
        self._loaded("rollbacks", lambda loads: self.rollbacks.attempt(lambda: self._rollback(loads)))

    def _loaded(self, kind: str, body: Callable[[list[Any]], object]) -> None:
        with contextlib.ExitStack() as stack:
            per_host = [[stack.enter_context(load) for load in self.loads_of(port)] for port in self.ports]
            time.sleep(0.3)
            body(per_host)
        reports = [[load.report for load in loads] for loads in per_host]
        self.failed[kind].values.append(sum(r.failed for host in reports for r in host))
        self.requests[kind] += sum(r.total for host in reports for r in host)
        self.rates[kind].values.extend(sum(r.rate for r in host) for host in reports)
        reports = [r for host in reports for r in host]
        for r in reports:
            self.errors[kind].update(r.errors)

    def _rollback(self, per_host: list[list[Any]]) -> float:
        old = self.pair[0]
        if any(load.wait_for(old, timeout=0.05) is not None for loads in per_host for load in loads):
            raise Miss("a host already answered with the old release before the rollback (its deploy missed)")
        start = time.monotonic()
        process = subprocess.Popen([SHIPYARD, "rollback", "--env", "three", "--sha", old[:12]], cwd=self.root,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def rolled_back(loads: list[Any]) -> float | None:
            """When every load on a host (every service) has seen the old release; None if one never did."""
            times = [load.wait_for(old, timeout=max(0.0, start + self.rollback_timeout - time.monotonic()))
                     for load in loads]
            return None if any(t is None for t in times) else max(t for t in times if t is not None)

        try:
            seen = [rolled_back(loads) for loads in per_host]
            _, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise Miss("`shipyard rollback` did not finish within 300 s") from None
        if process.returncode != 0:
            raise Miss(f"`shipyard rollback` exited {process.returncode}: {(err.strip() or '?').splitlines()[-1]}")
        missing = [f"host {i + 1}" for i, t in enumerate(seen) if t is None]
        if missing:
            raise Miss(f"the old release did not answer on {', '.join(missing)} within {self.rollback_timeout:g} s")
        took = [t - start for t in seen if t is not None]
        for host, seconds in zip(self.per_host, took, strict=True):
            host.append(seconds)
        return max(took)

    def rows(self, target_requests: int) -> list[Row]:
        host_medians = ", ".join(f"host {i + 1} {statistics.median(v):.2f} s" for i, v in enumerate(self.per_host)
                                 if v)
        out = [Row.of(f"deploy, {HOSTS} hosts, under load, end to end", self.deploys),
               Row.of(f"rollback, command -> old release answering on all {HOSTS} hosts", self.rollbacks,
                      limit=ROLLBACK_TARGET, judge="worst",
                      note=f"per host, median: {host_medians}" if host_medians else "")]
        for kind in ("deploys", "rollbacks"):
            errors = ", ".join(f"{k} x{v}" for k, v in self.errors[kind].most_common(3))
            out += [Row.of(f"failed requests per {kind[:-1]}, all {HOSTS} hosts", self.failed[kind], unit="failed",
                           limit=0, judge="worst", note=f"errors: {errors}" if errors else ""),
                    Row.total(f"requests during {kind}, all {HOSTS} hosts", self.requests[kind],
                              len(self.failed[kind].values), limit=target_requests),
                    Row.of(f"request rate per host during {kind}", self.rates[kind], unit="req/s", limit=MIN_RATE,
                           judge="worst", higher_is_better=True)]
        return out


def measure(root: Path, state: vms.SandboxState, args: argparse.Namespace) -> list[Row]:
    setup = Runs()
    setup.attempt(lambda: shipyard(root, "deploy.setup", "--env", "three", timeout=600))
    if setup.misses:
        return [Row.failed("deploy bench", f"deploy.setup failed, nothing measured: {setup.misses[0]}")]
    cli = repeat(lambda: startup(root), max(5, args.runs))
    one = Deploys(root, "one").measure(args.runs)
    three = Deploys(root, "three").measure(args.runs)
    load = UnderLoad(root, [vm.http_port for vm in state.vms[:HOSTS]], args.rate, args.clients,
                     args.rollback_timeout)
    try:
        for _ in range(args.cycles):
            load.cycle()
        under_load = load.rows(args.requests)
    except Exception as exc:  # the load phase itself broke: say so, and keep the figures measured before it
        under_load = [Row.failed("deploys and rollbacks under load", f"the load phase broke: {short(exc)}")]
    return deploy_rows(one, three, cli) + under_load


def deploy_rows(one: Deploys, three: Deploys, cli: Runs, label: str = "") -> list[Row]:
    """1 host vs 3: end to end, the fixed costs on their own rows, and the ratio with them taken out."""
    watch = Runs(one.watch.values + three.watch.values, one.watch.misses + three.watch.misses)
    fixed = statistics.median(cli.values) if cli.values else float("nan")
    net_one, net_three = one.net(fixed), three.net(fixed)
    return [Row.of(f"{label}deploy, 1 host, end to end", one.total),
            Row.of(f"{label}deploy, {HOSTS} hosts in parallel, end to end", three.total),
            Row.of("  fixed: CLI start-up (fresh interpreter, deploy's imports, config)", cli),
            Row.of(f"  fixed: watch window ({WATCH:g} s configured; ledger, slowest host)", watch),
            Row.of(f"{label}deploy, 1 host, minus fixed costs", net_one),
            Row.of(f"{label}deploy, {HOSTS} hosts, minus fixed costs", net_three),
            Row.ratio(f"{label}{HOSTS} hosts / 1 host, end to end (fixed costs included)", three.total, one.total,
                      note="not the target: the fixed costs hide the ratio"),
            Row.ratio(f"{label}{HOSTS} hosts / 1 host, minus fixed costs", net_three, net_one, limit=RATIO_TARGET,
                      note="worst = slowest 3-host deploy over the median 1-host deploy")]


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--rounds", type=int, default=3, help="deploy pairs per host count (default 3)")
    parser.add_argument("--cycles", type=int, default=5, help="deploy + rollback pairs under load (default 5)")
    parser.add_argument("--requests", type=int, default=5000, help="minimum requests per kind (default 5000)")
    parser.add_argument("--rate", type=float, default=RATE,
                        help=f"requests per second per host (default {RATE:g}: above the {MIN_RATE:g} target, "
                             "which counts the time the clients take to stop)")
    parser.add_argument("--clients", type=int, default=6, help="keep-alive clients per host (default 6)")
    parser.add_argument("--rollback-timeout", type=float, default=60, help="seconds to wait for the old release")
    parser.add_argument("--keep", action="store_true", help="leave the VMs running afterwards")
    args = parser.parse_args(argv)

    with fixture_sandbox("bench_deploy", keep=args.keep) as (root, state):
        write_config(root, state)
        return measure(root, state, args)


def main() -> int:
    return main_of(rows, f"Deploy on {HOSTS} sandbox VMs")


if __name__ == "__main__":
    sys.exit(main())

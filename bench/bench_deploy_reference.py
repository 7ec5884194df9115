"""The reference stack (api + web built from this repository, PostgreSQL and Redis accessories on host 1) deployed
to 1 and to 3 sandbox VMs, and rolled back, through the real CLI (real SSH, registry, HAProxy).

    .venv/bin/python bench/bench_deploy_reference.py [--runs 5] [--cycles 5] [--keep]

What bench_deploy.py measures on its one-container fixture, measured on the product's own stack:
  - deploy of a release whose images are already pushed, to 1 host and to 3 hosts in parallel, end to end
    (each deploy also runs the api's release command, the schema migration, once, before any host switches);
  - the fixed costs on their own rows: CLI start-up and the watch window (from the ledgers);
  - rollback from the command to the old release answering on every one of the 3 hosts, through the web and
    through the api (a host has rolled back when both answer with the old release);
  - failed/total requests during each deploy and each rollback at >= 100 req/s per host: two keep-alive load
    groups per host's proxy, one on the web's /api/health, one on the api's /api/v1/health (which reads
    PostgreSQL and Redis), each identifying the release from the answer's `version`.
Misses (a failed command, an old release that never answers) count in N and are the worst figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _stats import Row, main_of, repeat, short
from bench_deploy import HOSTS, WATCH, Deploys, UnderLoad, deploy_rows, startup

from shipyard.sandbox import vms
from shipyard.sandbox.load import LoadGenerator

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]  # copy_repo, as the e2e tests use it
PROJECT = "shipyard-benchref"
INVOKE = str(Path(sys.executable).with_name("invoke"))
BASES = {"PYTHON_IMAGE": "shipyard-base/python:bookworm", "NODE_IMAGE": "shipyard-base/node:bookworm"}
RATE = 110.0
LOG = Path(tempfile.gettempdir()) / "shipyard-bench-deploy-reference.log"  # the output of a setup step that failed


def version(body: str) -> str:
    """The release that answered: the `version` of a health answer (the full git SHA)."""
    try:
        return str(json.loads(body).get("version", ""))
    except ValueError:
        return ""


class Stack:
    """A copy of this repository, its sandbox, and two releases A and B built and pushed by `invoke deploy`."""

    def __init__(self, root: Path) -> None:
        from docker_stack import copy_repo, git

        self.git = git
        self.root = copy_repo(root)
        config = self.root / "shipyard.yaml"
        config.write_text(config.read_text().replace("project: shipyard-demo", f"project: {PROJECT}", 1))
        self.env = {**{k: v for k, v in os.environ.items() if k != "SHIPYARD_CONFIG"}, **BASES,
                    "POSTGRES_PASSWORD": secrets.token_hex(16), "COLUMNS": "200"}
        self.releases: list[str] = []

    def invoke(self, *args: str, timeout: float = 1800) -> str:
        proc = subprocess.run([INVOKE, "-r", str(ROOT), *args], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            LOG.write_text(proc.stdout + proc.stderr, encoding="utf-8")
            raise RuntimeError(f"invoke {' '.join(args)} exited {proc.returncode} (its output: {LOG}): "
                               f"{(proc.stderr.strip() or proc.stdout.strip())[-300:]}")
        return proc.stdout

    def commit(self, message: str) -> str:
        self.git(self.root, "add", "-A")
        self.git(self.root, "-c", "user.email=bench@example.invalid", "-c", "user.name=bench", "commit", "-q",
                 "--allow-empty", "-m", message)
        return self.git(self.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports

    def up(self) -> vms.SandboxState:
        self.releases.append(self.commit("release A"))
        self.invoke("sandbox.up", "--hosts", str(HOSTS), "--health-timeout", "120")
        state = vms.SandboxState.load(self.root)
        assert state is not None
        self.invoke("deploy", "--env", "sandbox")  # builds and pushes A, boots the accessories, deploys A
        self.releases.append(self.commit("release B"))
        self.invoke("deploy", "--env", "sandbox")  # B: only the version stamp differs from A
        base = vms.environment(state, health_timeout=120, watch_window=WATCH)
        envs = {"one": {**base, "hosts": base["hosts"][:1]}, "three": {**base, "hosts": base["hosts"][:HOSTS]}}
        config = self.root / "shipyard.yaml"
        text = config.read_text()
        text = text.replace("\nenvironments:\n", "\nenvironments:\n" + "".join(
            f"  {name}: {json.dumps(env)}\n" for name, env in envs.items()), 1)
        # the sandbox registry's password, which the generated `sandbox` environment declares for itself
        from shipyard.sandbox import registry as private

        secret = json.dumps({"file": str(private.password_file(PROJECT))})
        config.write_text(text.replace("\nsecrets:\n", f"\nsecrets:\n  {private.PASSWORD_SECRET}: {secret}\n", 1))
        self.commit("benchmark environments")  # not a new image: every deploy below names A or B by --sha
        return state


def loads_of(pair: tuple[str, str], rate: float, clients: int) -> Any:
    """Per host: half the rate on the web's health route, half on the api's (through the same proxy port)."""
    return lambda port: [LoadGenerator(port, releases=set(pair), identify=version, path=path, rate=rate / 2,
                                       clients=max(1, clients // 2), max_seconds=300, timeout=15)
                         for path in ("/api/health", "/api/v1/health")]


def measure(stack: Stack, state: vms.SandboxState, args: argparse.Namespace) -> list[Row]:
    os.environ.update({k: stack.env[k] for k in ("POSTGRES_PASSWORD", *BASES)})  # the CLI runs below inherit it
    pair = (stack.releases[0], stack.releases[1])
    cli = repeat(lambda: startup(stack.root), max(5, args.runs))
    one = Deploys(stack.root, "one", pair).measure(args.runs)
    three = Deploys(stack.root, "three", pair).measure(args.runs)
    load = UnderLoad(stack.root, [vm.http_port for vm in state.vms[:HOSTS]], args.rate, args.clients,
                     args.rollback_timeout, pair, loads_of(pair, args.rate, args.clients))
    try:
        for _ in range(args.cycles):
            load.cycle()
        under_load = load.rows(args.requests)
    except Exception as exc:  # the load phase itself broke: say so, and keep the figures measured before it
        under_load = [Row.failed("deploys and rollbacks under load", f"the load phase broke: {short(exc)}")]
    return deploy_rows(one, three, cli, "reference stack: ") + under_load


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="deploy pairs per host count (default 5)")
    parser.add_argument("--cycles", type=int, default=5, help="deploy + rollback pairs under load (default 5)")
    parser.add_argument("--requests", type=int, default=5000, help="minimum requests per kind (default 5000)")
    parser.add_argument("--rate", type=float, default=RATE, help=f"requests per second per host (default {RATE:g})")
    parser.add_argument("--clients", type=int, default=6, help="keep-alive clients per host (default 6)")
    parser.add_argument("--rollback-timeout", type=float, default=60, help="seconds to wait for the old release")
    parser.add_argument("--keep", action="store_true", help="leave the VMs running afterwards")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="shipyard-benchref-"))
    stack = Stack(scratch / "repo")
    print(f"bench_deploy_reference: building releases A and B of the reference stack, starting {HOSTS} sandbox"
          " VMs ...", flush=True)
    try:
        try:
            state = stack.up()
        except Exception as exc:
            return [Row.failed("reference stack deploy bench", f"setup failed, nothing measured: {short(exc)}")]
        return measure(stack, state, args)
    finally:
        if args.keep:
            print(f"bench_deploy_reference: VMs kept; project {stack.root} (`invoke sandbox.down` there)")
        else:
            vms.down(stack.root, PROJECT, printer=lambda _line: None)
            shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    return main_of(rows, f"Reference stack deploy on {HOSTS} sandbox VMs")


if __name__ == "__main__":
    sys.exit(main())

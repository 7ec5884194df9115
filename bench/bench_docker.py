"""Local stack benchmarks on the real engine: warm `docker.up` to healthy, hot reload latency, image sizes.

    .venv/bin/python bench/bench_docker.py [--runs 3] [--skip-sizes]

Targets (medians of --runs runs): warm docker.up <= 20 s, hot reload <= 3 s; api image <= 150 MB, web image
<= 200 MB (one build). Runs in a private copy of the monorepo (its own Compose project and free ports) with the
test bed's base images (override with PYTHON_IMAGE/NODE_IMAGE/POSTGRES_IMAGE/REDIS_IMAGE). Each row gives the
median and the worst of N; an up that fails or a reload not seen within 120 s is a miss (counted, verdict FAIL).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from _stats import Row, Runs, main_of, repeat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # ports, used by docker_stack
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from docker_stack import Stack, copy_repo, new_canary, stack_env

BASES = {"python": "shipyard-base/python:bookworm", "node": "shipyard-base/node:bookworm",
         "postgres": "shipyard-base/postgres:bookworm", "redis": "shipyard-base/redis:bookworm"}
BUDGET_MB = {"api": 150, "web": 200}
BASE_ARG = {"api": "PYTHON_IMAGE", "web": "NODE_IMAGE"}
PUBLIC_DEFAULT = {"api": "python:3.12.8-slim-bookworm", "web": "node:20.18.1-alpine3.20"}
MB = 1_000_000


def timed_up(stack: Stack) -> float:
    stack.invoke("docker.down", timeout=300)
    start = time.monotonic()
    stack.invoke("docker.up", timeout=900)
    return time.monotonic() - start


def reload_latency(stack: Stack, path: str, old: str, new_fmt: str, probe: Callable[[str], bool]) -> float:
    """Seconds from saving the edit to the first response that shows it."""
    file = stack.root / path
    original = file.read_text()
    marker = uuid.uuid4().hex[:8]
    try:
        file.write_text(original.replace(old, new_fmt.format(marker)))
        return stack.wait_for(lambda: probe(marker), 120, f"reload of {path}", interval=0.05)
    finally:
        file.write_text(original)
        time.sleep(1)


def sizes(stack: Stack) -> list[Row]:
    proc = stack.invoke("docker.build", "--allow-dirty", timeout=3600)
    refs = [line.split()[1] for line in proc.stdout.splitlines() if line.split()[:1] in (["api"], ["web"])]
    out = []
    for ref in refs:
        service = ref.rsplit("/", 1)[1].split(":")[0]
        base = stack.env[BASE_ARG[service]]
        size = int(stack.docker("image", "inspect", "--format", "{{.Size}}", ref))
        base_size = int(stack.docker("image", "inspect", "--format", "{{.Size}}", base))
        layers = stack.docker("history", "--human=false", "--format", "{{.Size}}", ref).split()
        base_layers = stack.docker("history", "--human=false", "--format", "{{.Size}}", base).split()
        own = sum(int(x) for x in layers[: len(layers) - len(base_layers)])
        out.append(Row.of(f"{service} image size", Runs([size / MB]), unit="MB", limit=BUDGET_MB[service],
                          note=f"base {base} {base_size / MB:.1f} MB; own layers {own / MB:.1f} MB, leaving "
                               f"{BUDGET_MB[service] - own / MB:.1f} MB for a base (public default: "
                               f"{PUBLIC_DEFAULT[service]})"))
    built = {row.target.split()[0] for row in out}
    return out + [Row.failed(f"{service} image size", "docker.build did not report this image", limit=mb, unit="MB")
                  for service, mb in BUDGET_MB.items() if service not in built]


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timing (default 3)")
    parser.add_argument("--skip-sizes", action="store_true", help="do not build release images")
    args = parser.parse_args(argv)
    subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=60)
    bases = {key: os.environ.get(f"{key.upper()}_IMAGE", value) for key, value in BASES.items()}
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
        root = copy_repo(Path(tmp) / "repo")
        env, ports = stack_env(bases, new_canary(), f"sybench-{uuid.uuid4().hex[:6]}")
        stack = Stack(root=root, env=env, canary=env["POSTGRES_PASSWORD"], ports=ports)
        try:
            first = repeat(lambda: _first_up(stack), 1)
            out = [Row.of("docker.up, first (builds what is missing)", first)]
            if first.misses:  # nothing else can be measured without a running stack
                return [*out, *(Row.failed(name, "the first docker.up failed", limit=limit) for name, limit in
                                (("warm docker.up to healthy", 20), ("hot reload, web", 3), ("hot reload, api", 3)))]
            out.append(Row.of("warm docker.up to healthy", repeat(lambda: timed_up(stack), args.runs), limit=20))
            httpx.get(stack.url("web"), timeout=120)  # first compile of the page, outside the measurement

            def web_probe(marker: str) -> bool:
                return f"Items {marker}" in httpx.get(stack.url("web"), timeout=60).text

            def api_probe(marker: str) -> bool:
                return httpx.get(stack.url("api", "/health"), timeout=5).json()["service"] == f"api-{marker}"

            web = repeat(lambda: reload_latency(stack, "apps/web/app/page.tsx", 'const HEADING = "Shipyard items";',
                                                'const HEADING = "Items {}";', web_probe), args.runs)
            api = repeat(lambda: reload_latency(stack, "apps/api/app/meta.py", 'SERVICE_NAME = "shipyard-api"',
                                                'SERVICE_NAME = "api-{}"', api_probe), args.runs)
            out += [Row.of("hot reload, web (save -> page shows it)", web, limit=3),
                    Row.of("hot reload, api (save -> /health shows it)", api, limit=3)]
            if args.skip_sizes:
                out += [Row.not_run(f"{s} image size", "--skip-sizes", limit=mb, unit="MB")
                        for s, mb in BUDGET_MB.items()]
            else:
                try:
                    out += sizes(stack)
                except (AssertionError, subprocess.SubprocessError, ValueError, IndexError) as exc:
                    out += [Row.failed(f"{s} image size", f"release build failed: {str(exc)[-200:]}", limit=mb,
                                       unit="MB") for s, mb in BUDGET_MB.items()]
        finally:
            stack.invoke("docker.clean", "--volumes", "--yes", check=False, timeout=600)
    return out


def _first_up(stack: Stack) -> float:
    started = time.monotonic()
    stack.invoke("docker.up", timeout=1800)
    return time.monotonic() - started


def main() -> int:
    return main_of(rows, "Local stack")


if __name__ == "__main__":
    sys.exit(main())

"""Local stack benchmarks on the real engine: warm `docker.up` to healthy, hot reload latency, image sizes.

    .venv/bin/python bench/bench_docker.py [--runs 3] [--skip-sizes]

Targets: warm docker.up <= 20 s, hot reload <= 3 s, api image <= 150 MB, web image <= 200 MB.
Runs in a private copy of the monorepo (its own Compose project and free ports) with the test bed's base images
(override with PYTHON_IMAGE/NODE_IMAGE/POSTGRES_IMAGE/REDIS_IMAGE). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from docker_stack import Stack, copy_repo, new_canary, stack_env

BASES = {"python": "shipyard-base/python:bookworm", "node": "shipyard-base/node:bookworm",
         "postgres": "shipyard-base/postgres:bookworm", "redis": "shipyard-base/redis:bookworm"}
BUDGET_MB = {"api": 150, "web": 200}
BASE_ARG = {"api": "PYTHON_IMAGE", "web": "NODE_IMAGE"}
PUBLIC_DEFAULT = {"api": "python:3.12.8-slim-bookworm", "web": "node:20.18.1-alpine3.20"}
MB = 1_000_000


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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


def sizes(stack: Stack) -> list[dict[str, object]]:
    proc = stack.invoke("docker.build", "--allow-dirty", timeout=3600)
    refs = [line.split()[1] for line in proc.stdout.splitlines() if line.split()[:1] in (["api"], ["web"])]
    rows = []
    for ref in refs:
        service = ref.rsplit("/", 1)[1].split(":")[0]
        base = stack.env[BASE_ARG[service]]
        size = int(stack.docker("image", "inspect", "--format", "{{.Size}}", ref))
        base_size = int(stack.docker("image", "inspect", "--format", "{{.Size}}", base))
        layers = stack.docker("history", "--human=false", "--format", "{{.Size}}", ref).split()
        base_layers = stack.docker("history", "--human=false", "--format", "{{.Size}}", base).split()
        own = sum(int(x) for x in layers[: len(layers) - len(base_layers)])
        rows.append({"service": service, "image": ref, "absolute_mb": round(size / MB, 1),
                     "base": base, "base_mb": round(base_size / MB, 1), "own_layers_mb": round(own / MB, 1),
                     "budget_mb": BUDGET_MB[service],
                     "allowance_for_base_mb": round(BUDGET_MB[service] - own / MB, 1),
                     "public_default_base": PUBLIC_DEFAULT[service]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timing (median reported)")
    parser.add_argument("--skip-sizes", action="store_true", help="do not build release images")
    args = parser.parse_args()
    bases = {key: os.environ.get(f"{key.upper()}_IMAGE", value) for key, value in BASES.items()}
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
        root = copy_repo(Path(tmp) / "repo")
        env, ports = stack_env(bases, new_canary(), f"sybench-{uuid.uuid4().hex[:6]}")
        stack = Stack(root=root, env=env, canary=env["POSTGRES_PASSWORD"], ports=ports)
        report: dict[str, object] = {"load_average_at_start": load()}
        try:
            started = time.monotonic()
            stack.invoke("docker.up", timeout=1800)
            report["first_up_s"] = round(time.monotonic() - started, 1)
            ups = [timed_up(stack) for _ in range(args.runs)]
            report["warm_up_to_healthy_s"] = {"median": round(statistics.median(ups), 1),
                                              "runs": [round(u, 1) for u in ups], "target": 20}
            httpx.get(stack.url("web"), timeout=120)  # first compile of the page, outside the measurement

            def web_probe(marker: str) -> bool:
                return f"Items {marker}" in httpx.get(stack.url("web"), timeout=60).text

            def api_probe(marker: str) -> bool:
                return httpx.get(stack.url("api", "/health"), timeout=5).json()["service"] == f"api-{marker}"

            web = [reload_latency(stack, "apps/web/app/page.tsx", 'const HEADING = "Shipyard items";',
                                  'const HEADING = "Items {}";', web_probe) for _ in range(args.runs)]
            api = [reload_latency(stack, "apps/api/app/meta.py", 'SERVICE_NAME = "shipyard-api"',
                                  'SERVICE_NAME = "api-{}"', api_probe) for _ in range(args.runs)]
            report["hot_reload_s"] = {"web_median": round(statistics.median(web), 2),
                                      "web_runs": [round(w, 2) for w in web],
                                      "api_median": round(statistics.median(api), 2),
                                      "api_runs": [round(a, 2) for a in api], "target": 3}
            if not args.skip_sizes:
                report["images"] = sizes(stack)
        finally:
            stack.invoke("docker.clean", "--volumes", "--yes", check=False, timeout=600)
        report["load_average_at_end"] = load()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    subprocess.run(["docker", "info"], check=True, capture_output=True)
    main()

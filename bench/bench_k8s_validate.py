"""`invoke k8s.validate` over every overlay and every chart values file, warm: target <= 15 s.

    .venv/bin/python bench/bench_k8s_validate.py [--repeat 3]

Wall time depends on what else the machine runs, so the CPU time of the task and of the tools it starts
(kubectl, checkov) is printed too, with the load average.

"Warm" means a second run on the same machine: the interpreter's bytecode cache, checkov's own caches and the
OS page cache are populated by a first, unmeasured run. Each measured run is the whole task in a fresh
process (`invoke k8s.validate`, interpreter start-up included). The task prints its own phase timings
(render, schema, helm lint, parity, checkov); the last run's are shown below the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 15.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once() -> tuple[float, float, str]:
    cpu = children_cpu()
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "invoke", "k8s.validate"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"k8s.validate failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed, children_cpu() - cpu, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="measured runs after one warm-up run")
    args = parser.parse_args()
    cold, _, _ = run_once()
    print(f"warm-up run (not counted): {cold:.2f} s")
    times: list[float] = []
    cpus: list[float] = []
    out = ""
    for _ in range(max(1, args.repeat)):
        elapsed, cpu, out = run_once()
        times.append(elapsed)
        cpus.append(cpu)
    renders = sum(1 for line in out.splitlines() if " objects " in line)
    print(f"k8s.validate warm, {renders} renders, {len(times)} runs: median {statistics.median(times):.2f} s, "
          f"best {min(times):.2f} s, worst {max(times):.2f} s (target <= {TARGET:.0f} s: "
          f"{'met' if statistics.median(times) <= TARGET else 'MISSED'})")
    print(f"CPU time (user+sys of the task and its tools) median {statistics.median(cpus):.2f} s; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time grows with load)")
    phases = [line.strip() for line in out.splitlines() if "checkov checks passed" in line]
    if phases:
        print(f"phases of the last run: {phases[0]}")


if __name__ == "__main__":
    main()

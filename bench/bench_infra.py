"""The offline IaC gates, each in a fresh process, warm: wall and CPU seconds per command.

    .venv/bin/python bench/bench_infra.py [--repeat 3]

Target: `infra.check` without checkov <= 5 s (it runs on every save in an editor's task runner); the whole
`nox -t iac` infra part (check with checkov, workflows, secrets scan) <= 60 s. Wall time depends on what else
the machine runs, so CPU time (this process's children: invoke and the tools it starts) and the load average
are printed too. A first, unmeasured run warms caches.
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
INVOKE = str(Path(sys.executable).parent / "invoke")
COMMANDS = [
    ["infra.check", "--skip-checkov"],
    ["infra.check"],
    ["infra.workflows"],
    ["secrets.scan"],
]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: list[str]) -> tuple[float, float, int]:
    cpu = children_cpu()
    start = time.monotonic()
    proc = subprocess.run([INVOKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    return time.monotonic() - start, children_cpu() - cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, repeat {repeat}")
    print(f"{'command':<34} {'wall median':>11} {'cpu median':>10}  exit")
    for args in COMMANDS:
        measure(args)
        runs = [measure(args) for _ in range(repeat)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"{'invoke ' + ' '.join(args):<34} {wall:>10.2f}s {cpu:>9.2f}s  {runs[-1][2]}")


if __name__ == "__main__":
    main()

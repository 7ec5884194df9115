"""`invoke k8s.validate` over every overlay and every chart values file, warm: target <= 15 s (median).

    .venv/bin/python bench/bench_k8s_validate.py [--runs 3]

Wall time depends on what else the machine runs, so the CPU time of the task and of the tools it starts
(kubectl, checkov) is given in the note, with the load average in the title.

"Warm" means a second run on the same machine: the interpreter's bytecode cache, checkov's own caches and the
OS page cache are populated by a first, unmeasured run. Each measured run is the whole task in a fresh
process (`invoke k8s.validate`, interpreter start-up included). A run that exits non-zero or times out is a
miss: counted in N, shown as the worst, verdict FAIL. The task prints its own phase timings (render, schema,
helm lint, parity, checkov); the last run's are shown in the note.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _stats import Miss, Row, Runs, main_of

ROOT = Path(__file__).resolve().parents[1]
TARGET = 15.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Validate:
    def __init__(self) -> None:
        self.cpus: list[float] = []
        self.out = ""

    def __call__(self) -> float:
        cpu = children_cpu()
        start = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "invoke", "k8s.validate"], cwd=ROOT, capture_output=True,
                                  text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            raise Miss("k8s.validate: no answer within 600 s") from None
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise Miss(f"k8s.validate exited {proc.returncode}: {last[:120]}")
        self.cpus.append(children_cpu() - cpu)
        self.out = proc.stdout
        return elapsed


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--repeat", type=int, default=3, help="measured runs after one warm-up run")
    args = parser.parse_args(argv)
    Runs().attempt(Validate())  # warm-up, not counted
    validate = Validate()
    runs = Runs()
    for _ in range(max(1, args.runs)):
        runs.attempt(validate)
    renders = sum(1 for line in validate.out.splitlines() if " objects " in line)
    phases = [line.strip() for line in validate.out.splitlines() if "checkov checks passed" in line]
    note = (f"{renders} renders; CPU (task + tools) median {statistics.median(validate.cpus):.2f} s"
            if validate.cpus else "")
    if phases:
        note += f"; phases of the last run: {phases[0]}"
    return [Row.of("invoke k8s.validate, warm", runs, limit=TARGET, note=note)]


def main() -> int:
    return main_of(rows, "Kubernetes gates")


if __name__ == "__main__":
    sys.exit(main())

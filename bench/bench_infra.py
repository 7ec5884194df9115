"""The offline IaC gates, each in a fresh process, warm: wall and CPU seconds per command.

    .venv/bin/python bench/bench_infra.py [--runs 3]

Targets: `infra.check` without checkov <= 5 s (median; it runs on every save in an editor's task runner); the
infra part of `nox -t iac` (check with checkov, workflows, secrets scan, summed per round) <= 60 s (median).
Wall time depends on what else the machine runs, so CPU time (the task and the tools it starts) is given in
each row's note, with the load average in the title. A first, unmeasured run warms caches. A command that
exits non-zero or times out is a miss: counted in N, shown as the worst, and the verdict is FAIL.
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
INVOKE = str(Path(sys.executable).parent / "invoke")
QUICK = ("infra.check", "--skip-checkov")
GATE = (("infra.check",), ("infra.workflows",), ("secrets.scan",))
QUICK_TARGET, GATE_TARGET = 5.0, 60.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: tuple[str, ...], cpus: list[float]) -> float:
    cpu = children_cpu()
    start = time.monotonic()
    try:
        proc = subprocess.run([INVOKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        raise Miss(f"invoke {' '.join(args)}: no answer within 900 s") from None
    took = time.monotonic() - start
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise Miss(f"invoke {' '.join(args)} exited {proc.returncode}: {last[:120]}")
    cpus.append(children_cpu() - cpu)
    return took


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--repeat", type=int, default=3, help="measured rounds after a warm-up")
    n = parser.parse_args(argv).runs
    commands = (QUICK, *GATE)
    runs = {args: Runs() for args in commands}
    cpus: dict[tuple[str, ...], list[float]] = {args: [] for args in commands}
    gate = Runs()
    for args in commands:
        Runs().attempt(lambda args=args: measure(args, []))  # warm-up, not counted
    for _ in range(n):
        got = {args: runs[args].attempt(lambda args=args: measure(args, cpus[args])) for args in commands}
        gate.attempt(lambda got=got: _gate(got))

    def cpu(args: tuple[str, ...]) -> str:
        return f"CPU (task + tools) median {statistics.median(cpus[args]):.2f} s" if cpus[args] else ""

    out = [Row.of(f"invoke {' '.join(QUICK)}", runs[QUICK], limit=QUICK_TARGET, note=cpu(QUICK))]
    out += [Row.of(f"invoke {' '.join(args)}", runs[args], note=cpu(args)) for args in GATE]
    out.append(Row.of("infra part of `nox -t iac` (check + workflows + secrets.scan)", gate, limit=GATE_TARGET))
    return out


def _gate(got: dict[tuple[str, ...], float | None]) -> float:
    """One round of the gate: the sum of its commands' times; a miss when any of them missed."""
    missed = [" ".join(args) for args in GATE if got[args] is None]
    if missed:
        raise Miss(f"this round's {', '.join(missed)} missed (see its row)")
    return sum(got[args] or 0.0 for args in GATE)


def main() -> int:
    return main_of(rows, "IaC gates, warm")


if __name__ == "__main__":
    sys.exit(main())

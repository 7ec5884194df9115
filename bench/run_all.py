"""Run every benchmark and print one table: each target with its median, worst, N, target value and verdict.

    .venv/bin/python bench/run_all.py [--only monorepo,startup] [--skip deploy] [--runs N] [--with NAME=ARGS]
    nox -s bench [-- --only startup]

Each bench runs with its own defaults (its docstring says what it measures, and how many times); `--runs N`
passes `--runs N` to every bench, `--with "testbed=--cold"` passes extra arguments to one. Monorepo includes
the reference monorepo (a real `next build`); the test bed's cold start (a fresh VM) is opt-in and shows
"not run" without `--with testbed=--cold`. A bench that cannot run at all shows an ERROR row and the others
go on. Every figure is a median or a worst of N with the misses counted; none is a best-of-N.
Exit status: 1 when any target is FAIL or ERROR, else 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import Row, context, exit_code, short, table

#: name -> (module, default arguments); the order is cheapest first.
BENCHES: dict[str, tuple[str, list[str]]] = {
    "startup": ("bench_startup", []),
    "bad-inputs": ("bench_bad_inputs", []),
    "testbed": ("bench_testbed", []),
    "infra": ("bench_infra", []),
    "k8s": ("bench_k8s_validate", []),
    "monorepo": ("bench_monorepo", ["--reference"]),
    "turbo": ("bench_turbo", []),
    "docker": ("bench_docker", []),
    "deploy": ("bench_deploy", []),
    "rollback": ("bench_rollback", []),
    "deploy-reference": ("bench_deploy_reference", []),
}


def names(text: str | None) -> list[str]:
    chosen = [n.strip() for n in (text or "").split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown bench(es): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    return chosen


def run(name: str, argv: list[str]) -> list[Row]:
    module_name, _ = BENCHES[name]
    started = time.monotonic()
    print(f"== {name}: {module_name}.py {shlex.join(argv)}", flush=True)
    try:
        module = importlib.import_module(module_name)
        rows: list[Row] = module.rows(argv)
    except Exception as exc:  # a bench that cannot run is an ERROR row; the other benches still run
        rows = [Row.failed(f"{module_name} (the whole bench)", short(exc))]
    print(table(rows), f"\n== {name}: {time.monotonic() - started:.0f} s\n", sep="", flush=True)
    return [dataclasses.replace(row, target=f"{name}: {row.target}") for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated benches to run (default all: {', '.join(BENCHES)})")
    parser.add_argument("--skip", help="comma-separated benches not to run")
    parser.add_argument("--runs", type=int, help="measured runs per figure, passed to every bench")
    parser.add_argument("--with", dest="extra", action="append", default=[], metavar="NAME=ARGS",
                        help='extra arguments for one bench, e.g. --with "deploy=--cycles 3"')
    args = parser.parse_args()
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        name, _, rest = item.partition("=")
        extra.setdefault(names(name)[0], []).extend(shlex.split(rest))
    chosen = names(args.only) or list(BENCHES)
    skipped = set(names(args.skip))
    rows: list[Row] = []
    started = time.monotonic()
    for name in chosen:
        if name in skipped:
            continue
        argv = [*BENCHES[name][1], *(["--runs", str(args.runs)] if args.runs else []), *extra.get(name, [])]
        rows += run(name, argv)
    print(table(rows, f"All benchmarks ({context()}; {time.monotonic() - started:.0f} s)"))
    verdicts = [row.verdict for row in rows]
    print("\n" + ", ".join(f"{v}: {verdicts.count(v)}" for v in dict.fromkeys(verdicts)))
    return exit_code(rows)


if __name__ == "__main__":
    sys.exit(main())

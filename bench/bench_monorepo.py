"""Monorepo speed: affected and fully cached runs on a generated 1,000-package repository, and the
reference monorepo's cached build against a cold one.

    .venv/bin/python bench/bench_monorepo.py [--packages 1000] [--runs 5] [--reference]

Targets (issue 6), on the median of --runs runs: `invoke monorepo.affected` <= 0.5 s and a fully cached
`invoke monorepo.run build` <= 1 s on 1,000 packages, end to end (a fresh process, interpreter start-up
included); the reference monorepo's cached `invoke monorepo.build` >= 90% faster than a cold one. The same
work in process (the library call) is reported beside them. Every row gives the median and the worst of N;
a run that fails is a miss (counted, shown as the worst, verdict FAIL). The cold builds are one run each.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _stats import Miss, Row, Runs, compile_shipyard, main_of, repeat, stopwatch
from rich.console import Console

from shipyard.config import load
from shipyard.monorepo import runs as monorepo_runs
from shipyard.monorepo import session
from shipyard.run import LocalRunner

ROOT = Path(__file__).resolve().parents[1]
INVOKE = str(Path(sys.executable).parent / "invoke")

CONFIG = """\
project: bench
registry: {address: 127.0.0.1:5000, namespace: bench}
services:
  svc: {port: 8000, package: p0999}
workspace:
  packages: [packages/*]
  defaults:
    node:
      build:
        command: mkdir -p dist && cat src/*.js > dist/index.js
        inputs: [src/**, package.json]
        outputs: [dist/**]
        depends_on: [^build]
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def generate(root: Path, count: int) -> None:
    """`count` node packages; each depends on up to 3 lower-numbered ones (a DAG a few levels deep)."""
    rng = random.Random(6)
    (root / "shipyard.yaml").write_text(CONFIG)
    (root / ".gitignore").write_text("dist/\n.shipyard/\n")
    (root / "package.json").write_text(json.dumps({"name": "bench", "private": True, "workspaces": ["packages/*"]}))
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    for i in range(count):
        pkg = root / "packages" / f"p{i:04d}"
        (pkg / "src").mkdir(parents=True)
        deps = {f"p{j:04d}": "*" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))} if i else {}
        (pkg / "package.json").write_text(json.dumps({"name": f"p{i:04d}", "version": "1.0.0",
                                                      "dependencies": deps}))
        (pkg / "src/index.js").write_text(f"export const id = {i};\n" * 20)
        (pkg / "src/util.js").write_text(f"export function f{i}() {{ return {i}; }}\n" * 10)
        (pkg / "README.md").write_text(f"# p{i:04d}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.email=b@example.com", "-c", "user.name=B", "add", ".")
    git(root, "-c", "user.email=b@example.com", "-c", "user.name=B", "commit", "-qm", "generated")
    git(root, "checkout", "-qb", "feature")
    (root / "packages/p0010/src/index.js").write_text("export const id = 'changed';\n")
    git(root, "-c", "user.email=b@example.com", "-c", "user.name=B", "commit", "-qam", "change p0010")


def cli(root: Path, *args: str) -> None:
    try:
        proc = subprocess.run([INVOKE, "-r", str(ROOT), *args], cwd=root, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise Miss(f"invoke {' '.join(args)}: no answer within 600 s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise Miss(f"invoke {' '.join(args)} exited {proc.returncode}: {last[:120]}")


def build_in_process(root: Path, parallel: int) -> dict[str, int]:
    prepared = monorepo_runs.prepare(load(root / "shipyard.yaml"), "build", LocalRunner())
    outcomes, _ = monorepo_runs.execute(prepared, Console(file=io.StringIO()), parallel=parallel, logs="none")
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def build_expecting(root: Path, parallel: int, expected: set[str]) -> dict[str, int]:
    """An in-process build whose outcomes must all be in `expected` (else the run is a miss)."""
    counts = build_in_process(root, parallel)
    if not counts or set(counts) - expected:
        raise Miss(f"build outcomes {counts}, expected only {sorted(expected)}")
    return counts


def once(run: Callable[[], float]) -> Runs:
    """A single measured run (a cold build is too slow to repeat); N=1 is shown as such."""
    return repeat(run, 1)


def generated(count: int, n: int, parallel: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root, count)
        made = time.perf_counter() - start
        config = load(root / "shipyard.yaml")
        found = session.find_affected(config, LocalRunner(), "main")
        where = f"{count} generated packages ({made:.1f} s to generate)"
        out = [Row.of(f"monorepo.affected, {count} packages, in process",
                      repeat(stopwatch(lambda: session.find_affected(config, LocalRunner(), "main")), n),
                      unit="ms", scale=1000, note=f"{where}; affected since main: {len(found.packages)}"),
               Row.of("invoke monorepo.affected --base main, end to end",
                      repeat(stopwatch(lambda: cli(root, "monorepo.affected", "--base", "main")), n),
                      unit="ms", scale=1000, limit=500)]
        cold = once(stopwatch(lambda: build_expecting(root, parallel, {"ok"})))
        out.append(Row.of(f"cold monorepo.run build, {count} tasks, --parallel {parallel}, in process", cold))
        for pkg in (root / "packages").iterdir():  # outputs gone: a cached run must restore all of them
            shutil.rmtree(pkg / "dist", ignore_errors=True)
        out.append(Row.of(f"cached monorepo.run build restoring {count} outputs, in process",
                          once(stopwatch(lambda: build_expecting(root, parallel, {"cached"})))))
        out.append(Row.of(f"fully cached monorepo.run build, {count} tasks, in process",
                          repeat(stopwatch(lambda: build_expecting(root, parallel, {"cached"})), n),
                          unit="ms", scale=1000))
        out.append(Row.of("invoke monorepo.run build --logs none, fully cached, end to end",
                          repeat(stopwatch(lambda: cli(root, "monorepo.run", "build", "--logs", "none")), n),
                          unit="ms", scale=1000, limit=1000))
    return out


REFERENCE_PARTS = ("apps/", "packages/", "package.json", "package-lock.json", "shipyard.yaml", ".gitignore")


def copy_reference(dest: Path) -> None:
    """The reference monorepo's files (git's view) plus its installed node_modules, hard-linked."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in (p for p in listed if p.startswith(REFERENCE_PARTS) and (ROOT / p).is_file()):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    subprocess.run(["cp", "-al", str(ROOT / "node_modules"), str(dest / "node_modules")], check=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "-c", "user.email=b@example.com", "-c", "user.name=B", "add", ".")
    git(dest, "-c", "user.email=b@example.com", "-c", "user.name=B", "commit", "-qm", "reference")


def reference(n: int, parallel: int) -> list[Row]:
    """Cold vs cached `monorepo.build` on a copy (the tree's apps/web/.next may serve a `next dev`)."""
    name = "reference monorepo: cached invoke monorepo.build, end to end, faster than cold"
    if not (ROOT / "node_modules/.bin/next").exists():
        return [Row.failed(name, "node_modules is not installed (run `npm ci` at the repository root)",
                           limit=90, unit="%", higher_is_better=True)]
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-ref-") as tmp:
        root = Path(tmp)
        copy_reference(root)
        cold = once(stopwatch(lambda: build_expecting(root, parallel, {"ok"})))
        if not cold.values:
            return [Row.of("reference monorepo: cold monorepo.build (a real `next build`)", cold),
                    Row.failed(name, "the cold build did not succeed, so there is nothing to compare with",
                               limit=90, unit="%", higher_is_better=True)]
        tasks = sum(build_expecting(root, parallel, {"cached"}).values())  # first cached run, not counted
        in_place = repeat(stopwatch(lambda: build_expecting(root, parallel, {"cached"})), n)

        def restore() -> float:
            shutil.rmtree(root / "apps/web/.next", ignore_errors=True)
            return stopwatch(lambda: build_expecting(root, parallel, {"cached"}))()

        restored = repeat(restore, n)
        end_to_end = repeat(stopwatch(lambda: cli(root, "monorepo.build", "--logs", "none")), n)

    def saving(runs: Runs) -> Runs:
        return Runs([100 * (1 - v / cold.values[0]) for v in runs.values], list(runs.misses))

    what = f"{tasks} build tasks; apps/web is a real `next build`; cold is one run"
    return [Row.of("reference monorepo: cold monorepo.build", cold, note=what),
            Row.of("reference monorepo: cached monorepo.build, outputs in place, in process", in_place),
            Row.of("reference monorepo: cached, .next deleted and restored, in process", restored),
            Row.of("reference monorepo: cached invoke monorepo.build, end to end", end_to_end),
            Row.of("  ... in place, in process, faster than cold", saving(in_place), unit="%",
                   higher_is_better=True),
            Row.of("  ... .next restored, in process, faster than cold", saving(restored), unit="%",
                   higher_is_better=True),
            Row.of(name, saving(end_to_end), unit="%", higher_is_better=True, limit=90)]


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=1000, help="packages in the generated repository")
    parser.add_argument("--runs", "--repeat", type=int, default=5, help="measured runs per figure (default 5)")
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reference", action="store_true", help="also time the reference monorepo (next build)")
    args = parser.parse_args(argv)
    compile_shipyard()
    out = generated(args.packages, args.runs, args.parallel)
    if args.reference:
        out += reference(args.runs, args.parallel)
    else:
        out.append(Row.not_run("reference monorepo: cached invoke monorepo.build faster than cold",
                               "pass --reference (a real `next build`, about 2 minutes)", limit=90, unit="%"))
    return out


def main() -> int:
    return main_of(rows, "Monorepo")


if __name__ == "__main__":
    sys.exit(main())

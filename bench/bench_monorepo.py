"""Monorepo speed: affected and fully cached runs on a generated 1,000-package repository, and the
reference monorepo's cached build against a cold one.

    .venv/bin/python bench/bench_monorepo.py [--packages 1000] [--reference]

Targets (issue 6): `monorepo.affected` <= 0.5 s and a fully cached `monorepo.run build` <= 1 s on
1,000 packages; the reference monorepo's cached `monorepo.build` >= 90% faster than a cold one.
Each figure is the best of --repeat runs, measured twice: in process (the library call) and end to
end (`invoke ...` in a fresh process, interpreter start-up included).
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

from rich.console import Console

from shipyard.config import load
from shipyard.monorepo import runs, session
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


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cli(root: Path, *args: str) -> None:
    proc = subprocess.run([INVOKE, "-r", str(ROOT), *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"invoke {' '.join(args)} failed: {proc.stderr.strip()}")


def build_in_process(root: Path, parallel: int) -> dict[str, int]:
    prepared = runs.prepare(load(root / "shipyard.yaml"), "build", LocalRunner())
    outcomes, _ = runs.execute(prepared, Console(file=io.StringIO()), parallel=parallel, logs="none")
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def row(name: str, seconds: float, target: float | None = None) -> None:
    verdict = "" if target is None else ("  ok" if seconds <= target else f"  OVER {target:g}s")
    print(f"  {name:<52} {seconds * 1000:8.0f} ms{verdict}")


def generated(count: int, repeat: int, parallel: int) -> None:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root, count)
        print(f"generated {count} packages in {time.perf_counter() - start:.1f}s ({root})")
        config = load(root / "shipyard.yaml")
        found = session.find_affected(config, LocalRunner(), "main")
        print(f"  affected since main: {len(found.packages)} of {count} packages")
        row("monorepo.affected (in process)",
            best(lambda: session.find_affected(config, LocalRunner(), "main"), repeat), 0.5)
        row("invoke monorepo.affected --base main (end to end)",
            best(lambda: cli(root, "monorepo.affected", "--base", "main"), repeat), 0.5)
        start = time.perf_counter()
        counts = build_in_process(root, parallel)
        row(f"cold monorepo.run build, --parallel {parallel} {counts}", time.perf_counter() - start)
        for pkg in (root / "packages").iterdir():  # outputs gone: a cached run must restore all of them
            shutil.rmtree(pkg / "dist", ignore_errors=True)
        start = time.perf_counter()
        counts = build_in_process(root, parallel)
        row(f"cached run, restoring 1,000 outputs {counts}", time.perf_counter() - start)
        assert counts == {"cached": count}, counts
        row("fully cached monorepo.run build (in process)",
            best(lambda: build_in_process(root, parallel), repeat), 1.0)
        row("invoke monorepo.run build --logs none (end to end)",
            best(lambda: cli(root, "monorepo.run", "build", "--logs", "none"), repeat), 1.0)


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


def reference(parallel: int) -> None:
    """Cold vs cached `monorepo.build` on a copy (the tree's apps/web/.next may serve a `next dev`)."""
    if not (ROOT / "node_modules/.bin/next").exists():
        print("reference monorepo: skipped - node_modules is not installed (run `npm ci` at the repository root)")
        return
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-ref-") as tmp:
        root = Path(tmp)
        copy_reference(root)
        start = time.perf_counter()
        counts = build_in_process(root, parallel)
        cold = time.perf_counter() - start
        if counts.get("ok") != sum(counts.values()):
            raise SystemExit(f"reference build did not succeed: {counts}")
        start = time.perf_counter()
        counts = build_in_process(root, parallel)
        cached = time.perf_counter() - start
        assert set(counts) == {"cached"}, counts
        shutil.rmtree(root / "apps/web/.next")
        start = time.perf_counter()
        build_in_process(root, parallel)
        restored = time.perf_counter() - start
        end_to_end = best(lambda: cli(root, "monorepo.build", "--logs", "none"), 3)
    print(f"reference monorepo ({sum(counts.values())} build tasks; apps/web is a real `next build`)")
    row("cold monorepo.build", cold)
    row("cached monorepo.build, outputs in place (in process)", cached)
    row("cached monorepo.build, .next deleted and restored", restored)
    row("invoke monorepo.build, cached (end to end)", end_to_end)
    for name, value in (("in place", cached), ("restoring .next", restored), ("end to end", end_to_end)):
        saving = 1 - value / cold
        print(f"  cached ({name}) is {saving:.1%} faster than cold (target >= 90%)"
              f"{'  ok' if saving >= 0.9 else '  MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reference", action="store_true", help="also time the reference monorepo (next build)")
    args = parser.parse_args()
    generated(args.packages, args.repeat, args.parallel)
    if args.reference:
        reference(args.parallel)


if __name__ == "__main__":
    main()

"""Shipyard's monorepo engine side by side with Turborepo on the same generated npm workspace (issue 12).

    .venv/bin/python bench/bench_turbo.py [--packages 1000] [--runs 5] [--parallel 2] [--turbo-dir DIR]

Installs `turbo@2` from the npm registry into a scratch directory (`npm install turbo@2`: the binary ships in
the package), generates one npm workspace of N packages (each with a `build` script that concatenates its
sources into dist/, up to three workspace dependencies each, `npm install`ed so that both tools see a real
lockfile; a git repository with `main` and a `feature` branch that changes one package), builds it cold once
with each tool (not timed), then times, end to end as a user runs them (fresh CLI processes, interpreter
start-up included):

  (a) a fully cached build with the outputs in place:
      `invoke monorepo.build --logs new`            vs  `turbo run build --output-logs=new-only`
  (b) a cached build after every package's dist/ was deleted (all outputs restored from the cache)
  (c) the packages affected since main:
      `invoke monorepo.affected --base main`        vs  `turbo ls --filter '...[main]'`

Child processes run with the user's environment minus PYTHONDONTWRITEBYTECODE (Python writes its bytecode,
as it does by default), and Shipyard's modules are byte-compiled first, as `pip install` does (Invoke itself
never writes bytecode, so an edited module of an editable install would otherwise compile on every run).
The generated tasks.py is `ns = namespace(sys.argv[1:])`, as this repository's. Each row gives the median and
the worst of --runs runs (a failed run is a miss: counted, never dropped), and the ratio Shipyard / turbo
(each Shipyard run over turbo's median).
`--packages 10000` runs the same workspace at ten times the size (reported, not a target). Generated data
lives under a temp dir that is removed afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _stats import Miss, Row, Runs, compile_shipyard, context, main_of, stopwatch

ROOT = Path(__file__).resolve().parents[1]
INVOKE = str(Path(sys.executable).parent / "invoke")
BUILD = "mkdir -p dist && cat src/*.js > dist/index.js"
CHANGED = "p0010"

CONFIG = f"""\
project: bench
registry: {{address: 127.0.0.1:5000, namespace: bench}}
services:
  svc: {{port: 8000, package: p0000}}
workspace:
  packages: [packages/*]
  defaults:
    node:
      build:
        command: {BUILD}
        inputs: [src/**, package.json]
        outputs: [dist/**]
        depends_on: [^build]
"""

TURBO_JSON = {"$schema": "https://turbo.build/schema.json", "ui": "stream",
              "tasks": {"build": {"dependsOn": ["^build"], "inputs": ["src/**", "package.json"],
                                  "outputs": ["dist/**"]}}}

TASKS_PY = "import sys\n\nfrom shipyard.tasks import namespace\n\nns = namespace(sys.argv[1:])\n"

QUIET_ENV = {"TURBO_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1", "TURBO_NO_UPDATE_NOTIFIER": "1",
             "NO_COLOR": "1", "npm_config_update_notifier": "false", "npm_config_fund": "false",
             "npm_config_audit": "false"}


# The untimed cold fill of turbo's cache: turbo runs each task as `npm run build`, and npm's start-up (not
# turbo's engine) made a cold fill of 1,000 packages take 15 minutes, so 10,000 could not be measured at all.
# For that fill only, an `npm` first on PATH runs the build script directly; turbo's cache keys hold the task's
# command and inputs, not the npm binary, and every timed run uses the real npm (a fill that keyed differently
# would show as a cache miss there, which the bench reports).
FAST_NPM = f"""#!/bin/sh
if [ "$1" = run ] && [ "$2" = build ]; then exec sh -c '{BUILD}'; fi
exec {{npm}} "$@"
"""


def sh(argv: Sequence[str], cwd: Path, timeout: float = 1800, path_first: Path | None = None) -> str:
    env = {**os.environ, **QUIET_ENV}
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    # as on a user's machine, Python keeps its bytecode (a CI sandbox may set this, which would recompile
    # every changed module on every run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Miss(f"{' '.join(argv[:3])}: no answer within {timeout:g} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise Miss(f"{' '.join(argv[:4])} exited {proc.returncode}: {last[:160]}")
    return proc.stdout


def git(repo: Path, *args: str) -> None:
    sh(["git", "-c", "user.email=b@example.com", "-c", "user.name=B", *args], repo)


def install_turbo(scratch: Path) -> Path:
    """`npm install turbo@2` into `scratch`; the path of its binary."""
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "package.json").exists():
        (scratch / "package.json").write_text('{"name": "turbo-scratch", "private": true}\n')
    binary = scratch / "node_modules/.bin/turbo"
    if not binary.exists():
        sh(["npm", "install", "--no-audit", "--no-fund", "turbo@2"], scratch, timeout=600)
    return binary


def generate(root: Path, count: int) -> None:
    """`count` npm packages; each depends on up to 3 lower-numbered ones (a DAG a few levels deep)."""
    rng = random.Random(6)
    npm_version = sh(["npm", "--version"], root).strip()
    (root / "shipyard.yaml").write_text(CONFIG)
    (root / "tasks.py").write_text(TASKS_PY)
    (root / "turbo.json").write_text(json.dumps(TURBO_JSON, indent=1))
    (root / ".gitignore").write_text("dist/\n.shipyard/\n.turbo/\nnode_modules/\n__pycache__/\n")
    (root / "package.json").write_text(json.dumps({"name": "bench", "private": True, "workspaces": ["packages/*"],
                                                   "packageManager": f"npm@{npm_version}"}, indent=1))
    for i in range(count):
        pkg = root / "packages" / f"p{i:04d}"
        (pkg / "src").mkdir(parents=True)
        deps = {f"p{j:04d}": "*" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))} if i else {}
        (pkg / "package.json").write_text(json.dumps({"name": f"p{i:04d}", "version": "1.0.0",
                                                      "scripts": {"build": BUILD}, "dependencies": deps}))
        (pkg / "src/index.js").write_text(f"export const id = {i};\n" * 20)
        (pkg / "src/util.js").write_text(f"export function f{i}() {{ return {i}; }}\n" * 10)
        (pkg / "README.md").write_text(f"# p{i:04d}\n")
    sh(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--offline"], root, timeout=1800)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "generated")
    git(root, "checkout", "-qb", "feature")
    (root / f"packages/{CHANGED}/src/index.js").write_text("export const id = 'changed';\n")
    git(root, "commit", "-qam", f"change {CHANGED}")


class Tools:
    def __init__(self, root: Path, turbo: Path, parallel: int) -> None:
        self.root, self.turbo, self.parallel = root, str(turbo), parallel
        self.fast_npm = root.parent / "fast-npm"
        self.fast_npm.mkdir(exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise Miss("npm is not on PATH")
        (self.fast_npm / "npm").write_text(FAST_NPM.format(npm=npm))
        (self.fast_npm / "npm").chmod(0o755)

    def shipyard_build(self, expect_cached: bool = True) -> None:
        out = sh([INVOKE, "monorepo.build", "--logs", "new", "--parallel", str(self.parallel)], self.root)
        if expect_cached and "full cache hit" not in out:
            raise Miss(f"shipyard build was not fully cached: {out.strip().splitlines()[-1:]}")

    def turbo_build(self, expect_cached: bool = True, concurrency: int | None = None, fill: bool = False) -> None:
        workers = concurrency or self.parallel
        out = sh([self.turbo, "run", "build", "--output-logs=new-only", f"--concurrency={workers}"], self.root,
                 path_first=self.fast_npm if fill else None)
        if expect_cached and "FULL TURBO" not in out:
            raise Miss(f"turbo build was not fully cached: {out.strip().splitlines()[-3:]}")

    def shipyard_affected(self) -> list[str]:
        out = sh([INVOKE, "monorepo.affected", "--base", "main", "--json"], self.root)
        return sorted(p["name"] for p in json.loads(out)["packages"])

    def turbo_affected(self) -> list[str]:
        out = sh([self.turbo, "ls", "--filter", "...[main]", "--output", "json"], self.root)
        data = json.loads(out[out.index("{"):])
        return sorted(p["name"] for p in data["packages"]["items"])

    def delete_outputs(self) -> None:
        for pkg in (self.root / "packages").iterdir():
            shutil.rmtree(pkg / "dist", ignore_errors=True)


def side_by_side(label: str, ours: Runs, theirs: Runs, note: str = "") -> list[Row]:
    return [Row.of(f"{label}: Shipyard", ours, unit="ms", scale=1000, note=note),
            Row.of(f"{label}: turbo", theirs, unit="ms", scale=1000),
            Row.ratio(f"{label}: Shipyard / turbo", ours, theirs)]


def measure(root: Path, tools: Tools, n: int) -> list[Row]:
    # cold builds, one each (not timed; turbo's runs the tasks with FAST_NPM): fill both caches, then restore
    # everything once with the real npm so that both start from the same state
    tools.turbo_build(expect_cached=False, fill=True)
    tools.shipyard_build(expect_cached=False)
    tools.delete_outputs()
    tools.turbo_build()
    tools.shipyard_build()

    def restore(build: object) -> float:
        tools.delete_outputs()
        return stopwatch(build)()  # type: ignore[arg-type]

    rows: list[Row] = []
    # interleaved so that a change in machine load hits both tools alike
    a_ours, a_theirs, b_ours, b_theirs, c_ours, c_theirs = (Runs() for _ in range(6))
    for _ in range(n):
        a_ours.attempt(stopwatch(tools.shipyard_build))
        a_theirs.attempt(stopwatch(tools.turbo_build))
    load_a = context()
    for _ in range(n):
        b_ours.attempt(lambda: restore(tools.shipyard_build))
        b_theirs.attempt(lambda: restore(tools.turbo_build))
    load_b = context()
    ours_found, theirs_found = tools.shipyard_affected(), tools.turbo_affected()
    for _ in range(n):
        c_ours.attempt(stopwatch(tools.shipyard_affected))
        c_theirs.attempt(stopwatch(tools.turbo_affected))
    load_c = context()
    if ours_found != theirs_found:
        c_ours.misses.append(f"Shipyard found {len(ours_found)} affected packages, turbo {len(theirs_found)}")
    rows += side_by_side("(a) fully cached build, outputs in place", a_ours, a_theirs, load_a)
    rows += side_by_side("(b) cached build, every output deleted and restored", b_ours, b_theirs, load_b)
    rows += side_by_side("(c) affected since main", c_ours, c_theirs,
                         f"{load_c}; affected: Shipyard {len(ours_found)}, turbo {len(theirs_found)}")
    return rows


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=1000, help="packages in the generated workspace")
    parser.add_argument("--runs", "--repeat", type=int, default=5, help="measured runs per figure (>= 5)")
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 2, help="workers for both tools")
    parser.add_argument("--turbo-dir", type=Path, help="scratch directory for turbo (default: a temp dir)")
    args = parser.parse_args(argv)
    compile_shipyard()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-turbo-") as tmp:
        turbo = install_turbo(args.turbo_dir or Path(tmp) / "turbo")
        version = sh([str(turbo), "--version"], Path(tmp)).strip()
        root = Path(tmp) / "ws"
        root.mkdir()
        generate(root, args.packages)
        tools = Tools(root, turbo, args.parallel)
        try:
            out = measure(root, tools, args.runs)
        finally:
            subprocess.run([str(turbo), "daemon", "stop"], cwd=root, capture_output=True, check=False)
    what = f"turbo {version}, {args.packages} packages, --parallel {args.parallel}"
    return [dataclasses.replace(r, note=f"{what}; {r.note}") if i == 0 else r for i, r in enumerate(out)]


def main() -> int:
    return main_of(rows, "Shipyard vs Turborepo")


if __name__ == "__main__":
    sys.exit(main())

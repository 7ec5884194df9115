"""Start-up cost of the CLIs: `invoke --list` and `shipyard --list` as a ratio to bare `invoke --version`.

Targets: <= 2x (median run over median baseline); `invoke rollback --help` and `invoke deploy.status --help`
<= 1.5x. Task modules import heavy libraries (fabric, pydantic,
rich) lazily inside task bodies. Each row shows the median and the worst of N fresh processes;
a command that fails or hangs is a miss, not a dropped run.
Run: .venv/bin/python bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _stats import Row, Runs, main_of, repeat, stopwatch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET = 2.0
HELP_TARGET = 1.5  # `invoke rollback --help`, `invoke deploy.status --help`


def command(argv: list[str]) -> None:
    subprocess.run(argv, cwd=ROOT, capture_output=True, check=True, timeout=60)


def measure(argv: list[str], runs: int) -> Runs:
    Runs().attempt(stopwatch(lambda: command(argv)))  # warm the page cache; not counted
    return repeat(stopwatch(lambda: command(argv)), runs)


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command (default 15)")
    args = parser.parse_args(argv)
    baseline = measure([str(BIN / "invoke"), "--version"], args.runs)
    out = [Row.of("invoke --version (the baseline)", baseline, unit="ms", scale=1000)]
    for name, cmd in [("invoke --list", [str(BIN / "invoke"), "--list"]),
                      ("shipyard --list", [str(BIN / "shipyard"), "--list"])]:
        runs = measure(cmd, args.runs)
        out.append(Row.of(name, runs, unit="ms", scale=1000))
        out.append(Row.ratio(f"{name} / invoke --version", runs, baseline, limit=TARGET))
    for name in ("rollback", "deploy.status"):  # issue 11: the commands an incident starts with
        runs = measure([str(BIN / "invoke"), name, "--help"], args.runs)
        out.append(Row.of(f"invoke {name} --help", runs, unit="ms", scale=1000))
        out.append(Row.ratio(f"invoke {name} --help / invoke --version", runs, baseline, limit=HELP_TARGET))
    return out


def main() -> int:
    return main_of(rows, "CLI start-up")


if __name__ == "__main__":
    sys.exit(main())

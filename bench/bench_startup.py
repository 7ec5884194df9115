"""Start-up cost of the CLIs: `invoke --list` and `shipyard --list` as a ratio to bare `invoke --version`.

Target: <= 2x. Task modules import heavy libraries (fabric, pydantic, python-on-whales) lazily inside task bodies.
Run: .venv/bin/python bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def measure(argv: list[str], runs: int) -> float:
    subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)  # warm the page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    baseline = measure([str(BIN / "invoke"), "--version"], args.runs)
    print(f"{'command':<22}{'median':>10}{'ratio':>8}  target <= 2.00x")
    print(f"{'invoke --version':<22}{baseline * 1000:>8.0f}ms{1.0:>7.2f}x")
    worst = 0.0
    for name, argv in [("invoke --list", [str(BIN / "invoke"), "--list"]),
                       ("shipyard --list", [str(BIN / "shipyard"), "--list"])]:
        value = measure(argv, args.runs)
        ratio = value / baseline
        worst = max(worst, ratio)
        print(f"{name:<22}{value * 1000:>8.0f}ms{ratio:>7.2f}x")
    print(f"worst ratio {worst:.2f}x: {'OK' if worst <= 2.0 else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast a bad input ends: every case of tests/unit/test_bad_inputs.py (one `error:` line, an honest exit code,
no traceback), timed from the `invoke` process start to its exit.

Target (issue 14): within a second, judged on the worst of N fresh processes per case (the test itself keeps a
loose sanity bound only: timed assertions do not belong in tests). A run whose output is not the expected one
line is a miss, not a fast figure.
Run: .venv/bin/python bench/bench_bad_inputs.py [--runs N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from _stats import Row, Runs, main_of, repeat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "unit")]

from test_bad_inputs import CASES, Case, run_case  # noqa: E402 - a test module, found through the path above

TARGET = 1.0


def timed(case: Case) -> float:
    with tempfile.TemporaryDirectory(prefix="shipyard-bad-input-") as tmp:
        bed, proc, took = run_case(case, Path(tmp))
        lines = proc.stderr.strip().splitlines()
        if proc.returncode != case.code or len(lines) != 1 or not re.fullmatch(case.expected(bed), lines[0]):
            raise AssertionError(f"exit {proc.returncode}, stderr {proc.stderr.strip()[:120]!r}")
        return took


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per case (default 5)")
    args = parser.parse_args(argv)
    out = []
    every = Runs()
    for case in CASES:
        runs = repeat(lambda case=case: timed(case), args.runs)  # type: ignore[misc]
        every.values += runs.values
        every.misses += runs.misses
        out.append(Row.of(case.id, runs, limit=TARGET, judge="worst"))
    out.append(Row.of(f"every case ({len(CASES)})", every, limit=TARGET, judge="worst"))
    return out


def main() -> int:
    return main_of(rows, "Bad inputs: time to the one-line error")


if __name__ == "__main__":
    sys.exit(main())

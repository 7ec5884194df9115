"""What every benchmark reports: median and worst of N, misses counted, one verdict per target.

A *miss* is a run that produced no figure: it failed, timed out, or never saw what it waited for. A miss is
never dropped: it counts in N, it is the worst figure, it is ranked worse than every measured run when the
median is taken, and any miss makes the row's verdict FAIL. A target missed is a verdict, not a crash: a
benchmark collects its runs with `attempt` and returns rows; `run_all.py` prints every bench's rows as one
table. Best-of-N is never a reported figure.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PASS, FAIL, INFO, ERROR, SKIP = "PASS", "FAIL", "info", "ERROR", "not run"


class Miss(Exception):
    """Raised by a run that produced no figure (failed, timed out, never saw the answer it waited for)."""


@dataclass
class Runs:
    """The outcome of N attempts: figures of the runs that produced one, and why the others did not."""

    values: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values) + len(self.misses)

    def attempt(self, run: Callable[[], float]) -> float | None:
        """Run once; a figure is kept, any exception is recorded as a miss (the benchmark goes on)."""
        try:
            value = run()
        except Exception as exc:  # every failure of a measured run is a miss: counted and reported, never hidden
            self.misses.append(short(exc))
            return None
        self.values.append(value)
        return value


def compile_shipyard() -> None:
    """Byte-compile Shipyard's modules, as `pip install` does, before timing `invoke`. Invoke turns writing
    bytecode off (sys.dont_write_bytecode), so in an editable install a module edited since its .pyc was written
    would otherwise be compiled again on every timed run. The assets are programs sent to hosts as text, never
    imported: they are left alone (a __pycache__ among them would be a stray file next to the host programs)."""
    import compileall
    import re

    import shipyard

    compileall.compile_dir(Path(shipyard.__file__).parent, quiet=1, rx=re.compile(r"[/\\]assets[/\\]"))


def short(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[-1]
    return f"{exc.__class__.__name__}: {text[:160]}" if not isinstance(exc, Miss) else text[:160]


def repeat(run: Callable[[], float], n: int) -> Runs:
    runs = Runs()
    for _ in range(n):
        runs.attempt(run)
    return runs


def stopwatch(body: Callable[[], object]) -> Callable[[], float]:
    """A run that returns how long `body` took, in seconds (it raises when `body` does)."""

    def run() -> float:
        start = time.perf_counter()
        body()
        return time.perf_counter() - start

    return run


@dataclass(frozen=True)
class Row:
    """One target: median and worst of N runs (misses included), the target value and the verdict.

    `judge` says which figure the target applies to: "median" (typical run) or "worst" (every run); a "total"
    row (`Row.total`) is one sum over its N runs, shown in the median column as "total ...".
    A row with no `limit` is informational (a fixed cost, a breakdown); it still FAILs when a run missed.
    """

    target: str
    median: float | None
    worst: float | None
    n: int
    misses: int = 0
    limit: float | None = None
    unit: str = "s"
    judge: Literal["median", "worst", "total"] = "median"
    higher_is_better: bool = False
    note: str = ""
    error: str | None = None  # the bench could not measure this target at all
    skipped: str | None = None  # deliberately not measured, and why

    @classmethod
    def of(cls, target: str, runs: Runs, *, limit: float | None = None, unit: str = "s",
           judge: Literal["median", "worst", "total"] = "median", higher_is_better: bool = False, note: str = "",
           scale: float = 1.0) -> Row:
        """Median and worst of the runs; each miss ranks below every measured run and makes the worst a miss."""
        bad = -math.inf if higher_is_better else math.inf
        ranked = [v * scale for v in runs.values] + [bad] * len(runs.misses)
        if not ranked:
            return cls.failed(target, "no run was attempted", limit=limit, unit=unit, judge=judge,
                              higher_is_better=higher_is_better)
        if runs.misses:
            reasons = "; ".join(sorted(set(runs.misses)))
            note = f"{len(runs.misses)} of {runs.n} runs missed: {reasons}" + (f". {note}" if note else "")
        return cls(target, _median(ranked), min(ranked) if higher_is_better else max(ranked), len(ranked),
                   len(runs.misses), limit=limit, unit=unit, judge=judge, higher_is_better=higher_is_better,
                   note=note)

    @classmethod
    def ratio(cls, target: str, runs: Runs, base: Runs, *, limit: float | None = None, note: str = "") -> Row:
        """Each run of `runs` over the median of `base`: the median ratio and the worst run's ratio.

        A miss on either side is a miss of the ratio (N counts both sides' misses)."""
        if not base.values:
            return cls.failed(target, f"no base run produced a figure ({'; '.join(base.misses) or 'none ran'})",
                              limit=limit, unit="x")
        scaled = Runs(list(runs.values), runs.misses + [f"base run: {m}" for m in base.misses])
        return cls.of(target, scaled, limit=limit, unit="x", note=note, scale=1 / statistics.median(base.values))

    @classmethod
    def total(cls, target: str, value: float, n: int, *, limit: float | None = None, unit: str = "",
              higher_is_better: bool = True, note: str = "") -> Row:
        """One sum over N runs (requests sent during N deploys): a figure with no median or worst of its own."""
        return cls(target, value, None, n, limit=limit, unit=unit, judge="total", higher_is_better=higher_is_better,
                   note=note)

    @classmethod
    def failed(cls, target: str, error: str, *, limit: float | None = None, unit: str = "s",
               judge: Literal["median", "worst", "total"] = "median", higher_is_better: bool = False) -> Row:
        """The bench could not measure this target at all (verdict ERROR)."""
        return cls(target, None, None, 0, limit=limit, unit=unit, judge=judge, higher_is_better=higher_is_better,
                   error=error)

    @classmethod
    def not_run(cls, target: str, why: str, *, limit: float | None = None, unit: str = "s") -> Row:
        """Deliberately not measured this time (an opt-in part); shown so that nobody reads it as passed."""
        return cls(target, None, None, 0, limit=limit, unit=unit, skipped=why)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return ERROR
        if self.skipped is not None:
            return SKIP
        if self.misses:
            return FAIL
        if self.limit is None:
            return INFO
        value = self.worst if self.judge == "worst" else self.median
        if value is None or math.isnan(value):
            return FAIL
        ok = value >= self.limit if self.higher_is_better else value <= self.limit
        return PASS if ok else FAIL

    @property
    def target_text(self) -> str:
        if self.limit is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        value = f"{self.limit:,g}" + ("" if self.unit in ("x", "%", "") else " ") + self.unit
        return f"{self.judge} {sign} {value}"


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    low, high = ordered[middle - 1], ordered[middle]
    return low if math.isinf(high) or math.isinf(low) else statistics.mean((low, high))


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "MISS"
    if math.isnan(value):
        return "n/a"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value:.1f}%"
    if unit in ("", "requests", "failed"):
        return f"{value:,.0f}" + (f" {unit}" if unit else "")
    return f"{value:.2f} {unit}"


def context() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load average {load} on {os.cpu_count()} CPUs"


def table(rows: Sequence[Row], title: str = "") -> str:
    head = ("target", "median", "worst", "N", "target value", "verdict")
    body = [(r.target, ("total " if r.judge == "total" else "") + fmt(r.median, r.unit), fmt(r.worst, r.unit),
             f"{r.n}" + (f" ({r.misses} missed)" if r.misses else ""), r.target_text, r.verdict) for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                               strict=True)))

    out = [title] if title else []
    out += [line(head), "  ".join("-" * w for w in widths)]
    for row, cells in zip(rows, body, strict=True):
        out.append(line(cells))
        out += [f"    {extra}" for extra in (row.error, row.skipped, row.note) if extra]
    return "\n".join(out)


def exit_code(rows: Sequence[Row]) -> int:
    """1 when any target failed or could not be measured; 0 otherwise (informational and skipped rows pass)."""
    return 1 if any(r.verdict in (FAIL, ERROR) for r in rows) else 0


def report(rows: Sequence[Row], title: str) -> int:
    print(table(rows, f"{title} ({context()})"))
    return exit_code(rows)


def main_of(rows: Callable[[], list[Row]], title: str) -> int:
    """A bench's `main`: its rows as a table; a bench that cannot run at all is one ERROR row, not a traceback."""
    try:
        measured = rows()
    except Exception as exc:  # the whole bench could not run (no engine, no registry, ...): an ERROR verdict
        measured = [Row.failed(title, short(exc))]
    return report(measured, title)

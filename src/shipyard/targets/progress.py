"""Progress on the terminal: per-host, per-phase steps of a deploy (rich) and its summary table; build steps and
plain lines, secret values masked."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.facts.build import VERTEX
from shipyard.plans.bluegreen import PHASES
from shipyard.run.redact import REDACTOR

LONG_PHASES = frozenset({"pull", "healthy", "release", "hook", "watch"})


class Progress:
    """Thread-safe: host threads report steps as they finish. `quiet` keeps only failures and the summary."""

    def __init__(self, console: Any = None, *, quiet: bool = False) -> None:
        if console is None:
            from rich.console import Console

            console = Console(highlight=False, soft_wrap=True)
        self.console = console
        self.quiet = quiet
        self._lock = threading.Lock()

    def _print(self, text: str, style: str | None = None) -> None:
        self._emit(REDACTOR(text), style=style, markup=False)

    def _emit(self, *objects: Any, **options: Any) -> None:
        with self._lock:
            try:
                self.console.print(*objects, **options)
            except (BrokenPipeError, SystemExit):
                # The reader went away (a closed pipe, a cancelled log viewer). rich has pointed stdout at
                # /dev/null and asks the program to exit; a deploy goes on to its end, ledger and locks, unseen.
                self.console.quiet = True

    def begin(self, host: str, phase: str, what: str) -> None:
        """A step that can take long (a pull, a health wait, a release command) says when it starts."""
        if not self.quiet and phase in LONG_PHASES:
            self._print(f"[{host}] {phase:<8} {what} ...")

    def step(self, host: str, phase: str, what: str, seconds: float) -> None:
        if not self.quiet:
            self._print(f"[{host}] {phase:<8} {what} ({seconds:.2f}s)")

    def note(self, host: str, text: str) -> None:
        self._print(f"[{host}] {text}", style="yellow")

    def failed(self, host: str, text: str, logs: str = "") -> None:
        self._print(f"[{host}] FAILED: {text}", style="bold red")
        if logs:
            self._print(f"[{host}] last log lines of the new container:", style="red")
            for line in logs.splitlines():
                self._print(f"[{host}]   | {line}", style="red")

    def plan(self, host: str, lines: Sequence[str]) -> None:
        for line in lines:
            self._emit(REDACTOR(f"[{host}] {line}"), markup=False, highlight=False)

    def summary(self, title: str, rows: Mapping[str, tuple[str, str, Mapping[str, float]]]) -> None:
        """rows: host -> (release, outcome, phase timings)."""
        from rich.table import Table

        used = [p for p in PHASES if any(p in timings for _, _, timings in rows.values())]
        table = Table(title=title, title_justify="left")
        for column in ("host", "release", "outcome", *used, "total"):
            table.add_column(column, justify="right" if column in (*used, "total") else "left")
        for host, (release, outcome, timings) in rows.items():
            style = "green" if outcome in {"ok", "converged"} else "red"
            cells = [f"{timings[p]:.2f}" if p in timings else "-" for p in used]
            table.add_row(host, release, outcome, *cells, f"{sum(timings.values()):.2f}", style=style)
        self._emit(table)


def say(line: str) -> None:
    """One line on stdout at once, secret values masked (what the local stack's commands print)."""
    sys.stdout.write(REDACTOR(line) + "\n")
    sys.stdout.flush()


class BuildSteps:
    """Builds stream a wall of output; this shows one line per Dockerfile step (errors are summarised at the end),
    from the classic builder's `Step N/M : ...` lines and from BuildKit's plain progress, whose instruction
    headers (`#8 [api 4/6] RUN ...`) come again each time the instruction prints after another one did: each is
    shown once per build (a build starts again at `#1`)."""

    def __init__(self) -> None:
        self.shown: set[str] = set()

    def __call__(self, line: str) -> None:  # every line of a build's output: nothing imported here
        text = line.strip()
        if (vertex := VERTEX.match(text)) is not None:
            if text in self.shown:
                return
            self.shown.add(text)
            stage = f"{vertex['stage']} " if vertex["stage"] else ""
            text = f"[{stage}{vertex['step']}] {vertex['instruction']}"
        elif text.startswith("#1 "):
            self.shown.clear()
            return
        elif not text.startswith("Step "):
            return
        sys.stdout.write(REDACTOR(f"  {text[:110]}{'...' if len(text) > 110 else ''}") + "\n")  # as say() does
        sys.stdout.flush()


build_progress = BuildSteps()

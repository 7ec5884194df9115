"""Progress on the terminal: per-host, per-phase steps of a deploy (rich) and its summary table; build steps and
plain lines, secret values masked.

On a terminal, a live panel under the finished steps shows what each host is doing now and for how long (a pull,
a health wait, the watch window); it goes away when the deploy ends. Anywhere else (CI logs, pipes) the same
information comes as plain lines: a long step prints one when it starts, every step one when it ends."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.facts.build import VERTEX
from shipyard.plans.bluegreen import PHASES
from shipyard.run.redact import REDACTOR

LONG_PHASES = frozenset({"pull", "healthy", "release", "hook", "watch"})


class Progress:
    """Thread-safe: host threads report steps as they start and finish. `quiet` keeps only failures and the
    summary; `live` (default: when the console is a terminal) shows the running steps in a live panel."""

    def __init__(self, console: Any = None, *, quiet: bool = False, live: bool | None = None) -> None:
        if console is None:
            from rich.console import Console

            console = Console(highlight=False, soft_wrap=True)
        self.console = console
        self.quiet = quiet
        self._lock = threading.Lock()
        self.live = (bool(console.is_terminal) if live is None else live) and not quiet
        self._running: dict[str, tuple[str, str, float]] = {}  # host -> (phase, what, started), for the panel
        self._panel: Any = None  # rich.live.Live while a deploy runs on a terminal

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Take the live panel away (the finished steps stay printed above where it was)."""
        with self._lock:
            panel, self._panel = self._panel, None
            self._running.clear()
        if panel is not None:
            panel.stop()

    def _render(self) -> Any:
        """The panel: one line per host with a running step. Called by rich's refresh thread, so it takes no lock
        (copying the dict is atomic)."""
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        return Group(*(Text(f"  [{host}] {phase:<8} {what} ... {now - started:.1f}s", style="cyan")
                       for host, (phase, what, started) in sorted(dict(self._running).items())))

    def _show(self, host: str, phase: str, what: str) -> None:
        with self._lock:
            self._running[host] = (phase, REDACTOR(what), time.monotonic())
            if self._panel is None:
                from rich.live import Live

                self._panel = Live(get_renderable=self._render, console=self.console, refresh_per_second=4,
                                   transient=True, redirect_stdout=False, redirect_stderr=False)
                try:
                    self._panel.start()
                except (BrokenPipeError, SystemExit):
                    self.console.quiet, self.live = True, False

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
        """A step starts: on a terminal it shows in the live panel until it ends; elsewhere a step that can take
        long (a pull, a health wait, a release command) says so in a line."""
        if self.live:
            self._show(host, phase, what)
        elif not self.quiet and phase in LONG_PHASES:
            self._print(f"[{host}] {phase:<8} {what} ...")

    def step(self, host: str, phase: str, what: str, seconds: float) -> None:
        self._running.pop(host, None)
        if not self.quiet:
            self._print(f"[{host}] {phase:<8} {what} ({seconds:.2f}s)")

    def note(self, host: str, text: str) -> None:
        self._print(f"[{host}] {text}", style="yellow")

    def failed(self, host: str, text: str, logs: str = "") -> None:
        self._running.pop(host, None)
        self._print(f"[{host}] FAILED: {text}", style="bold red")
        if logs:
            self._print(f"[{host}] last log lines of the new container:", style="red")
            for line in logs.splitlines():
                self._print(f"[{host}]   | {line}", style="red")

    def plan(self, host: str, lines: Sequence[str]) -> None:
        for line in lines:
            self._emit(REDACTOR(f"[{host}] {line}"), markup=False, highlight=False)

    def summary(self, title: str, rows: Mapping[str, tuple[str, str, Mapping[str, float]]]) -> None:
        """rows: host -> (release, outcome, phase timings). The end of a deploy: the live panel goes."""
        from rich.table import Table

        self.close()
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

"""What the monorepo tasks print: live progress, the summary table, dry-run plans, graphs."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from shipyard.monorepo.cache import LocalCache
from shipyard.monorepo.hashing import Planned
from shipyard.monorepo.scheduler import CACHED, FAILED, OK, SKIPPED, Outcome
from shipyard.monorepo.taskgraph import TaskGraph

STYLE = {OK: "green", CACHED: "cyan", FAILED: "bold red", SKIPPED: "yellow"}
SUMMARY_ROWS = 60  # beyond this, cache hits are counted rather than listed


class LiveReport:
    """Progress while tasks run: a bar and the running tasks on a terminal, plain lines elsewhere."""

    def __init__(self, console: Console, total: int, show_hits: bool = True) -> None:
        self.console = console
        self.total = total
        self.show_hits = show_hits
        self._lock = threading.Lock()
        self._running: list[str] = []
        self._progress: Progress | None = None
        self._bar: Any = None
        if console.is_terminal:
            self._progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
            self._bar = self._progress.add_task("starting", total=total)

    def __enter__(self) -> LiveReport:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _plain(self) -> bool:
        """Not a terminal and nothing recorded: lines go straight to the file (rich costs ~1 ms a line)."""
        return self._progress is None and not self.console.record and not self.console.is_terminal

    def _write(self, text: str) -> None:
        self.console.file.write(text + "\n")

    def line(self, text: str) -> None:
        with self._lock:
            if self._plain():
                self._write(text)
            else:
                self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def started(self, task_id: str) -> None:
        with self._lock:
            self._running.append(task_id)
            self._describe()

    def done(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome.id in self._running:
                self._running.remove(outcome.id)
            if outcome.status != CACHED or self.show_hits:
                note = f" ({outcome.detail})" if outcome.detail and outcome.status != OK else ""
                mark = {OK: "done", CACHED: "cache hit", FAILED: "FAILED", SKIPPED: "skipped"}[outcome.status]
                if self._plain():
                    self._write(f"{mark:>9} {outcome.id} {outcome.duration:.2f}s{note}")
                else:
                    self.console.print(f"[{STYLE[outcome.status]}]{mark:>9}[/] {escape(outcome.id)}"
                                       f" [dim]{outcome.duration:.2f}s{escape(note)}[/]", highlight=False)
            if self._progress is not None:
                self._progress.advance(self._bar)
                self._describe()

    def _describe(self) -> None:
        if self._progress is not None:
            shown = ", ".join(self._running[:3]) + (" ..." if len(self._running) > 3 else "")
            self._progress.update(self._bar, description=shown or "waiting")


def summary(order: Sequence[str], outcomes: Mapping[str, Outcome], elapsed: float) -> tuple[Table, str]:
    """The per-task table and the one-line totals printed under it."""
    table = Table(title=None, show_edge=False, header_style="bold")
    for column, justify in (("task", "left"), ("result", "left"), ("duration", "right"), ("cache", "left"),
                            ("note", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    hidden = 0
    for task_id in order:
        outcome = outcomes.get(task_id) or Outcome(task_id, SKIPPED, detail="not started")
        if len(order) > SUMMARY_ROWS and outcome.status == CACHED:
            hidden += 1
            continue
        table.add_row(escape(task_id), f"[{STYLE[outcome.status]}]{outcome.status}[/]", f"{outcome.duration:.2f}s",
                      outcome.cache, escape(outcome.detail))
    counts = {s: sum(1 for o in outcomes.values() if o.status == s) for s in (OK, CACHED, FAILED, SKIPPED)}
    hits = counts[CACHED]
    caption = (f"{len(order)} tasks: {counts[OK]} ran, {hits} cached, {counts[FAILED]} failed,"
               f" {counts[SKIPPED]} skipped in {elapsed:.2f}s")
    if hits == len(order) and order:
        caption += " - full cache hit"
    if hidden:
        caption += f" ({hidden} cache hits not listed)"
    return table, caption


def dry_json(tasks: TaskGraph, planned: Mapping[str, Planned], cache: LocalCache | None,
             force: bool = False) -> dict[str, Any]:
    out = []
    for task_id, node in tasks.nodes.items():
        plan = planned[task_id]
        cacheable = cache is not None and node.task.cache
        status = "off" if not cacheable else ("bypass" if force else
                                              ("hit" if cache is not None and cache.probe(plan.key) else "miss"))
        out.append({"id": task_id, "package": node.package.name, "dir": node.package.dir, "task": node.task.name,
                    "command": node.task.command, "hash": plan.key, "cache": status,
                    "dependencies": list(node.deps), "sources": list(node.sources), "inputs": list(plan.inputs),
                    "outputs": list(node.task.outputs), "env": list(plan.env), "target": task_id in tasks.targets})
    return {"tasks": out}


def dry_text(console: Console, data: dict[str, Any]) -> None:
    tasks = data["tasks"]
    if not tasks:
        console.print("nothing to run")
        return
    hits = sum(1 for t in tasks if t["cache"] == "hit")
    console.print(f"[bold]{len(tasks)} task(s) would run[/] ({hits} from the cache), in this order:\n")
    for t in tasks:
        colour = "cyan" if t["cache"] == "hit" else "yellow"
        shown = ", ".join(t["inputs"][:8]) + (f" ... (+{len(t['inputs']) - 8})" if len(t["inputs"]) > 8 else "")
        lines = [f"[bold]{escape(t['id'])}[/]  hash {t['hash'][:16]}  cache: [{colour}]{t['cache']}[/]"
                 + ("" if t["target"] else "  [dim](dependency)[/]"),
                 f"  command      {escape(t['command'])}  [dim](in {escape(t['dir'])})[/]",
                 f"  depends on   {escape(', '.join(t['dependencies'])) or '-'}"
                 + (f" [dim](+ sources of {escape(', '.join(t['sources']))})[/]" if t["sources"] else ""),
                 f"  inputs       {len(t['inputs'])} file(s): {escape(shown) or '-'}",
                 f"  outputs      {escape(', '.join(t['outputs'])) or '-'}",
                 f"  env          {escape(', '.join(t['env'])) or '-'}"]
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True)

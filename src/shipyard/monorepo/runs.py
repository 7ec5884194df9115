"""Plan and run a task across the workspace: keys, cache, scheduler, progress."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError
from shipyard.monorepo.affected import Affected
from shipyard.monorepo.cache import LocalCache
from shipyard.monorepo.execute import TaskExecutor
from shipyard.monorepo.hashing import FileHasher, Planned, list_files, plan_keys
from shipyard.monorepo.scheduler import OK, Outcome, schedule
from shipyard.monorepo.session import find_affected, open_workspace
from shipyard.monorepo.taskgraph import TaskGraph, all_tasks, defined_task_names, plan
from shipyard.monorepo.workspace import Workspace
from shipyard.run.base import Runner
from shipyard.run.local import LocalRunner

if TYPE_CHECKING:
    from rich.console import Console

CACHE_ENV = "SHIPYARD_CACHE_DIR"


def cache_for(config: Config) -> LocalCache | None:
    settings = config.project.workspace.cache
    if not settings.enabled:
        return None
    folder = Path(os.environ.get(CACHE_ENV) or settings.dir).expanduser()
    return LocalCache(folder if folder.is_absolute() else config.root / folder, settings.max_size_mb * 1024 * 1024)


@dataclass(frozen=True)
class Prepared:
    workspace: Workspace
    tasks: TaskGraph
    planned: dict[str, Planned]
    cache: LocalCache | None
    affected: Affected | None
    hasher: FileHasher | None = None


def prepare(config: Config, task: str, runner: Runner, *, affected_only: bool = False, base: str | None = None,
            head: str | None = None) -> Prepared:
    ws = open_workspace(config)
    per_package = all_tasks(ws.config, ws.graph, ws.config_name)
    names = defined_task_names(per_package)
    if task not in names:
        raise ShipyardError(f"no package defines a task named '{task}' (tasks: {', '.join(names) or 'none'})",
                            hint=f"add it under workspace.defaults or workspace.overrides in {ws.config_name}")
    affected = find_affected(config, runner, base, head, ws) if affected_only else None
    tasks = plan(ws.graph, per_package, task, affected.packages if affected is not None else None)
    cache = cache_for(config)
    hasher = FileHasher(config.root, cache.dir / "filehashes.json" if cache is not None else None)
    files = list_files(runner, config.root)
    if cache is not None:
        skip = cache.dir.resolve().relative_to(config.root.resolve()).as_posix() + "/" \
            if cache.dir.resolve().is_relative_to(config.root.resolve()) else None
        if skip:
            files = [f for f in files if not f.startswith(skip)]
    outputs = {name: [p for t in per_package[name].values() for p in t.outputs] for name in per_package}
    planned = plan_keys(tasks, files, hasher, ws.config.global_inputs, outputs, os.environ,
                        {name: pkg.dir for name, pkg in ws.packages.items()})
    hasher.save()
    return Prepared(ws, tasks, planned, cache, affected, hasher)


def execute(prepared: Prepared, console: Console, *, parallel: int, force: bool = False, logs: str = "full",
            strict: bool = False,
            make_runner: Callable[[Callable[[str], None]], Runner] | None = None
            ) -> tuple[dict[str, Outcome], float]:
    """Run the plan: cache hits are restored inline, misses run on `parallel` threads."""
    from rich.markup import escape

    from shipyard.monorepo.report import LiveReport

    start = time.monotonic()
    order = list(prepared.tasks.nodes)
    with LiveReport(console, len(order), show_hits=logs in ("full", "new")) as live:
        executor = TaskExecutor(prepared.workspace.root, prepared.tasks, prepared.planned, prepared.cache,
                                make_runner or (lambda echo: LocalRunner(echo=echo)), live, force, logs,
                                prepared.hasher, strict)
        outcomes = schedule(order, {i: n.deps for i, n in prepared.tasks.nodes.items()}, executor.run, parallel,
                            on_done=live.done, on_start=live.started, inline=executor.restore)
    if prepared.cache is not None:
        for key, why in prepared.cache.discarded:
            console.print(f"[yellow]cache entry {key[:16]} was corrupt and has been discarded ({escape(why)});"
                          " the task ran again[/]", highlight=False)
        if any(o.status == OK and o.cache in ("miss", "bypass") for o in outcomes.values()):
            prepared.cache.prune()
    return outcomes, time.monotonic() - start

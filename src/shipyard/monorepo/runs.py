"""Plan and run a task across the workspace: keys, cache, scheduler, progress."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import ShipyardError
from shipyard.monorepo.affected import Affected
from shipyard.monorepo.cache import LocalCache
from shipyard.monorepo.execute import TaskExecutor
from shipyard.monorepo.graph import Graph
from shipyard.monorepo.hashing import FileHasher, Planned, list_files, plan_keys
from shipyard.monorepo.scheduler import OK, Outcome, schedule
from shipyard.monorepo.session import affected_in, load_snapshot, open_workspace
from shipyard.monorepo.taskgraph import TaskDef, TaskGraph, all_tasks, defined_task_names, plan
from shipyard.run.base import Runner
from shipyard.run.local import LocalRunner

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.config.loader import Config

CACHE_ENV = "SHIPYARD_CACHE_DIR"


def _cache(root: Path, enabled: bool, directory: str, max_bytes: int) -> LocalCache | None:
    if not enabled:
        return None
    folder = Path(os.environ.get(CACHE_ENV) or directory).expanduser()
    return LocalCache(folder if folder.is_absolute() else root / folder, max_bytes)


def cache_for(config: Config) -> LocalCache | None:
    settings = config.project.workspace.cache
    return _cache(config.root, settings.enabled, settings.dir, settings.max_size_mb * 1024 * 1024)


@dataclass(frozen=True)
class Setup:
    """What planning takes from the configuration: from a full load, or from the stat-validated index."""

    root: Path
    config_name: str
    config_rel: str
    graph: Graph
    global_inputs: tuple[str, ...]
    tasks: dict[str, dict[str, TaskDef]]
    cache: LocalCache | None


@dataclass(frozen=True)
class Prepared:
    root: Path
    graph: Graph
    tasks: TaskGraph
    planned: dict[str, Planned]
    cache: LocalCache | None
    affected: Affected | None
    hasher: FileHasher | None = None


def setup_of(config: Config) -> Setup:
    ws = open_workspace(config)
    return Setup(config.root, ws.config_name, config.path.resolve().relative_to(config.root.resolve()).as_posix(),
                 ws.graph, tuple(ws.config.global_inputs), all_tasks(ws.config, ws.graph, ws.config_name),
                 cache_for(config))


def indexed_setup() -> Setup | None:
    """The setup from the index, without loading shipyard.yaml, when the index is valid; else None."""
    snap = load_snapshot()
    tasks = snap.tasks() if snap is not None else None
    if snap is None or tasks is None:
        return None
    return Setup(snap.root, snap.config_path.name, snap.config_rel, snap.graph, snap.global_inputs, tasks,
                 _cache(snap.root, *snap.cache))


def prepare(config: Config | Setup, task: str, runner: Runner, *, affected_only: bool = False,
            base: str | None = None, head: str | None = None) -> Prepared:
    setup = config if isinstance(config, Setup) else setup_of(config)
    per_package, root = setup.tasks, setup.root
    names = defined_task_names(per_package)
    if task not in names:
        raise ShipyardError(f"no package defines a task named '{task}' (tasks: {', '.join(names) or 'none'})",
                            hint=f"add it under workspace.defaults or workspace.overrides in {setup.config_name}")
    affected = affected_in(runner, root, setup.graph, setup.global_inputs, setup.config_rel, base, head) \
        if affected_only else None
    tasks = plan(setup.graph, per_package, task, affected.packages if affected is not None else None)
    cache = setup.cache
    hasher = FileHasher(root, cache.dir / "filehashes.json" if cache is not None else None)
    files = list_files(runner, root)
    if cache is not None:
        skip = cache.dir.resolve().relative_to(root.resolve()).as_posix() + "/" \
            if cache.dir.resolve().is_relative_to(root.resolve()) else None
        if skip:
            files = [f for f in files if not f.startswith(skip)]
    outputs = {name: [p for t in per_package[name].values() for p in t.outputs] for name in per_package}
    planned = plan_keys(tasks, files, hasher, setup.global_inputs, outputs, os.environ,
                        {name: pkg.dir for name, pkg in setup.graph.packages.items()})
    hasher.save()
    return Prepared(root, setup.graph, tasks, planned, cache, affected, hasher)


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
        executor = TaskExecutor(prepared.root, prepared.tasks, prepared.planned, prepared.cache,
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

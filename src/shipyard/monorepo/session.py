"""The light use cases: discover the workspace and decide what is affected (runs.py plans and runs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.monorepo import affected as affected_mod
from shipyard.monorepo import index
from shipyard.monorepo.affected import Affected
from shipyard.monorepo.changes import Changes, changes_since, start_changes
from shipyard.monorepo.graph import Graph, WorkspaceError

if TYPE_CHECKING:
    from shipyard.config.loader import Config
    from shipyard.monorepo.taskgraph import TaskDef
    from shipyard.monorepo.workspace import Workspace
    from shipyard.run.base import Runner


def _overrides_deps(config: Config) -> dict[str, tuple[str, ...]]:
    return {ref: tuple(s.depends_on) for ref, s in config.project.workspace.overrides.items() if s.depends_on}


def _config_rel(config: Config) -> str:
    return config.path.resolve().relative_to(config.root.resolve()).as_posix()


def open_workspace(config: Config) -> Workspace:
    """The workspace: from the stat-validated index when it still describes the disk, else discovered (and indexed)."""
    settings = config.project.workspace
    root, config_path = config.root, config.path.resolve()
    extra = _overrides_deps(config)
    from shipyard.monorepo.workspace import Workspace, discover

    snap = index.load(root, config_path)
    if (snap is not None and list(snap.patterns) == list(settings.packages)
            and list(snap.global_inputs) == list(settings.global_inputs) and snap.overrides_deps == extra):
        return Workspace(root=root, config=settings, graph=snap.graph, config_name=config.path.name)
    from shipyard.monorepo.taskgraph import all_tasks

    before = index.signatures(root, config_path, list(settings.packages))  # what the discovery is about to read
    ws = discover(root, settings, config.path.name)
    try:
        tasks: dict[str, dict[str, TaskDef]] | None = all_tasks(settings, ws.graph, ws.config_name)
    except WorkspaceError:
        tasks = None  # `monorepo.run` says why, from the full path, every time
    cache = (settings.cache.enabled, settings.cache.dir, settings.cache.max_size_mb * 1024 * 1024)
    index.save(root, config_path, list(settings.packages), list(settings.global_inputs), _config_rel(config),
               extra, ws.graph, tasks, cache, before)
    return ws


def load_snapshot() -> index.Snapshot | None:
    """The index for the configuration that `load_config()` would find, when it is still valid."""
    config_path = index.find_config()
    return None if config_path is None else index.load(config_path.parent, config_path)


def affected_in(runner: Runner, root: Path, graph: Graph, global_inputs: list[str] | tuple[str, ...],
              config_rel: str, base: str | None, head: str | None) -> Affected:
    return _affected_from(changes_since(runner, root, base, head), graph, global_inputs, config_rel)


def _affected_from(changes: Changes, graph: Graph, global_inputs: list[str] | tuple[str, ...],
                   config_rel: str) -> Affected:
    result = affected_mod.compute(graph, changes.files, global_inputs, (config_rel,))
    return Affected(result.graph, result.changed_files, result.packages, result.reasons, result.global_change,
                    base=changes.base, merge_base=changes.merge_base, head=changes.head)


def find_affected(config: Config, runner: Runner, base: str | None = None, head: str | None = None,
                  workspace: Workspace | None = None, changes: Callable[[], Changes] | None = None) -> Affected:
    """What is affected since `base`; `changes`, when given, is git's answer already asked (`start_changes`)."""
    ws = workspace or open_workspace(config)
    if changes is None:
        return affected_in(runner, config.root, ws.graph, ws.config.global_inputs, _config_rel(config), base, head)
    return _affected_from(changes(), ws.graph, ws.config.global_inputs, _config_rel(config))


def find_affected_indexed(runner: Runner, base: str | None = None, head: str | None = None,
                          started: tuple[Path, Callable[[], Changes]] | None = None) -> Affected | None:
    """`find_affected` without loading the configuration, when the index is valid for it; else None.

    The index was written after a full, successful load of a configuration with the same content, so the
    answer is the one the full path gives (tests/unit/test_monorepo_index.py holds both to it).
    """
    if started is not None:  # `start_affected` began asking git already
        config_path, changes = started
    else:
        found = index.find_config()
        if found is None:
            return None
        config_path, changes = found, start_changes(runner, found.parent, base, head)  # git works meanwhile
    snap = index.load(config_path.parent, config_path)
    if snap is None:
        return None
    return _affected_from(changes(), snap.graph, snap.global_inputs, snap.config_rel)


def affected_services(config: Config, runner: Runner, base: str | None = None,
                      head: str | None = None) -> tuple[list[str], str]:
    """Services to build for `docker.build --affected`, and one line that says why."""
    from shipyard.monorepo.services import affected_services as pick

    result = find_affected(config, runner, base, head)
    names = pick(config, result)
    since = f"since {result.base} (merge base {(result.merge_base or '')[:12]})"
    if not names:
        return [], f"no service is affected {since}: nothing to build"
    packages = ", ".join(result.packages) or "none"
    return names, f"affected {since}: services {', '.join(names)} (packages: {packages})"

"""The light use cases: discover the workspace and decide what is affected (runs.py plans and runs)."""

from __future__ import annotations

from shipyard.config.loader import Config
from shipyard.monorepo import affected as affected_mod
from shipyard.monorepo.affected import Affected
from shipyard.monorepo.changes import changes_since
from shipyard.monorepo.workspace import Workspace, discover
from shipyard.run.base import Runner


def open_workspace(config: Config) -> Workspace:
    return discover(config.root, config.project.workspace, config.path.name)


def find_affected(config: Config, runner: Runner, base: str | None = None, head: str | None = None,
                  workspace: Workspace | None = None) -> Affected:
    ws = workspace or open_workspace(config)
    changes = changes_since(runner, config.root, base, head)
    config_rel = config.path.resolve().relative_to(config.root.resolve()).as_posix()
    result = affected_mod.compute(ws.graph, changes.files, ws.config.global_inputs, (config_rel,))
    return Affected(result.graph, result.changed_files, result.packages, result.reasons, result.global_change,
                    base=changes.base, merge_base=changes.merge_base, head=changes.head)

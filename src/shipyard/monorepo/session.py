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

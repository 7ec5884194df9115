"""`release`: what would be shipped from this checkout."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import load_config, runner, task


@task(help={"allow_dirty": "accept uncommitted changes (the tag gets a -dirty suffix)",
            "env": "environment whose registry override applies", "json": JSON_HELP.format(kind="release")},
      default=True)
def info(c: Any, allow_dirty: bool = False, env: str | None = None, json: bool = False) -> None:
    """Show the release identity of HEAD: SHA, branch, version and every image reference."""
    from shipyard.release import current
    from shipyard.report import dumps
    from shipyard.report.release import release_doc, release_lines

    config = load_config()
    release = current(runner(), cwd=str(config.root), allow_dirty=allow_dirty)
    registry, services = config.registry(env), list(config.services(env))
    print(dumps(release_doc(release, registry, services, env)) if json
          else "\n".join(release_lines(release, registry, services)))


ns = Collection("release", info)

"""`release`: what would be shipped from this checkout."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import load_config, runner, task


@task(help={"allow_dirty": "accept uncommitted changes (the tag gets a -dirty suffix)",
            "env": "environment whose registry override applies"}, default=True)
def info(c: Any, allow_dirty: bool = False, env: str | None = None) -> None:
    """Show the release identity of HEAD: SHA, branch, version and every image reference."""
    from shipyard.release import current

    config = load_config()
    release = current(runner(), cwd=str(config.root), allow_dirty=allow_dirty)
    print(f"sha      {release.sha} (short {release.short_sha}){' DIRTY' if release.dirty else ''}")
    print(f"branch   {release.branch or '(detached)'}")
    print(f"version  {release.version or '(no version tag at HEAD)'}")
    registry = config.registry(env)
    for service in config.services(env):
        print(f"image    {release.image(registry, service)}")


ns = Collection("release", info)

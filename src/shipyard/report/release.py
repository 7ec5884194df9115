"""The release identity of a checkout (`release.info`): plain lines and the shipyard.release document. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shipyard.config.schema import Registry
from shipyard.release import Release
from shipyard.report import schema


def release_doc(release: Release, registry: Registry, services: Iterable[str], env: str | None) -> dict[str, Any]:
    return {"schema": schema("release"), "sha": release.sha, "short_sha": release.short_sha, "tag": release.tag,
            "branch": release.branch, "version": release.version, "dirty": release.dirty, "environment": env,
            "registry": {"address": registry.address, "namespace": registry.namespace},
            "images": {service: release.image(registry, service) for service in services}}


def release_lines(release: Release, registry: Registry, services: Iterable[str]) -> list[str]:
    return [f"sha      {release.sha} (short {release.short_sha}){' DIRTY' if release.dirty else ''}",
            f"branch   {release.branch or '(detached)'}",
            f"version  {release.version or '(no version tag at HEAD)'}",
            *(f"image    {release.image(registry, service)}" for service in services)]

"""`status --env E`: the live release and health of any environment (compose, VM or Kubernetes)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import release_target, task


@task(default=True, help={"env": "an environment of shipyard.yaml (any target)",
                          "json": "print one JSON document (docs/JSON.md; VM and Kubernetes environments)"})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """The live release and health of an environment, whatever its target (deploy.status, k8s.status, docker.ps)."""
    release_target(env).status(as_json=json)


ns = Collection("status", status)

"""`releases --env E`: the releases an environment remembers (the hosts' ledgers, or the cluster's history)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import release_target, task


@task(default=True, help={"env": "a VM or Kubernetes environment of shipyard.yaml",
                          "json": "print one JSON document (docs/JSON.md)"})
def releases(c: Any, env: str | None = None, json: bool = False) -> None:
    """What was deployed, when, by whom (deploy.releases: the hosts' ledgers; k8s.releases: the cluster's history)."""
    release_target(env).history(as_json=json)


ns = Collection("releases", releases)

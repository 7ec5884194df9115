"""`releases --env E`: the releases an environment remembers (the hosts' ledgers, or the cluster's history)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import task
from shipyard.tasks.status import kind


@task(default=True, help={"env": "a VM or Kubernetes environment of shipyard.yaml",
                          "json": "print one JSON document (docs/JSON.md)"})
def releases(c: Any, env: str | None = None, json: bool = False) -> None:
    """What was deployed, when, by whom (deploy.releases: the hosts' ledgers; k8s.releases: the cluster's history)."""
    from shipyard.targets.kinds import unsupported

    found = kind(env)
    assert env is not None
    if found == "vm":
        from shipyard.tasks import deploy

        deploy.releases(c, env=env, json=json)
    elif found == "kubernetes":
        from shipyard.tasks import k8s

        k8s.releases(c, env=env, json=json)
    else:
        raise unsupported("releases", env, found, "a compose environment runs your working tree, not a release:"
                                                  " `invoke release.info` shows what HEAD would ship")


ns = Collection("releases", releases)

"""`status --env E`: the live release and health of any environment (compose, VM or Kubernetes)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import task


def kind(env: str | None) -> str:
    from shipyard.sandbox.overlay import with_sandbox
    from shipyard.targets.kinds import kind_of
    from shipyard.tasks._base import load_config

    return kind_of(with_sandbox(load_config()), env)


@task(default=True, help={"env": "an environment of shipyard.yaml (any target)",
                          "json": "print one JSON document (docs/JSON.md; VM and Kubernetes environments)"})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """The live release and health of an environment, whatever its target (deploy.status, k8s.status, docker.ps)."""
    from shipyard.targets.kinds import unsupported

    found = kind(env)
    assert env is not None
    if found == "vm":
        from shipyard.tasks import deploy

        deploy.status(c, env=env, json=json)
    elif found == "kubernetes":
        from shipyard.tasks import k8s

        k8s.status(c, env=env, json=json)
    else:
        if json:
            raise unsupported("status --json", env, found, f"run `invoke status --env {env}` without --json")
        from shipyard.tasks import docker

        docker.ps(c, env=env)


ns = Collection("status", status)

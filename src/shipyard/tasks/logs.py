"""`logs --env E [--service S]`: a service's logs on any target (containers on VMs, pods, the local stack)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import task
from shipyard.tasks.status import kind


@task(default=True, help={"env": "an environment of shipyard.yaml (any target)",
                          "service": "the service (default: every service on compose and VMs; required on Kubernetes)",
                          "tail": "lines of history (default 100)", "follow": "keep streaming new lines",
                          "since": "only lines since (e.g. 10m; VMs and Kubernetes)"})
def logs(c: Any, env: str | None = None, service: str | None = None, tail: int = 100, follow: bool = False,
         since: str | None = None) -> None:
    """A service's logs, whatever the target (deploy.logs, k8s.logs, docker.logs), secret values masked."""
    from shipyard.targets.kinds import unsupported

    found = kind(env)
    assert env is not None
    if found == "vm":
        from shipyard.tasks import deploy

        deploy.logs(c, env=env, service=service, tail=tail, follow=follow, since=since)
    elif found == "kubernetes":
        if not service:
            raise unsupported("logs without --service", env, found, "pass --service api (or web)")
        from shipyard.tasks import k8s

        k8s.logs(c, env=env, service=service, tail=tail, follow=follow, since=since)
    else:
        if since:
            raise unsupported("logs --since", env, found, "drop --since, or use --tail")
        from shipyard.tasks import docker

        docker.logs(c, service=service, follow=follow, tail=tail, env=env)


ns = Collection("logs", logs)

"""`logs --env E [--service S]`: a service's logs on any target (containers on VMs, pods, the local stack)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import release_target, task


@task(default=True, help={"env": "an environment of shipyard.yaml (any target)",
                          "service": "the service (default: every service on compose and VMs; required on Kubernetes)",
                          "tail": "lines of history (default 100)", "follow": "keep streaming new lines",
                          "since": "only lines since (e.g. 10m; VMs and Kubernetes)"})
def logs(c: Any, env: str | None = None, service: str | None = None, tail: int = 100, follow: bool = False,
         since: str | None = None) -> None:
    """A service's logs, whatever the target (deploy.logs, k8s.logs, docker.logs), secret values masked."""
    release_target(env).logs(service=service, tail=tail, follow=follow, since=since)


ns = Collection("logs", logs)

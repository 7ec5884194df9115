"""`exec --env E --service S --command '...'`: a command once where a service's live release runs, on any target
(a one-off container of the live release on a VM host, the running container of the local stack, a running pod on
Kubernetes). It may change the environment (a migration, a restore): an approval-gated one needs --yes."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import release_target, task


@task(name="exec", default=True, help={
    "env": "an environment of shipyard.yaml (VM, compose or Kubernetes)",
    "service": "the service whose live release runs the command",
    "command": "the command line, run by sh -c (quote it), e.g. 'python -m app migrate'",
    "host": "VMs: the host to run it on (default: the first)",
    "live": "VMs: run inside the running container instead of a one-off container of its image",
    "yes": "confirm: the command may change an environment that requires approval (production)"})
def exec_(c: Any, env: str | None = None, service: str | None = None, command: str = "", host: str | None = None,
          live: bool = False, yes: bool = False) -> None:
    """Run a command once in a service's live release, whatever the target (deploy.exec on VMs); exits with its code."""
    from invoke.exceptions import Exit

    code = release_target(env).exec(service=service, command=command, host=host, live=live, yes=yes)
    if code:
        raise Exit(code=code)


ns = Collection("exec", exec_)

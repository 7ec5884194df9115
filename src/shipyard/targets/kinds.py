"""Which kind of target an environment is: the top-level verbs (deploy, rollback, status, releases, logs) take the
same flags for every target and hand the work to that target's own tasks."""

from __future__ import annotations

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError

KINDS = ("compose", "vm", "kubernetes")


def kind_of(config: Config, env: str | None) -> str:
    """`compose`, `vm` or `kubernetes`; a missing or unknown environment is one line naming the known ones."""
    if not env:
        names = ", ".join(config.project.environments) or "none configured"
        raise ShipyardError("--env is required", hint=f"pass one of: {names}")
    return str(config.environment(env).target)


def unsupported(verb: str, env: str, kind: str, instead: str) -> ShipyardError:
    """A verb that this kind of target does not have, in one line with what to run instead."""
    return ShipyardError(f"`{verb}` does not apply to '{env}' (target: {kind})", hint=instead)

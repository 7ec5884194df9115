"""Which kind of target an environment is: the top-level verbs (deploy, rollback, status, releases, logs, exec) take
the same flags for every target and hand the work to that kind's implementation of targets/base.py's ReleaseTarget
(`release_target` picks it by `kind_of`)."""

from __future__ import annotations

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError

KINDS = ("compose", "vm", "kubernetes")


def kind_of(config: Config, env: str | None) -> str:
    """`compose`, `vm` or `kubernetes`; a missing or unknown environment is one line naming the known ones."""
    if not env:
        raise needs_env(config)
    return str(config.environment(env).target)


def needs_env(config: Config, kind: str | None = None) -> ShipyardError:
    """No --env given: one line naming the environments there are (of this kind only, with `kind`)."""
    names = [name for name, env in config.project.environments.items() if kind is None or env.target == kind]
    return ShipyardError("--env is required", hint=f"pass one of: {', '.join(names) or 'none configured'}")


def unsupported(verb: str, env: str, kind: str, instead: str) -> ShipyardError:
    """A verb that this kind of target does not have, in one line with what to run instead."""
    return ShipyardError(f"`{verb}` does not apply to '{env}' (target: {kind})", hint=instead)

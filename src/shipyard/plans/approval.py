"""One approval policy for every command that changes an environment, on every target.

An environment with `require_approval: true` (production) is changed only with `--yes` at a terminal, or with
the CI marker `SHIPYARD_APPROVED=1`, which the delivery workflows set in a GitHub environment whose required
reviewers have approved the run. A dry run changes nothing and never needs approval. Pure: the caller passes the
environment variables in.

A change can also carry risks of its own (a rollback across a schema change, plans/rollback.py). Each is a reason
for the same confirmation, on any environment: only `--yes` confirms it, because the CI marker approves changing
the environment, not this particular hazard (a CI job confirms it by passing `--yes`, from an input a person set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.errors import ShipyardError

#: The CI marker: set to "1" only by a job that a GitHub environment's reviewers approved.
MARKER = "SHIPYARD_APPROVED"


def required(env: Any) -> bool:
    """Whether changing this environment (any target) needs approval."""
    if getattr(env, "require_approval", False):
        return True
    deploy = getattr(env, "deploy", None)  # VM environments also accept it under deploy: (the older place)
    return bool(getattr(deploy, "require_approval", False))


def check(env_name: str, env: Any, action: str, *, yes: bool, dry_run: bool,
          environ: Mapping[str, str], risks: Sequence[str] = ()) -> None:
    """Refuse `action` on an approval-gated environment unless it was approved, and any `action` with `risks`
    (one line each) unless `--yes` confirmed them; one line, nothing changed. A dry run is never refused."""
    if yes or dry_run:
        return
    if risks:
        raise ShipyardError(f"{action} of '{env_name}' refused: {'; '.join(risks)}",
                            hint=f"once you have checked it, re-run with --yes ({MARKER}=1 is not enough);"
                                 " --dry-run shows the plan")
    if not required(env) or environ.get(MARKER) == "1":
        return
    raise ShipyardError(f"{action} changes '{env_name}', which requires approval, and none was given",
                        hint=f"re-run with --yes, or from CI with {MARKER}=1 set by a job that an environment's"
                             " reviewers approved; --dry-run shows what would change")

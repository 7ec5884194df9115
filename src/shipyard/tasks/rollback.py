"""`rollback`: put a retained release back on every host of an environment, in seconds, without dropping a request.

    invoke rollback --env staging        # the release before the live one (from the hosts' ledger)
    invoke rollback --sha abc123 --env production --yes

Going back across a release whose release command changed the database schema warns, names it, and refuses
without `--yes` on any environment (the old code must work with the new schema: docs/DEPLOY.md, expand/contract).
"""

from __future__ import annotations

import os
from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import release_target, task


@task(default=True, help={
    "sha": "release to go back to (a SHA or its first characters); default: the one before the live release",
    "env": "a VM or Kubernetes environment (default: $SHIPYARD_ENV; required, never guessed)",
    "yes": "confirm a rollback of an environment that requires approval (production), or one across a release"
           " that changed the database schema",
    "dry_run": "print the plan and the exact commands per host and change nothing",
    "wait": "seconds to wait for another deploy's lock instead of failing at once (default 0)",
    "json": "with --dry-run: " + JSON_HELP.format(kind="plan"),
})
def rollback(c: Any, sha: str | None = None, env: str | None = None, yes: bool = False, dry_run: bool = False,
             wait: float = 0.0, json: bool = False) -> None:
    """Swap back to a retained release: no build, no pull when the image is still on the host."""
    env = env or os.environ.get("SHIPYARD_ENV")  # no environment: refused, never guessed
    release_target(env).rollback(sha=sha, yes=yes, dry_run=dry_run, wait=wait, as_json=json)


ns = Collection("rollback", rollback)

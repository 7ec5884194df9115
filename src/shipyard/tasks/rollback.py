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
from shipyard.tasks._base import task


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
    from dataclasses import replace

    from shipyard.report import plan_needs_dry_run
    from shipyard.targets.kinds import unsupported
    from shipyard.targets.progress import Progress
    from shipyard.targets.vm import bluegreen
    from shipyard.targets.vm.admin import plan_rollback, show_plan
    from shipyard.targets.vm.env import env_files
    from shipyard.tasks.deploy import approve, target_for
    from shipyard.tasks.status import kind

    env = env or os.environ.get("SHIPYARD_ENV")  # no environment: refused, never guessed
    found = kind(env)
    if found == "kubernetes" and env is not None:
        if wait or json:
            raise unsupported("rollback --wait/--json", env, found, f"run `invoke rollback --env {env}` without them")
        from shipyard.tasks import k8s

        k8s.rollback(c, env=env, sha=sha, dry_run=dry_run, yes=yes)
        return
    if found == "compose" and env is not None:
        raise unsupported("rollback", env, found, "a compose environment runs your working tree: check out the"
                                                  f" commit, then `invoke docker.up --env {env}`")
    plan_needs_dry_run(json, dry_run)
    config, target = target_for(env)
    approve(target, "rollback", yes, dry_run)
    apps_env, _ = env_files(config, target.env_name, target.env, target.services)
    chosen = plan_rollback(target, sha, wait_lock=wait)
    request = replace(chosen.request, env_contents=apps_env)
    warnings = [chosen.warning] if chosen.warning else []
    if dry_run:
        show_plan(target, request, as_json=json, warnings=warnings)
        return
    approve(target, "rollback", yes, dry_run, risks=warnings)  # across a schema change: --yes, or nothing changes
    for line in warnings:
        print(f"warning: {line} (confirmed with --yes)")
    print(f"rolling {target.env_name} back to {request.release}")
    bluegreen.deploy(target, request, Progress())


ns = Collection("rollback", rollback)

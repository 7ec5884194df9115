"""`deploy`: zero-downtime blue/green releases to VMs over SSH (`target: vm` environments).

    invoke deploy --env staging [--sha S]     # build or reuse <service>:<sha>, push, swap on every host
    invoke deploy.staging / deploy.production # shorthands (production needs --yes or SHIPYARD_APPROVED=1)
    invoke deploy.setup --env staging         # make fresh hosts ready (idempotent)
    invoke deploy.status / deploy.releases / deploy.prune / deploy.unlock --force
"""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import build_args, load_config, release_target, task

ENV_HELP = "a `target: vm` environment of shipyard.yaml (or `sandbox` after `invoke sandbox.up`)"
DEPLOY_HELP = {
    "env": "a VM environment (blue/green on its hosts; `sandbox` after `invoke sandbox.up`) or a Kubernetes one",
    "sha": "release to deploy: an image tag / git SHA already built (default: HEAD, built and pushed if needed)",
    "yes": "confirm a deploy to an environment that requires approval (production)",
    "dry_run": "print the plan and the exact commands per host (facts are read, nothing changes)",
    "wait": "seconds to wait for another deploy's lock instead of failing at once (default 0)",
    "force": "redeploy even where the release is already live and healthy",
    "build_arg": "KEY=VALUE passed to `docker build` (repeatable), e.g. PYTHON_IMAGE=...",
    "allow_dirty": "deploy a build of a dirty working tree (tag gets -dirty; never for production)",
    "platform": "platform of the images built for this deploy (default: build.platform in shipyard.yaml,"
                " linux/amd64)",
    "json": "with --dry-run: " + JSON_HELP.format(kind="plan"),
}


YES_HELP = "confirm a change to an environment that requires approval (production)"
WAIT_HELP = DEPLOY_HELP["wait"]


def _vm(env: str | None) -> Any:
    """The VM environment's verbs (targets/vm/verbs.py): deploy.* drives `target: vm` environments only."""
    from shipyard.sandbox.overlay import with_sandbox
    from shipyard.targets.vm.verbs import vm_verbs

    return vm_verbs(with_sandbox(load_config()), env)


@task(default=True, iterable=["build_arg"], help=DEPLOY_HELP)
def deploy(c: Any, env: str | None = None, sha: str | None = None, yes: bool = False, dry_run: bool = False,
           wait: float = 0.0, force: bool = False, build_arg: list[str] | None = None,
           allow_dirty: bool = False, platform: str | None = None, json: bool = False) -> None:
    """Deploy a release to an environment: blue/green on every VM without dropping a request, or (for a Kubernetes
    environment) the same release step then k8s.deploy."""
    release_target(env).deploy(sha=sha, yes=yes, dry_run=dry_run, as_json=json, wait=wait, force=force,
                               build_args=build_args(build_arg), allow_dirty=allow_dirty, platform=platform)


_SHORT = {k: v for k, v in DEPLOY_HELP.items() if k != "env"}


@task(iterable=["build_arg"], help=_SHORT)
def staging(c: Any, sha: str | None = None, yes: bool = False, dry_run: bool = False, wait: float = 0.0,
            force: bool = False, build_arg: list[str] | None = None, allow_dirty: bool = False,
            platform: str | None = None, json: bool = False) -> None:
    """Deploy to staging (same as `deploy --env staging`)."""
    _vm("staging").deploy(sha=sha, yes=yes, dry_run=dry_run, as_json=json, wait=wait, force=force,
                          build_args=build_args(build_arg), allow_dirty=allow_dirty, platform=platform)


@task(iterable=["build_arg"], help=_SHORT)
def production(c: Any, sha: str | None = None, yes: bool = False, dry_run: bool = False, wait: float = 0.0,
               force: bool = False, build_arg: list[str] | None = None, allow_dirty: bool = False,
               platform: str | None = None, json: bool = False) -> None:
    """Deploy to production (needs --yes, or SHIPYARD_APPROVED=1 from an approved CI environment)."""
    _vm("production").deploy(sha=sha, yes=yes, dry_run=dry_run, as_json=json, wait=wait, force=force,
                             build_args=build_args(build_arg), allow_dirty=allow_dirty, platform=platform)


@task(help={"env": ENV_HELP, "dry_run": "print what would change on each host and change nothing",
            "yes": YES_HELP, "wait": WAIT_HELP})
def setup(c: Any, env: str | None = None, dry_run: bool = False, yes: bool = False, wait: float = 0.0) -> None:
    """Make hosts ready: Docker, python3, state directory, network, proxy, accessories (idempotent; the proxy is
    changed under each host's deploy lock)."""
    _vm(env).setup(dry_run=dry_run, yes=yes, wait=wait)


@task(help={"env": ENV_HELP, "json": JSON_HELP.format(kind="status")})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """Per host: the live colour, release and health of every service; the lock; the last ledger entry."""
    _vm(env).status(as_json=json)


@task(help={"env": ENV_HELP, "last": "how many entries per host (default 20)",
            "json": JSON_HELP.format(kind="releases")})
def releases(c: Any, env: str | None = None, last: int = 20, json: bool = False) -> None:
    """The deploy ledger of every host: when, what, who, outcome, per-phase timings."""
    _vm(env).history(as_json=json, last=last)


@task(help={"env": ENV_HELP, "dry_run": "list what would be removed and remove nothing",
            "registry": "also delete old release tags from the registry (default on; --no-registry to skip)",
            "yes": YES_HELP, "wait": WAIT_HELP})
def prune(c: Any, env: str | None = None, dry_run: bool = False, registry: bool = True, yes: bool = False,
          wait: float = 0.0) -> None:
    """Keep the last registry.retain releases per service on hosts and in the registry, never live or previous
    (under each host's deploy lock)."""
    _vm(env).prune(dry_run=dry_run, registry=registry, yes=yes, wait=wait)


@task(help={"env": ENV_HELP, "force": "break the lock even though its lease has not expired (recorded)",
            "dry_run": "show whose lock would be broken and change nothing", "yes": YES_HELP})
def unlock(c: Any, env: str | None = None, force: bool = False, dry_run: bool = False, yes: bool = False) -> None:
    """Show the deploy lock of every host; with --force, break it and record that in the ledger."""
    _vm(env).unlock(force=force, dry_run=dry_run, yes=yes)


@task(help={"env": ENV_HELP, "service": "a service (its live container) or an accessory", "host": "one host only",
            "tail": "lines of history per host (default 100)", "follow": "keep streaming new lines",
            "since": "only lines since (e.g. 10m, 2026-11-30T10:00)"})
def logs(c: Any, env: str | None = None, service: str | None = None, host: str | None = None, tail: int = 100,
         follow: bool = False, since: str | None = None) -> None:
    """Logs of a service's live container (or an accessory's) on every host, each line prefixed by its host."""
    _vm(env).logs(service=service, host=host, tail=tail, follow=follow, since=since)


@task(name="exec", help={
    "env": ENV_HELP, "service": "the service whose live release runs the command",
    "command": "the command line, run by sh -c (quote it), e.g. 'python -m app migrate'",
    "host": "the host to run it on (default: the first)",
    "live": "run inside the running container instead of a one-off container of its image",
    "yes": YES_HELP})
def exec_(c: Any, env: str | None = None, service: str | None = None, command: str = "", host: str | None = None,
          live: bool = False, yes: bool = False) -> None:
    """Run a command once, on one host, in a one-off container of the live release (its env, its network)."""
    from invoke.exceptions import Exit

    code = _vm(env).exec(service=service, command=command, host=host, live=live, yes=yes)
    if code:
        raise Exit(code=code)


# --- accessories: `invoke deploy.accessories.<verb> --env E` --------------------------------------------------

ACC_HELP = {"env": ENV_HELP, "name": "one accessory (default: every accessory of the environment)"}


@task(name="boot", help={**ACC_HELP, "dry_run": "print what would start or change and change nothing", "yes": YES_HELP})
def acc_boot(c: Any, env: str | None = None, name: str | None = None, dry_run: bool = False, yes: bool = False) -> None:
    """Start every accessory that is missing, recreate one whose image or settings changed; report the rest."""
    from shipyard.errors import ShipyardError
    from shipyard.report import fail_unreachable
    from shipyard.targets.vm.verbs import print_boot

    accessories = _vm(env).accessories(with_env=True, change="deploy.accessories.boot", yes=yes, dry_run=dry_run)
    if name:
        accessories.placed(name)
    reports = accessories.boot(dry_run=dry_run, only=name)
    unreadable = print_boot(reports, dry_run)
    if not reports:
        raise ShipyardError("no accessory matched")
    fail_unreachable(unreadable, len(reports), "their accessories are unknown")


@task(name="status", help=ACC_HELP)
def acc_status(c: Any, env: str | None = None, name: str | None = None) -> None:
    """Per host: each accessory's container state and health."""
    from invoke.exceptions import Exit

    states = _vm(env).accessories().status(name)
    for st in states:
        print(f"[{st.host}] {st.name:<12} {st.status:<10} health {st.health}")
    if not all(st.ready for st in states):
        raise Exit(code=1)


@task(name="logs", help={**ACC_HELP, "tail": "lines of history (default 100)", "follow": "keep streaming",
                         "since": "only lines since (e.g. 10m, 2026-11-30T10:00)"})
def acc_logs(c: Any, env: str | None = None, name: str | None = None, tail: int = 100, follow: bool = False,
             since: str | None = None) -> None:
    """An accessory's container logs, from every host it runs on."""
    from shipyard.errors import ShipyardError

    if not name:
        raise ShipyardError("--name is required: the accessory whose logs to show")
    _vm(env).accessories().logs(name, tail=tail, follow=follow, since=since)


@task(name="restart", help={**ACC_HELP, "name": "the accessory to restart (data volumes are kept)", "yes": YES_HELP})
def acc_restart(c: Any, env: str | None = None, name: str | None = None, yes: bool = False) -> None:
    """Restart an accessory and wait until it is healthy again (its volumes are kept)."""
    from shipyard.errors import ShipyardError

    if not name:
        raise ShipyardError("--name is required: the accessory to restart")
    for st in _vm(env).accessories(change="deploy.accessories.restart", yes=yes).restart(name):
        print(f"[{st.host}] {st.name}: restarted, {st.status}, health {st.health}")


@task(name="remove", iterable=["volume"], help={
    **ACC_HELP, "name": "the accessory to remove",
    "volume": "also delete this volume of it (repeatable; by name, e.g. pgdata): its data is gone for good",
    "yes": "confirm", "dry_run": "print what would be removed and remove nothing"})
def acc_remove(c: Any, env: str | None = None, name: str | None = None, volume: list[str] | None = None,
               yes: bool = False, dry_run: bool = False) -> None:
    """Remove an accessory's container; its volumes stay unless named with --volume."""
    from shipyard.errors import ShipyardError

    if not name:
        raise ShipyardError("--name is required: the accessory to remove")
    if not (yes or dry_run):
        raise ShipyardError(f"removing accessory {name} stops it on its hosts - refusing without confirmation",
                            hint="add --yes (volumes are kept unless named with --volume)")
    for line in _vm(env).accessories(change="deploy.accessories.remove", yes=yes,
                                     dry_run=dry_run).remove(name, list(volume or []), dry_run=dry_run):
        print(line)


@task(name="exec", help={**ACC_HELP, "name": "the accessory", "command": "run by sh -c inside its container, e.g."
                         " 'pg_dump -U shipyard shipyard' (stdout is written as is: redirect it to a file)",
                         "yes": YES_HELP})
def acc_exec(c: Any, env: str | None = None, name: str | None = None, command: str = "", yes: bool = False) -> None:
    """Run a command inside an accessory's container (backups: pg_dump > file; restores: psql < file)."""
    import sys

    from invoke.exceptions import Exit

    from shipyard.errors import ShipyardError

    if not name or not command:
        raise ShipyardError("--name and --command are required",
                            hint="invoke deploy.accessories.exec --env staging --name postgres --command 'pg_dump"
                                 " -U shipyard shipyard' > backup.sql")
    result = _vm(env).accessories(change="deploy.accessories.exec", yes=yes).exec_(name, command)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if not result.ok:
        raise Exit(code=result.exit_code)


accessories = Collection("accessories", acc_boot, acc_status, acc_logs, acc_restart, acc_remove, acc_exec)
ns = Collection("deploy", deploy, staging, production, setup, status, releases, prune, unlock, logs, exec_)
ns.add_collection(accessories)

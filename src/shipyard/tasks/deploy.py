"""`deploy`: zero-downtime blue/green releases to VMs over SSH (`target: vm` environments).

    invoke deploy --env staging [--sha S]     # build or reuse <service>:<sha>, push, swap on every host
    invoke deploy.staging / deploy.production # shorthands (production needs --yes or SHIPYARD_APPROVED=1)
    invoke deploy.setup --env staging         # make fresh hosts ready (idempotent)
    invoke deploy.status / deploy.releases / deploy.prune / deploy.unlock --force
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import build_args, checked_platform, load_config, task

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


def target_for(env: str | None) -> Any:
    from shipyard.errors import ShipyardError
    from shipyard.sandbox.overlay import with_sandbox
    from shipyard.targets.vm.target import Target

    config = with_sandbox(load_config())
    if not env:
        names = [n for n, e in config.project.environments.items() if e.target == "vm"]
        raise ShipyardError("--env is required", hint=f"pass one of: {', '.join(names) or 'none configured'}")
    return config, Target.from_config(config, env)


def approve(target: Any, action: str, yes: bool, dry_run: bool, risks: Sequence[str] = ()) -> None:
    """The one approval policy (plans/approval.py), for a command that changes this environment; `risks` are this
    change's own reasons for `--yes` (a rollback across a schema change)."""
    import os

    from shipyard.plans import approval

    approval.check(target.env_name, target.env, action, yes=yes, dry_run=dry_run, environ=os.environ, risks=risks)


def run_deploy(env: str | None, sha: str | None = None, yes: bool = False, dry_run: bool = False, wait: float = 0.0,
               force: bool = False, build_arg: list[str] | None = None, allow_dirty: bool = False,
               platform: str | None = None, as_json: bool = False) -> None:
    """A deploy; a dry run prints its plan (with `as_json`, as one shipyard.plan document and nothing else)."""
    import os

    from shipyard.errors import ShipyardError
    from shipyard.plans import approval
    from shipyard.release import current, resolve
    from shipyard.report import plan_needs_dry_run
    from shipyard.run import LocalRunner
    from shipyard.targets import images
    from shipyard.targets.progress import Progress
    from shipyard.targets.vm import bluegreen
    from shipyard.targets.vm.admin import show_plan
    from shipyard.targets.vm.env import env_files
    from shipyard.tasks.docker import build_progress

    plan_needs_dry_run(as_json, dry_run)
    log: list[str] = []  # under --json, what a dry run says before its plan goes into the document
    say = log.append if as_json else print
    config, target = target_for(env)
    approve(target, "deploy", yes, dry_run)
    platform = checked_platform(platform)
    local = LocalRunner()
    if sha:  # the same rules on every target (release.resolve): expanded through git when it can be
        release = resolve(sha, local, cwd=str(config.root))
    else:
        release = current(local, cwd=str(config.root), allow_dirty=allow_dirty)
        if release.dirty and approval.required(target.env):
            raise ShipyardError(f"refusing to deploy a dirty working tree to '{target.env_name}'",
                                hint="commit your changes first")
    # every secret and environment value is resolved before anything is built or pushed
    apps_env, accessories_env = env_files(config, target.env_name, target.env, target.services)
    refs = images.ship(target, release, root=config.root, dry_run=dry_run, build=not sha,
                       build_args=build_args(build_arg), environ=os.environ, platform=platform,
                       builder=LocalRunner(echo=build_progress), say=say)
    request = bluegreen.Request(action="deploy", release=release.tag, images=refs, force=force, wait_lock=wait,
                                env_contents=apps_env)
    reports = accessories_of(target, accessories_env, say).boot(dry_run=dry_run) if target.env.accessories else []
    if not as_json:
        _print_boot(reports, dry_run)
    if dry_run:
        show_plan(target, request, as_json=as_json, accessories=reports, log=log)
        return
    bluegreen.deploy(target, request, Progress())
    try:  # retention on the hosts, as deploy.prune (the registry's tags are pruned by deploy.prune only)
        _prune(target, dry_run=False, registry=False)
    except ShipyardError as exc:
        print(f"warning: the release is live, but retention failed: {exc} (run `invoke deploy.prune --env"
              f" {target.env_name}` later)")


def accessories_of(target: Any, accessories_env: dict[str, str], say: Any = print) -> Any:
    from shipyard.targets.vm.accessories import Accessories
    from shipyard.targets.vm.host import vm_hosts

    hosts = vm_hosts(target.runners(), target.layout, target.registry, target.host_login())
    return Accessories(target.env_name, target.env, target.layout, accessories_env, hosts, say=say)


def _boot_accessories(target: Any, accessories_env: dict[str, str], dry_run: bool) -> list[str]:
    """Boot (or, in a dry run, show) the environment's accessories; the hosts whose accessories could not be read."""
    return _print_boot(accessories_of(target, accessories_env).boot(dry_run=dry_run), dry_run)


def _print_boot(reports: list[Any], dry_run: bool) -> list[str]:
    for report in reports:
        for line in report.changed:
            print(f"[{report.host}] {'would change' if dry_run else 'changed'}: {line}")
        for line in report.in_place:
            print(f"[{report.host}] in place: {line}")
        if report.unreadable:
            print(f"[{report.host}] cannot read this host's accessories: {report.unreadable}")
    return [report.host for report in reports if report.unreadable]


@task(default=True, iterable=["build_arg"], help=DEPLOY_HELP)
def deploy(c: Any, env: str | None = None, sha: str | None = None, yes: bool = False, dry_run: bool = False,
           wait: float = 0.0, force: bool = False, build_arg: list[str] | None = None,
           allow_dirty: bool = False, platform: str | None = None, json: bool = False) -> None:
    """Deploy a release to an environment: blue/green on every VM without dropping a request, or (for a Kubernetes
    environment) the same release step then k8s.deploy."""
    from shipyard.targets.kinds import unsupported
    from shipyard.tasks.status import kind

    found = kind(env)
    if found == "kubernetes" and env is not None:
        for flag, given in (("--wait", wait), ("--force", force), ("--json", json)):
            if given:
                raise unsupported(f"deploy {flag}", env, found, f"run `invoke deploy --env {env}` without {flag}")
        from shipyard.tasks import k8s

        k8s.deploy(c, env=env, sha=sha, dry_run=dry_run, allow_dirty=allow_dirty, yes=yes, build_arg=build_arg,
                   platform=platform)
        return
    if found == "compose" and env is not None:
        raise unsupported("deploy", env, found, f"a compose environment runs your working tree: `invoke docker.up"
                                                f" --env {env}`")
    run_deploy(env, sha, yes, dry_run, wait, force, build_arg, allow_dirty, platform, json)


_SHORT = {k: v for k, v in DEPLOY_HELP.items() if k != "env"}


@task(iterable=["build_arg"], help=_SHORT)
def staging(c: Any, sha: str | None = None, yes: bool = False, dry_run: bool = False, wait: float = 0.0,
            force: bool = False, build_arg: list[str] | None = None, allow_dirty: bool = False,
            platform: str | None = None, json: bool = False) -> None:
    """Deploy to staging (same as `deploy --env staging`)."""
    run_deploy("staging", sha, yes, dry_run, wait, force, build_arg, allow_dirty, platform, json)


@task(iterable=["build_arg"], help=_SHORT)
def production(c: Any, sha: str | None = None, yes: bool = False, dry_run: bool = False, wait: float = 0.0,
               force: bool = False, build_arg: list[str] | None = None, allow_dirty: bool = False,
               platform: str | None = None, json: bool = False) -> None:
    """Deploy to production (needs --yes, or SHIPYARD_APPROVED=1 from an approved CI environment)."""
    run_deploy("production", sha, yes, dry_run, wait, force, build_arg, allow_dirty, platform, json)


@task(help={"env": ENV_HELP, "dry_run": "print what would change on each host and change nothing",
            "yes": YES_HELP, "wait": WAIT_HELP})
def setup(c: Any, env: str | None = None, dry_run: bool = False, yes: bool = False, wait: float = 0.0) -> None:
    """Make hosts ready: Docker, python3, state directory, network, proxy, accessories (idempotent; the proxy is
    changed under each host's deploy lock)."""
    from shipyard.errors import ShipyardError
    from shipyard.targets.vm.env import tls_pem
    from shipyard.targets.vm.setup import setup as do_setup

    config, target = target_for(env)
    approve(target, "deploy.setup", yes, dry_run)
    reports, failures = do_setup(target, dry_run=dry_run, tls_pem=tls_pem(config, target.env), wait=wait)
    for report in reports:
        for line in report.waited:
            print(f"[{report.host}] first boot: {line}")
        for line in report.changed:
            print(f"[{report.host}] {'would change' if dry_run else 'changed'}: {line}")
        for line in report.in_place:
            print(f"[{report.host}] in place: {line}")
    if failures:
        raise ShipyardError(f"setup failed on {', '.join(sorted(failures))}: {next(iter(failures.values()))}")
    if target.env.accessories:
        from shipyard.report import fail_unreachable
        from shipyard.targets.vm.env import env_files

        _, files = env_files(config, target.env_name, target.env, target.services)
        fail_unreachable(_boot_accessories(target, files, dry_run), len(target.host_names()),
                         "their accessories are unknown")


@task(help={"env": ENV_HELP, "json": JSON_HELP.format(kind="status")})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """Per host: the live colour, release and health of every service; the lock; the last ledger entry."""
    import time

    from shipyard.report import dumps, fail_unreachable
    from shipyard.report import vm as report
    from shipyard.targets.vm.admin import status as host_status

    _, target = target_for(env)
    statuses, now = host_status(target), time.time()
    print(dumps(report.status_doc(target.env_name, statuses, now)) if json
          else "\n".join(report.status_lines(statuses, now)))
    fail_unreachable([st.host for st in statuses if st.error], len(statuses), "their status is unknown")


@task(help={"env": ENV_HELP, "last": "how many entries per host (default 20)",
            "json": JSON_HELP.format(kind="releases")})
def releases(c: Any, env: str | None = None, last: int = 20, json: bool = False) -> None:
    """The deploy ledger of every host: when, what, who, outcome, per-phase timings."""
    from shipyard.report import dumps, fail_unreachable
    from shipyard.report import vm as report
    from shipyard.targets.vm.admin import ledgers

    _, target = target_for(env)
    found = ledgers(target, last)
    print(dumps(report.releases_doc(target.env_name, found)) if json else "\n".join(report.releases_lines(found)))
    fail_unreachable([h for h, v in found.items() if isinstance(v, BaseException)], len(found),
                     "their ledger is unknown")


@task(help={"env": ENV_HELP, "dry_run": "list what would be removed and remove nothing",
            "registry": "also delete old release tags from the registry (default on; --no-registry to skip)",
            "yes": YES_HELP, "wait": WAIT_HELP})
def prune(c: Any, env: str | None = None, dry_run: bool = False, registry: bool = True, yes: bool = False,
          wait: float = 0.0) -> None:
    """Keep the last registry.retain releases per service on hosts and in the registry, never live or previous
    (under each host's deploy lock)."""
    _, target = target_for(env)
    approve(target, "deploy.prune", yes, dry_run)
    _prune(target, dry_run=dry_run, registry=registry, wait=wait)


def _prune(target: Any, *, dry_run: bool, registry: bool, wait: float = 0.0) -> None:
    from shipyard.targets.vm.admin import prune as do_prune

    verb = "would remove" if dry_run else "removed"
    pruned = do_prune(target, dry_run=dry_run, registry=registry, wait=wait)
    for host, removed in pruned.hosts.items():
        print(f"[{host}] {verb}: {', '.join(removed) if removed else 'nothing'}")
    if pruned.registry_skipped:
        print(f"[registry] not pruned: {pruned.registry_skipped}")
    elif pruned.registry is not None:
        removed = pruned.registry
        print(f"[registry] {verb}: {', '.join(removed) if removed else 'nothing'}"
              + (" (run the registry's garbage collector to free the blobs)" if removed and not dry_run else ""))


@task(help={"env": ENV_HELP, "force": "break the lock even though its lease has not expired (recorded)",
            "dry_run": "show whose lock would be broken and change nothing", "yes": YES_HELP})
def unlock(c: Any, env: str | None = None, force: bool = False, dry_run: bool = False, yes: bool = False) -> None:
    """Show the deploy lock of every host; with --force, break it and record that in the ledger."""
    from shipyard.targets.vm.admin import unlock as do_unlock

    _, target = target_for(env)
    if force:
        approve(target, "deploy.unlock --force", yes, dry_run)
    for host, line in do_unlock(target, force=force, dry_run=dry_run).items():
        print(f"[{host}] {line}")


@task(help={"env": ENV_HELP, "service": "a service (its live container) or an accessory", "host": "one host only",
            "tail": "lines of history per host (default 100)", "follow": "keep streaming new lines",
            "since": "only lines since (e.g. 10m, 2026-11-30T10:00)"})
def logs(c: Any, env: str | None = None, service: str | None = None, host: str | None = None, tail: int = 100,
         follow: bool = False, since: str | None = None) -> None:
    """Logs of a service's live container (or an accessory's) on every host, each line prefixed by its host."""
    from shipyard.targets.vm.ops import show_logs

    _, target = target_for(env)
    show_logs(target, service, host, tail=tail, follow=follow, since=since, say=print)


@task(name="exec", help={
    "env": ENV_HELP, "service": "the service whose live release runs the command",
    "command": "the command line, run by sh -c (quote it), e.g. 'python -m app migrate'",
    "host": "the host to run it on (default: the first)",
    "live": "run inside the running container instead of a one-off container of its image"})
def exec_(c: Any, env: str | None = None, service: str | None = None, command: str = "", host: str | None = None,
          live: bool = False) -> None:
    """Run a command once, on one host, in a one-off container of the live release (its env, its network)."""
    import sys

    from invoke.exceptions import Exit

    from shipyard.errors import ShipyardError
    from shipyard.targets.vm.host import VmHost
    from shipyard.targets.vm.ops import pick_hosts, run_exec

    _, target = target_for(env)
    if not service or not command:
        raise ShipyardError("--service and --command are required",
                            hint="invoke deploy.exec --env staging --service api --command 'python -m app migrate'")
    chosen = pick_hosts(target, host)[0]
    runner = next(r for r in target.runners() if r.host == chosen)
    result = run_exec(target, VmHost(runner, target.layout), service, ["sh", "-c", command], in_place=live)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if not result.ok:
        raise Exit(code=result.exit_code)


# --- accessories: `invoke deploy.accessories.<verb> --env E` --------------------------------------------------

ACC_HELP = {"env": ENV_HELP, "name": "one accessory (default: every accessory of the environment)"}


def _accessories(env: str | None, *, with_env: bool = False, change: str | None = None, yes: bool = False,
                 dry_run: bool = False) -> Any:
    """The environment's accessories; with `change` (the command's name), only once approval allows it."""
    config, target = target_for(env)
    if change:
        approve(target, change, yes, dry_run)
    if not target.env.accessories:
        from shipyard.errors import ShipyardError

        raise ShipyardError(f"environment '{target.env_name}' has no accessories",
                            hint=f"declare them under environments.{target.env_name}.accessories")
    files: dict[str, str] = {}
    if with_env:
        from shipyard.targets.vm.env import env_files

        _, files = env_files(config, target.env_name, target.env, target.services)
    return accessories_of(target, files)


@task(name="boot", help={**ACC_HELP, "dry_run": "print what would start or change and change nothing", "yes": YES_HELP})
def acc_boot(c: Any, env: str | None = None, name: str | None = None, dry_run: bool = False, yes: bool = False) -> None:
    """Start every accessory that is missing, recreate one whose image or settings changed; report the rest."""
    from shipyard.errors import ShipyardError
    from shipyard.report import fail_unreachable

    accessories = _accessories(env, with_env=True, change="deploy.accessories.boot", yes=yes, dry_run=dry_run)
    if name:
        accessories.placed(name)
    reports = accessories.boot(dry_run=dry_run, only=name)
    unreadable = _print_boot(reports, dry_run)
    if not reports:
        raise ShipyardError("no accessory matched")
    fail_unreachable(unreadable, len(reports), "their accessories are unknown")


@task(name="status", help=ACC_HELP)
def acc_status(c: Any, env: str | None = None, name: str | None = None) -> None:
    """Per host: each accessory's container state and health."""
    from invoke.exceptions import Exit

    states = _accessories(env).status(name)
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
    _accessories(env).logs(name, tail=tail, follow=follow, since=since)


@task(name="restart", help={**ACC_HELP, "name": "the accessory to restart (data volumes are kept)", "yes": YES_HELP})
def acc_restart(c: Any, env: str | None = None, name: str | None = None, yes: bool = False) -> None:
    """Restart an accessory and wait until it is healthy again (its volumes are kept)."""
    from shipyard.errors import ShipyardError

    if not name:
        raise ShipyardError("--name is required: the accessory to restart")
    for st in _accessories(env, change="deploy.accessories.restart", yes=yes).restart(name):
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
    for line in _accessories(env, change="deploy.accessories.remove", yes=yes,
                             dry_run=dry_run).remove(name, list(volume or []), dry_run=dry_run):
        print(line)


@task(name="exec", help={**ACC_HELP, "name": "the accessory", "command": "run by sh -c inside its container, e.g."
                         " 'pg_dump -U shipyard shipyard' (stdout is written as is: redirect it to a file)"})
def acc_exec(c: Any, env: str | None = None, name: str | None = None, command: str = "") -> None:
    """Run a command inside an accessory's container (backups: pg_dump > file; restores: psql < file)."""
    import sys

    from invoke.exceptions import Exit

    from shipyard.errors import ShipyardError

    if not name or not command:
        raise ShipyardError("--name and --command are required",
                            hint="invoke deploy.accessories.exec --env staging --name postgres --command 'pg_dump"
                                 " -U shipyard shipyard' > backup.sql")
    result = _accessories(env).exec_(name, command)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if not result.ok:
        raise Exit(code=result.exit_code)


accessories = Collection("accessories", acc_boot, acc_status, acc_logs, acc_restart, acc_remove, acc_exec)
ns = Collection("deploy", deploy, staging, production, setup, status, releases, prune, unlock, logs, exec_)
ns.add_collection(accessories)

"""A `target: vm` environment as a ReleaseTarget, and the VM target's own commands (setup, prune, unlock,
accessories): approval, env files, the release to ship, and the reports they print.

    deploy    approval; the release (`--sha` or HEAD; never a dirty tree where approval is required); env files
              (every secret resolved before anything is built or pushed); images.ship; accessories booted;
              blue/green on every host (bluegreen.py); retention on the hosts
    rollback  approval; the release from the hosts' ledgers (admin.plan_rollback); a schema change crossed needs
              --yes; blue/green back to it
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError
from shipyard.targets.base import Verbs, approve
from shipyard.targets.vm.target import Target

if TYPE_CHECKING:
    from shipyard.targets.vm.accessories import Accessories, BootReport


def vm_verbs(config: Config, env: str | None) -> VmVerbs:
    """The verbs of a VM environment for the deploy.* tasks (no environment: one line naming those there are)."""
    from shipyard.targets.kinds import needs_env

    if not env:
        raise needs_env(config, "vm")
    return VmVerbs(config, env)


class VmVerbs(Verbs):
    """A VM environment: blue/green releases on its hosts over SSH."""

    kind = "vm"

    def __init__(self, config: Config, env_name: str) -> None:
        super().__init__(config, env_name)
        self.target = Target.from_config(config, env_name)

    def approve(self, action: str, yes: bool, dry_run: bool, risks: Sequence[str] = ()) -> None:
        approve(self.target.env_name, self.target.env, action, yes=yes, dry_run=dry_run, risks=risks)

    def env_files(self) -> tuple[dict[str, str], dict[str, str]]:
        """(service -> env file text, accessory -> env file text), every secret resolved (env.py)."""
        from shipyard.targets.vm.env import env_files

        return env_files(self.config, self.target.env_name, self.target.env, self.target.services)

    # -- the verbs ---------------------------------------------------------------------------------------------

    def deploy(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
               wait: float = 0.0, force: bool = False, build_args: Mapping[str, str] | None = None,
               allow_dirty: bool = False, platform: str | None = None) -> None:
        """A deploy; a dry run prints its plan (with `as_json`, as one shipyard.plan document and nothing else)."""
        import os

        from shipyard.plans import approval
        from shipyard.report import plan_needs_dry_run
        from shipyard.run import LocalRunner
        from shipyard.targets import images
        from shipyard.targets.base import checked_platform, pick_release
        from shipyard.targets.progress import Progress, build_progress
        from shipyard.targets.vm import bluegreen
        from shipyard.targets.vm.admin import show_plan

        plan_needs_dry_run(as_json, dry_run)
        log: list[str] = []  # under --json, what a dry run says before its plan goes into the document
        say = log.append if as_json else print
        target = self.target
        self.approve("deploy", yes, dry_run)
        platform = checked_platform(platform)
        release = pick_release(self.config.root, sha, allow_dirty=allow_dirty)
        if not sha and release.dirty and approval.required(target.env):
            raise ShipyardError(f"refusing to deploy a dirty working tree to '{target.env_name}'",
                                hint="commit your changes first")
        # every secret and environment value is resolved before anything is built or pushed
        apps_env, accessories_env = self.env_files()
        refs = images.ship(target, release, root=self.config.root, dry_run=dry_run, build=not sha,
                           build_args=dict(build_args or {}), environ=os.environ, platform=platform,
                           builder=LocalRunner(echo=build_progress), say=say)
        request = bluegreen.Request(action="deploy", release=release.tag, images=refs, force=force, wait_lock=wait,
                                    env_contents=apps_env)
        reports = accessories_of(target, accessories_env, say).boot(dry_run=dry_run) if target.env.accessories else []
        if not as_json:
            print_boot(reports, dry_run)
        if dry_run:
            show_plan(target, request, as_json=as_json, accessories=reports, log=log)
            return
        bluegreen.deploy(target, request, Progress())
        try:  # retention on the hosts, as deploy.prune (the registry's tags are pruned by deploy.prune only)
            prune_and_report(target, dry_run=False, registry=False)
        except ShipyardError as exc:
            print(f"warning: the release is live, but retention failed: {exc} (run `invoke deploy.prune --env"
                  f" {target.env_name}` later)")

    def rollback(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
                 wait: float = 0.0) -> None:
        """Swap back to a retained release: no build, no pull when the image is still on the host."""
        from dataclasses import replace

        from shipyard.report import plan_needs_dry_run
        from shipyard.targets.progress import Progress
        from shipyard.targets.vm import bluegreen
        from shipyard.targets.vm.admin import plan_rollback, show_plan

        plan_needs_dry_run(as_json, dry_run)
        target = self.target
        self.approve("rollback", yes, dry_run)
        apps_env, _ = self.env_files()
        chosen = plan_rollback(target, sha, wait_lock=wait, check_images=dry_run)
        request = replace(chosen.request, env_contents=apps_env)
        warnings = [chosen.warning] if chosen.warning else []
        if dry_run:
            show_plan(target, request, as_json=as_json, warnings=warnings)
            return
        self.approve("rollback", yes, dry_run, risks=warnings)  # across a schema change: --yes, or nothing changes
        for line in warnings:
            print(f"warning: {line} (confirmed with --yes)")
        print(f"rolling {target.env_name} back to {request.release}")
        bluegreen.deploy(target, request, Progress())

    def status(self, *, as_json: bool = False) -> None:
        """Per host: the live colour, release and health of every service; the lock; the last ledger entry."""
        import time

        from shipyard.report import dumps, fail_unreachable
        from shipyard.report import vm as report
        from shipyard.targets.vm.admin import status as host_status

        statuses, now = host_status(self.target), time.time()
        print(dumps(report.status_doc(self.target.env_name, statuses, now)) if as_json
              else "\n".join(report.status_lines(statuses, now)))
        fail_unreachable([st.host for st in statuses if st.error], len(statuses), "their status is unknown")

    def history(self, *, as_json: bool = False, last: int | None = None) -> None:
        """The deploy ledger of every host (the last 20 entries of each, or `last`)."""
        from shipyard.report import dumps, fail_unreachable
        from shipyard.report import vm as report
        from shipyard.targets.vm.admin import ledgers

        found = ledgers(self.target, 20 if last is None else last)
        print(dumps(report.releases_doc(self.target.env_name, found)) if as_json
              else "\n".join(report.releases_lines(found)))
        fail_unreachable([h for h, v in found.items() if isinstance(v, BaseException)], len(found),
                         "their ledger is unknown")

    def logs(self, *, service: str | None = None, tail: int = 100, follow: bool = False, since: str | None = None,
             host: str | None = None) -> None:
        """A service's live container (or an accessory's) on every host (or `host`), each line prefixed by its host."""
        from shipyard.targets.vm.ops import show_logs

        show_logs(self.target, service, host, tail=tail, follow=follow, since=since, say=print)

    def exec(self, *, service: str | None = None, command: str = "", host: str | None = None,
             live: bool = False, yes: bool = False) -> int:
        """On one host (default: the first), in a one-off container of the live release (its env, its network), or
        with `live` inside the running container; its output written as is."""
        import sys

        from shipyard.targets.vm.host import VmHost
        from shipyard.targets.vm.ops import pick_hosts, run_exec

        target = self.target
        if not service or not command:
            raise ShipyardError("--service and --command are required",
                                hint="invoke deploy.exec --env staging --service api --command 'python -m app migrate'")
        self.approve("exec", yes, False)
        chosen = pick_hosts(target, host)[0]
        runner = next(r for r in target.runners() if r.host == chosen)
        result = run_exec(target, VmHost(runner, target.layout), service, ["sh", "-c", command], in_place=live)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.exit_code

    # -- the VM target's own commands --------------------------------------------------------------------------

    def setup(self, *, dry_run: bool = False, yes: bool = False, wait: float = 0.0) -> None:
        """Make the hosts ready (setup.py), then boot the accessories; say what changed and what was in place."""
        from shipyard.targets.vm.env import tls_pem
        from shipyard.targets.vm.setup import setup as do_setup

        target = self.target
        self.approve("deploy.setup", yes, dry_run)
        reports, failures = do_setup(target, dry_run=dry_run, tls_pem=tls_pem(self.config, target.env), wait=wait)
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

            _, files = self.env_files()
            unreadable = print_boot(accessories_of(target, files).boot(dry_run=dry_run), dry_run)
            fail_unreachable(unreadable, len(target.host_names()), "their accessories are unknown")

    def prune(self, *, dry_run: bool = False, registry: bool = True, yes: bool = False, wait: float = 0.0) -> None:
        """Retention on the hosts and (with `registry`) in the registry, under every host's deploy lock."""
        self.approve("deploy.prune", yes, dry_run)
        prune_and_report(self.target, dry_run=dry_run, registry=registry, wait=wait)

    def unlock(self, *, force: bool = False, dry_run: bool = False, yes: bool = False) -> None:
        """Show every host's deploy lock; with `force`, break it (recorded in the ledger)."""
        from shipyard.targets.vm.admin import unlock as do_unlock

        if force:
            self.approve("deploy.unlock --force", yes, dry_run)
        for host, line in do_unlock(self.target, force=force, dry_run=dry_run).items():
            print(f"[{host}] {line}")

    def accessories(self, *, with_env: bool = False, change: str | None = None, yes: bool = False,
                    dry_run: bool = False) -> Accessories:
        """The environment's accessories (`with_env`: with their env files); with `change` (the command's name),
        only once approval allows it."""
        target = self.target
        if change:
            self.approve(change, yes, dry_run)
        if not target.env.accessories:
            raise ShipyardError(f"environment '{target.env_name}' has no accessories",
                                hint=f"declare them under environments.{target.env_name}.accessories")
        files: dict[str, str] = {}
        if with_env:
            _, files = self.env_files()
        return accessories_of(target, files)


def accessories_of(target: Target, accessories_env: dict[str, str], say: Callable[[str], Any] = print) -> Accessories:
    from shipyard.targets.vm.accessories import Accessories
    from shipyard.targets.vm.host import vm_hosts

    hosts = vm_hosts(target.runners(), target.layout, target.registry, target.host_login())
    return Accessories(target.env_name, target.env, target.layout, accessories_env, hosts, say=say)


def print_boot(reports: Sequence[BootReport], dry_run: bool) -> list[str]:
    """Print what booting the accessories changed (or would) and found in place; the hosts that could not be read."""
    for report in reports:
        for line in report.changed:
            print(f"[{report.host}] {'would change' if dry_run else 'changed'}: {line}")
        for line in report.in_place:
            print(f"[{report.host}] in place: {line}")
        if report.unreadable:
            print(f"[{report.host}] cannot read this host's accessories: {report.unreadable}")
    return [report.host for report in reports if report.unreadable]


def prune_and_report(target: Target, *, dry_run: bool, registry: bool, wait: float = 0.0) -> None:
    """Retention (admin.prune), then per host and for the registry what was removed (or would be)."""
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

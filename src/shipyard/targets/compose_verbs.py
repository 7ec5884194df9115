"""The local stack (a `target: compose` environment) as a ReleaseTarget.

A compose environment runs the working tree (docker.up, hot reload), not a release: deploy, rollback and
releases say so in one line, with what to run instead. One with `releases: true` runs release images: deploy
ships a release as every target does and runs the stack on it, rollback puts a release of its ledger back,
releases lists that ledger (targets/compose_release.py).

`compose_target` builds the ComposeTarget every docker.* task drives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError
from shipyard.facts.ledger import last_live
from shipyard.report import commands_plan_doc, dumps, plan_needs_dry_run
from shipyard.targets.base import Verbs, approve, plan_output, refuse_given
from shipyard.targets.compose import ComposeTarget
from shipyard.targets.kinds import unsupported
from shipyard.targets.progress import build_progress, say


def compose_target(config: Config, env: str, dry_run: bool, *, needs_secrets: bool = False,
                   change: str | None = None, yes: bool = False) -> ComposeTarget:
    """The compose environment's target; with `change` (the command's name), only once approval allows it."""
    from shipyard.errors import ReleaseError
    from shipyard.release import current
    from shipyard.run import DryRunRunner, LocalRunner

    if change:  # before anything is read or built
        approve(env, config.project.environments.get(env), change, yes=yes, dry_run=dry_run)
    run = DryRunRunner() if dry_run else LocalRunner()
    target = ComposeTarget.from_config(config, env, run, probe=LocalRunner(), say=say,
                                       build_echo=run if dry_run else LocalRunner(echo=build_progress))
    target.register_secrets(os.environ)
    if not needs_secrets:
        target.allow_missing_secrets(os.environ)
    try:
        target.env["GIT_SHA"] = current(LocalRunner(), cwd=str(config.root), allow_dirty=True).tag
    except ReleaseError:
        target.env["GIT_SHA"] = "dev"
    return target


def show_table(states: Sequence[Any], title: str, http: Iterable[str] = ()) -> None:
    """The stack's containers as a table: service, container, state and address (a URL for `http` services)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("service", "container", "state", "address"):
        table.add_column(column)
    for state in states:
        style = "green" if state.ready else "red"
        address = state.url if state.service in http else (state.url or "").removeprefix("http://")
        table.add_row(state.service, state.name, state.condition, address or "-", style=style)
    Console(highlight=False).print(table)


def _who() -> str:
    """Who changed the environment, as the VM ledger says it (`user@machine`, or the CI actor)."""
    from shipyard.targets.vm.lock import me

    return me("compose release").holder


def _up_with(images: Mapping[str, str]) -> str:
    """What a dry run says it would start."""
    return "docker compose up --wait with " + ", ".join(f"{svc}={ref}" for svc, ref in sorted(images.items()))


class ComposeVerbs(Verbs):
    """A compose environment: its containers' status, their logs, a command in a running service."""

    kind = "compose"

    @property
    def runs_releases(self) -> bool:
        """`releases: true`: the environment runs release images, not the working tree."""
        return bool(getattr(self.config.project.environments.get(self.env_name), "releases", False))

    def _releases(self, verb: str, instead: str) -> None:
        """Deploy, rollback and releases need `releases: true`."""
        if not self.runs_releases:
            raise unsupported(verb, self.env_name, self.kind, f"a compose environment runs your working tree: {instead}"
                                                              f" (or set environments.{self.env_name}.releases: true"
                                                              " to run release images there)")

    def deploy(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
               wait: float = 0.0, force: bool = False, build_args: Mapping[str, str] | None = None,
               allow_dirty: bool = False, platform: str | None = None) -> None:
        """Ship the release as every target does (build what is missing, push, pin digests), then run the stack
        on its images, health-gated; a failed one gives the stack back to the release that was live."""
        from shipyard.run import LocalRunner
        from shipyard.targets import compose_release, images
        from shipyard.targets.base import checked_platform, pick_release
        from shipyard.targets.shipping import Shipping
        from shipyard.targets.vm.lock import now_iso

        self._releases("deploy", f"`invoke docker.up --env {self.env_name}`")
        refuse_given("deploy", self, [("--wait", wait), ("--force", force)],
                     f"run `invoke deploy --env {self.env_name}` without {{flag}}")
        plan_needs_dry_run(as_json, dry_run)
        with plan_output(as_json) as log:
            target = compose_target(self.config, self.env_name, dry_run, needs_secrets=True, change="deploy",
                                    yes=yes)
            release = pick_release(target.root, sha, allow_dirty=allow_dirty)
            pinned = images.ship(Shipping.for_environment(self.config, self.env_name), release, root=target.root,
                                 dry_run=dry_run, build=not sha, build_args=dict(build_args or {}),
                                 environ=os.environ, platform=checked_platform(platform),
                                 builder=LocalRunner(echo=build_progress), say=say)
            if dry_run:
                say(f"would run {self.env_name} on {release.tag}: {_up_with(pinned)}")
        if dry_run:
            if as_json:
                print(dumps(commands_plan_doc("deploy", release.tag, self.env_name, "compose", pinned,
                                              [compose_release.up_argv(target)], log)))
            return
        say(f"deploying {release.tag} to {self.env_name}")
        compose_release.put_live(target, release.tag, pinned, action="deploy", who=_who(), now=now_iso)
        say(f"{self.env_name} runs {release.tag}")

    def rollback(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
                 wait: float = 0.0) -> None:
        """Back to a release of the ledger (`sha`; default: the one deployed before the live one), its pinned
        images, health-gated."""
        from shipyard.plans import rollback as rollback_plan
        from shipyard.targets import compose_release
        from shipyard.targets.vm.lock import now_iso

        self._releases("rollback", f"check out the commit, then `invoke docker.up --env {self.env_name}`")
        refuse_given("rollback", self, [("--wait", wait)], f"run `invoke rollback --env {self.env_name}` without it")
        plan_needs_dry_run(as_json, dry_run)
        target = compose_target(self.config, self.env_name, dry_run, needs_secrets=True, change="rollback", yes=yes)
        entries = compose_release.read(target)
        current = last_live(entries)
        release = rollback_plan.choose(entries, current.release if current else None, sha)
        entry = last_live(entries, release)
        assert entry is not None  # choose() picks among the releases that went live
        if dry_run:
            line = f"would roll {self.env_name} back to {release}: {_up_with(entry.services)}"
            if as_json:
                print(dumps(commands_plan_doc("rollback", release, self.env_name, "compose", dict(entry.services),
                                              [compose_release.up_argv(target)], [line])))
            else:
                say(line)
            return
        say(f"rolling {self.env_name} back to {release}")
        compose_release.put_live(target, release, entry.services, action="rollback", who=_who(), now=now_iso)
        say(f"{self.env_name} runs {release}")

    def status(self, *, as_json: bool = False) -> None:
        """The containers (a table, or `shipyard.compose-status/v1`) and, with releases, the live release."""
        from shipyard.targets import compose_release

        target = compose_target(self.config, self.env_name, False)
        states = target.status()
        releases = self.runs_releases
        current = last_live(compose_release.read(target)) if releases else None
        if as_json:
            from shipyard.report import dumps
            from shipyard.report.compose import status_doc

            print(dumps(status_doc(self.env_name, states, current, releases)))
            return
        if not states:
            say(f"{self.env_name}: nothing is running (start it with `invoke docker.up`)")
            return
        show_table(states, f"{self.env_name}: containers", target.services)
        if releases:
            say(f"release: {current.release} ({current.action}, {current.at})" if current
                else "release: none deployed yet (invoke deploy --env " + self.env_name + ")")

    def history(self, *, as_json: bool = False, last: int | None = None) -> None:
        """The environment's ledger (the last 20 entries, or `last`), as `releases` prints a VM's."""
        from shipyard.report import dumps
        from shipyard.report import vm as report
        from shipyard.targets import compose_release

        self._releases("releases", "`invoke release.info` shows what HEAD would ship")
        target = compose_target(self.config, self.env_name, False)
        entries = compose_release.read(target)[-(20 if last is None else last):]
        found: dict[str, Any] = {compose_release.HOST: entries}
        print(dumps(report.releases_doc(self.env_name, found)) if as_json
              else "\n".join(report.releases_lines(found)))

    def logs(self, *, service: str | None = None, tail: int = 100, follow: bool = False, since: str | None = None,
             host: str | None = None) -> None:
        refuse_given("logs", self, [("--since", since)], "drop --since, or use --tail")
        refuse_given("logs", self, [("--host", host)], "drop --host: the stack runs on this machine")
        target = compose_target(self.config, self.env_name, False)
        target.logs([service] if service else [], follow=follow, tail=tail)

    def exec(self, *, service: str | None = None, command: str = "", host: str | None = None,
             live: bool = False, yes: bool = False) -> int:
        """In the service's running container (the stack has one per service), attached to this terminal."""
        refuse_given("exec", self, [("--host", host)], "drop --host: the stack runs on this machine")
        if not service or not command:
            raise ShipyardError("--service and --command are required",
                                hint=f"invoke exec --env {self.env_name} --service api --command 'python -V'")
        import sys

        target = compose_target(self.config, self.env_name, False, needs_secrets=True, change="exec", yes=yes)
        return target.shell(service, ["sh", "-c", command], tty=sys.stdin.isatty())  # a pipe in: no terminal

"""The local stack (a `target: compose` environment) as a ReleaseTarget: status, logs and exec.

A compose environment runs the working tree, not a release: deploy, rollback and releases say so in one line,
with what to run instead. `compose_target` builds the ComposeTarget every docker.* task drives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError
from shipyard.targets.base import Verbs, approve, refuse_given
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


class ComposeVerbs(Verbs):
    """A compose environment: its containers' status, their logs, a command in a running service."""

    kind = "compose"

    def deploy(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
               wait: float = 0.0, force: bool = False, build_args: Mapping[str, str] | None = None,
               allow_dirty: bool = False, platform: str | None = None) -> None:
        raise unsupported("deploy", self.env_name, self.kind, "a compose environment runs your working tree:"
                                                              f" `invoke docker.up --env {self.env_name}`")

    def rollback(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
                 wait: float = 0.0) -> None:
        raise unsupported("rollback", self.env_name, self.kind, "a compose environment runs your working tree:"
                                                                " check out the commit, then `invoke docker.up"
                                                                f" --env {self.env_name}`")

    def status(self, *, as_json: bool = False) -> None:
        if as_json:
            raise unsupported("status --json", self.env_name, self.kind,
                              f"run `invoke status --env {self.env_name}` without --json")
        target = compose_target(self.config, self.env_name, False)
        states = target.status()
        if not states:
            say(f"{self.env_name}: nothing is running (start it with `invoke docker.up`)")
            return
        show_table(states, f"{self.env_name}: containers", target.services)

    def history(self, *, as_json: bool = False, last: int | None = None) -> None:
        raise unsupported("releases", self.env_name, self.kind, "a compose environment runs your working tree, not"
                                                                " a release: `invoke release.info` shows what HEAD"
                                                                " would ship")

    def logs(self, *, service: str | None = None, tail: int = 100, follow: bool = False, since: str | None = None,
             host: str | None = None) -> None:
        refuse_given("logs", self, [("--since", since)], "drop --since, or use --tail")
        refuse_given("logs", self, [("--host", host)], "drop --host: the stack runs on this machine")
        target = compose_target(self.config, self.env_name, False)
        target.logs([service] if service else [], follow=follow, tail=tail)

    def exec(self, *, service: str | None = None, command: str = "", host: str | None = None,
             live: bool = False) -> int:
        """In the service's running container (the stack has one per service), attached to this terminal."""
        refuse_given("exec", self, [("--host", host)], "drop --host: the stack runs on this machine")
        if not service or not command:
            raise ShipyardError("--service and --command are required",
                                hint=f"invoke exec --env {self.env_name} --service api --command 'python -V'")
        import sys

        target = compose_target(self.config, self.env_name, False, needs_secrets=True)
        return target.shell(service, ["sh", "-c", command], tty=sys.stdin.isatty())  # a pipe in: no terminal

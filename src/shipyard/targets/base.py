"""One interface for every target: the verbs a user types do not change with where an environment runs.

`ReleaseTarget` is that interface (plan, deploy, rollback, status, history, logs, exec), with keyword arguments
that are the same for every target. Three implementations, each a `Verbs` (the config and the environment's name),
take an environment of shipyard.yaml:

    targets/compose_verbs.py     ComposeVerbs     the local stack: status, logs, exec; releases with `releases: true`
    targets/vm/verbs.py          VmVerbs          blue/green on VMs over SSH
    targets/kubernetes_verbs.py  KubernetesVerbs  kubectl apply -k or helm upgrade on a cluster

`release_target(config, env)` picks the one for the environment's kind. A verb (or a flag of it) that a target
does not have raises the one-line `kinds.unsupported` error, with what to run instead.

Also here, for every target: the approval policy as it reads this process's environment (`approve`), which release
a `--sha` (or HEAD) means (`pick_release`) and a `--platform` value checked like build.platform.

Keep this module light: the tasks import it only when they run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from shipyard.config.loader import Config
    from shipyard.release import Release


@runtime_checkable
class ReleaseTarget(Protocol):
    """The verbs of one environment. Each prints its own report (text, or one JSON document with `as_json`) and
    raises ShipyardError for a user's error; `exec` returns the command's exit code."""

    kind: str  # compose | vm | kubernetes (kinds.KINDS)
    env_name: str

    def plan(self, *, action: str = "deploy", sha: str | None = None, as_json: bool = False, wait: float = 0.0,
             force: bool = False, build_args: Mapping[str, str] | None = None, allow_dirty: bool = False,
             platform: str | None = None) -> None:
        """What a deploy (or, with `action="rollback"`, a rollback) would do, changing nothing: its dry run."""
        if action == "rollback":
            self.rollback(sha=sha, dry_run=True, as_json=as_json, wait=wait)
        elif action == "deploy":
            self.deploy(sha=sha, dry_run=True, as_json=as_json, wait=wait, force=force, build_args=build_args,
                        allow_dirty=allow_dirty, platform=platform)
        else:
            raise ShipyardError(f"no plan for {action!r}: deploy or rollback")

    def deploy(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
               wait: float = 0.0, force: bool = False, build_args: Mapping[str, str] | None = None,
               allow_dirty: bool = False, platform: str | None = None) -> None:
        """Ship the release `sha` (default: HEAD, built and pushed when missing) and put it live."""
        ...

    def rollback(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
                 wait: float = 0.0) -> None:
        """Put a retained release back live (`sha`; default: the one before the live release)."""
        ...

    def status(self, *, as_json: bool = False) -> None:
        """The live release and health."""
        ...

    def history(self, *, as_json: bool = False, last: int | None = None) -> None:
        """The releases the environment remembers (`invoke releases`); `last`: how many (the target's default)."""
        ...

    def logs(self, *, service: str | None = None, tail: int = 100, follow: bool = False, since: str | None = None,
             host: str | None = None) -> None:
        """A service's logs, secret values masked."""
        ...

    def exec(self, *, service: str | None = None, command: str = "", host: str | None = None,
             live: bool = False, yes: bool = False) -> int:
        """Run `command` (by sh -c) once where the service's live release runs; its exit code. It can change the
        environment (a migration, a restore), so an approval-gated environment needs `yes`."""
        ...


class Verbs(ReleaseTarget):
    """The state every implementation starts from: the validated config and the environment's name."""

    def __init__(self, config: Config, env_name: str) -> None:
        self.config = config
        self.env_name = env_name


def release_target(config: Config, env: str | None) -> ReleaseTarget:
    """The environment's target, by its kind (`kinds.kind_of`: a missing or unknown environment is one line)."""
    from shipyard.targets.kinds import kind_of

    kind = kind_of(config, env)
    assert env is not None
    if kind == "vm":
        from shipyard.targets.vm.verbs import VmVerbs

        return VmVerbs(config, env)
    if kind == "kubernetes":
        from shipyard.targets.kubernetes_verbs import KubernetesVerbs

        return KubernetesVerbs(config, env)
    from shipyard.targets.compose_verbs import ComposeVerbs

    return ComposeVerbs(config, env)


def refuse_given(verb: str, target: ReleaseTarget, flags: Sequence[tuple[str, Any]], instead: str) -> None:
    """Refuse the first flag of `flags` ((name, value) pairs) that was given, which this target does not have;
    `instead` is what to run, with `{flag}` standing for that flag."""
    from shipyard.targets.kinds import unsupported

    for flag, given in flags:
        if given:
            raise unsupported(f"{verb} {flag}", target.env_name, target.kind, instead.format(flag=flag))


def approve(env_name: str, env: Any, action: str, *, yes: bool, dry_run: bool, risks: Sequence[str] = ()) -> None:
    """The one approval policy (plans/approval.py) for a command that changes this environment, with this
    process's environment (the CI marker); `risks` are this change's own reasons for `--yes`."""
    import os

    from shipyard.plans import approval

    approval.check(env_name, env, action, yes=yes, dry_run=dry_run, environ=os.environ, risks=risks)


def pick_release(root: Any, sha: str | None, *, allow_dirty: bool) -> Release:
    """The release a `--sha` names (expanded through git when it can be: release.resolve), or HEAD's (a dirty tree
    refused unless `allow_dirty`): the same rules on every target."""
    from shipyard.release import current, resolve
    from shipyard.run import LocalRunner

    if sha:
        return resolve(sha, LocalRunner(), cwd=str(root))
    return current(LocalRunner(), cwd=str(root), allow_dirty=allow_dirty)


def checked_platform(value: str | None) -> str | None:
    """A --platform flag's value, checked like build.platform (None when the flag was not given)."""
    from shipyard.config.schema import PLATFORM_RE

    if not value:
        return None
    if not PLATFORM_RE.match(value):
        raise ShipyardError(f"--platform {value!r} is not os/architecture[/variant]",
                            hint="for example --platform linux/amd64 (what droplets run) or linux/arm64")
    return value


@contextlib.contextmanager
def plan_output(as_json: bool) -> Iterator[list[str]]:
    """Around a dry run of a target that runs its commands here (compose, Kubernetes): under `--json`, every line it
    prints is kept in the list (the plan document's `log`) instead of shown, so standard output carries the
    document alone; otherwise the lines are printed as usual."""
    import io

    if not as_json:
        yield []
        return
    log: list[str] = []
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):  # a failure is the usual one-line error: nothing else is shown
        yield log
    log += [line for line in buffer.getvalue().splitlines() if line.strip()]

"""A `target: kubernetes` environment as a ReleaseTarget, over targets/kubernetes.py.

Every verb builds its KubernetesTarget when it runs (a dry run's commands go to a printing runner) and, for a
change, only once the approval policy allows it, before anything is rendered or read from the cluster.
`kubernetes_target` is that step, for the k8s.* tasks that are not verbs too (render, diff, secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.config.loader import Config
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.targets.base import Verbs, approve, checked_platform, pick_release, plan_output, refuse_given
from shipyard.targets.kinds import unsupported
from shipyard.targets.kubernetes import KubernetesTarget


def kubernetes_target(config: Config, env: str | None, dry_run: bool = False, *, change: str | None = None,
                      yes: bool = False) -> KubernetesTarget:
    """The environment's target; with `change` (the command's name), only once the approval policy allows it."""
    from shipyard.run import DryRunRunner, LocalRunner
    from shipyard.targets.kinds import needs_env

    if not env:
        raise needs_env(config, "kubernetes")
    if change:  # before anything is rendered or read from the cluster
        approve(env, config.project.environments.get(env), change, yes=yes, dry_run=dry_run)
    return KubernetesTarget(config, env, DryRunRunner() if dry_run else LocalRunner())


def ship(target: KubernetesTarget, release: Release, *, dry_run: bool, build: bool, **options: Any) -> dict[str, str]:
    """The cluster and its context first (nothing is built or pushed for a refused change), then the release step
    every target shares (`targets.images.ship`); the images by the digests the pods will run."""
    import os

    from shipyard.targets import images
    from shipyard.targets.shipping import Shipping

    target.preflight(changes=True)
    return images.ship(Shipping.for_environment(target.config, target.env_name), release, root=target.root,
                       dry_run=dry_run, build=build, environ=os.environ, **options)


class KubernetesVerbs(Verbs):
    """A Kubernetes environment: the same release step as every target, then apply -k or helm upgrade."""

    kind = "kubernetes"

    def deploy(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
               wait: float = 0.0, force: bool = False, build_args: Mapping[str, str] | None = None,
               allow_dirty: bool = False, platform: str | None = None) -> None:
        """Ship the release as every target does (build what is missing, push, record digests), then apply -k or
        helm upgrade --install, wait for rollouts, check health, undo on failure."""
        from shipyard.report import plan_needs_dry_run
        from shipyard.run import LocalRunner
        from shipyard.targets.progress import build_progress

        refuse_given("deploy", self, [("--wait", wait), ("--force", force)],
                     f"run `invoke deploy --env {self.env_name}` without {{flag}}")
        plan_needs_dry_run(as_json, dry_run)
        with plan_output(as_json) as log:
            target = kubernetes_target(self.config, self.env_name, dry_run, change="k8s.deploy", yes=yes)
            platform = checked_platform(platform)
            release = pick_release(target.root, sha, allow_dirty=allow_dirty)
            pinned = ship(target, release, dry_run=dry_run, build=not sha, build_args=dict(build_args or {}),
                          platform=platform, builder=LocalRunner(echo=build_progress))
            target.deploy(release, checked=True, pinned=pinned)  # each image by the digest recorded at its push
        if as_json:
            print_plan("deploy", release.tag, self.env_name, target, pinned, log)

    def rollback(self, *, sha: str | None = None, yes: bool = False, dry_run: bool = False, as_json: bool = False,
                 wait: float = 0.0) -> None:
        """To the previous revision, or to a given release SHA; waits for rollouts and checks health."""
        from shipyard.report import plan_needs_dry_run

        refuse_given("rollback", self, [("--wait", wait)], f"run `invoke rollback --env {self.env_name}` without it")
        plan_needs_dry_run(as_json, dry_run)
        with plan_output(as_json) as log:
            target = kubernetes_target(self.config, self.env_name, dry_run, change="k8s.rollback", yes=yes)
            release = pick_release(target.root, sha, allow_dirty=False) if sha else None
            pinned = None
            if release is not None and target.source.kind == "kustomize":
                # Kustomize keeps no revisions: the release is deployed again, each image by the digest the
                # registry holds for its tag (found by the release step, which builds nothing here), as a VM
                # rollback runs the digest its ledger recorded. Helm's retained revision holds the digests it ran.
                pinned = ship(target, release, dry_run=dry_run, build=False)
            target.rollback(release.sha if release else None, pinned, checked=pinned is not None)
        if as_json:  # without --sha: the previous revision, which the cluster (not this dry run) knows
            print_plan("rollback", release.tag if release else None, self.env_name, target, pinned or {}, log)

    def status(self, *, as_json: bool = False) -> None:
        """Each workload's ready/desired pods and running images."""
        from shipyard.report import dumps
        from shipyard.report.k8s import k8s_status_doc, k8s_status_lines

        target = kubernetes_target(self.config, self.env_name)
        rows = target.status()
        context, namespace = target.env.context, target.env.namespace
        print(dumps(k8s_status_doc(target.env_name, context, namespace, rows)) if as_json
              else "\n".join(k8s_status_lines(context, namespace, rows)))

    def history(self, *, as_json: bool = False, last: int | None = None) -> None:
        """Helm's revisions, or each Deployment's rollout revisions (the cluster keeps no more)."""
        from shipyard.report import dumps
        from shipyard.report.k8s import k8s_releases_doc, k8s_releases_lines

        refuse_given("releases", self, [("--last", last is not None)],
                     f"run `invoke releases --env {self.env_name}` without {{flag}}")
        target = kubernetes_target(self.config, self.env_name)
        rows = target.history()
        print(dumps(k8s_releases_doc(target.env_name, rows)) if as_json
              else "\n".join(k8s_releases_lines(target.env.context, target.env.namespace, rows)))

    def logs(self, *, service: str | None = None, tail: int = 100, follow: bool = False, since: str | None = None,
             host: str | None = None) -> None:
        """The logs of every pod of a service, prefixed with the pod name."""
        if not service:
            raise unsupported("logs without --service", self.env_name, self.kind, "pass --service api (or web)")
        refuse_given("logs", self, [("--host", host)], "drop --host: pods are picked by service")
        kubernetes_target(self.config, self.env_name).logs(service, tail=tail, follow=follow, since=since)

    def exec(self, *, service: str | None = None, command: str = "", host: str | None = None,
             live: bool = False, yes: bool = False) -> int:
        """In the service's container of one running pod of the release (a pipe on standard input goes to it)."""
        import sys

        refuse_given("exec", self, [("--host", host), ("--live", live)],
                     "drop {flag}: the command runs in a running pod the service's selector picks")
        if not service or not command:
            raise ShipyardError("--service and --command are required",
                                hint=f"invoke exec --env {self.env_name} --service api --command 'python -V'")
        target = kubernetes_target(self.config, self.env_name, change="exec", yes=yes)
        return target.exec(service, ["sh", "-c", command], stdin=not sys.stdin.isatty())


def print_plan(action: str, release: str | None, env: str, target: KubernetesTarget, images: Mapping[str, str],
               log: list[str]) -> None:
    """The dry run as one shipyard.plan document: the kubectl and helm commands it would run, in order."""
    from shipyard.report import commands_plan_doc, dumps

    commands = getattr(target.runner, "commands", [])  # the dry-run runner's record (redacted)
    print(dumps(commands_plan_doc(action, release, env, "kubernetes", dict(images), commands, log)))


def kubernetes_verbs(config: Config, env: str | None) -> KubernetesVerbs:
    """The verbs of a Kubernetes environment for the k8s.* tasks (no environment: one line naming those there are)."""
    from shipyard.targets.kinds import needs_env

    if not env:
        raise needs_env(config, "kubernetes")
    return KubernetesVerbs(config, env)

"""`k8s`: render, validate, diff, deploy, status, rollback, logs and secrets for Kubernetes environments.

Environments are `target: kubernetes` entries of shipyard.yaml, rendered from a Kustomize overlay or a Helm chart.
"""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import load_config, runner, task

ENV_HELP = "kubernetes environment from shipyard.yaml (e.g. k8s-dev, k8s-staging, k8s-production)"
YES_HELP = "confirm a change to an environment that requires approval (production)"


def _target(env: str | None, dry_run: bool = False, *, change: str | None = None, yes: bool = False) -> Any:
    """The environment's target; with `change` (the command's name), only once the approval policy allows it."""
    import os

    from shipyard.errors import ShipyardError
    from shipyard.plans import approval
    from shipyard.targets.kubernetes import KubernetesTarget

    config = load_config()
    if not env:
        names = [n for n, e in config.project.environments.items() if e.target == "kubernetes"]
        raise ShipyardError("--env is required", hint=f"pass one of: {', '.join(names) or 'none configured'}")
    if change:  # before anything is rendered or read from the cluster
        approval.check(env, config.project.environments.get(env), change, yes=yes, dry_run=dry_run,
                       environ=os.environ)
    return KubernetesTarget(config, env, runner(dry_run))


def _release(target: Any, sha: str | None, allow_dirty: bool) -> Any:
    from shipyard.release import current, resolve

    if sha:
        return resolve(sha, runner(), cwd=str(target.root))
    return current(runner(), cwd=str(target.root), allow_dirty=allow_dirty)


@task(help={"env": ENV_HELP, "sha": "release to render (default: HEAD; a dirty tree gets a -dirty tag)",
            "output": "write the manifests to this file instead of stdout"})
def render(c: Any, env: str | None = None, sha: str | None = None, output: str | None = None) -> None:
    """Print the manifests an environment would get, images pinned to the release (Kustomize or Helm)."""
    from pathlib import Path

    target = _target(env)
    text = target.render(_release(target, sha, allow_dirty=True)).text
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}")
    else:
        print(text, end="")


@task(iterable=["kube_version"],
      help={"kube_version": "Kubernetes version to validate against (repeatable; default 1.30.0 and 1.34.0)",
            "no_policy": "skip the checkov policy scan (not for CI)"})
def validate(c: Any, kube_version: list[str] | None = None, no_policy: bool = False) -> None:
    """Render every overlay and chart values file, validate strictly, lint, scan policies, check parity."""
    from shipyard.errors import ShipyardError
    from shipyard.k8s import schema
    from shipyard.k8s import validate as k8s_validate
    from shipyard.run import LocalRunner

    config = load_config()
    versions = tuple(kube_version) if kube_version else schema.KUBE_VERSIONS
    report = k8s_validate.run(config.root, config.registry(), tuple(config.services()), LocalRunner(),
                              versions=versions, policy_scan=not no_policy)
    for label, count, seconds in report.rows:
        print(f"  {label:<58} {count:>3} objects  {seconds:5.2f}s")
    timing = ", ".join(f"{phase} {seconds:.2f}s" for phase, seconds in report.timings.items())
    print(f"  Kubernetes {', '.join(report.versions)} (strict); checkov checks passed: {report.checks_passed}; "
          f"{timing}")
    for problem in report.problems:
        print(f"  FAIL {problem}")
    if not report.ok:
        raise ShipyardError(f"k8s.validate: {len(report.problems)} problem(s) in {len(report.rows)} render(s)",
                            hint="fix the manifests above and run `invoke k8s.validate` again")
    policy_note = "policy scan SKIPPED (--no-policy)" if no_policy else "policy-clean"
    print(f"k8s.validate: ok - {len(report.rows)} renders valid, {policy_note} and in parity")


@task(help={"env": ENV_HELP, "sha": "release to compare with the cluster (default: HEAD)"})
def diff(c: Any, env: str | None = None, sha: str | None = None) -> None:
    """Show what a deploy would change in the cluster (kubectl diff of the pinned render)."""
    target = _target(env)
    changed = target.diff(_release(target, sha, allow_dirty=True))
    print("differences found" if changed else "no differences: the cluster matches the render")


@task(iterable=["build_arg"], help={
    "env": ENV_HELP, "sha": "release to deploy (default: HEAD, which must be clean; built and pushed when missing)",
    "dry_run": "print the exact commands and change nothing",
    "allow_dirty": "deploy a dirty tree (tag gets -dirty; never for production)", "yes": YES_HELP,
    "build_arg": "KEY=VALUE for the image builds (repeatable), over shipyard.yaml's build.args and .env",
    "platform": "build for this platform (default: build.platform in shipyard.yaml, else linux/amd64)"})
def deploy(c: Any, env: str | None = None, sha: str | None = None, dry_run: bool = False,
           allow_dirty: bool = False, yes: bool = False, build_arg: list[str] | None = None,
           platform: str | None = None) -> None:
    """Ship the release as every target does (build what is missing, push, record digests), then apply -k or helm
    upgrade --install, wait for rollouts, check health, undo on failure."""
    import os

    from shipyard.run import LocalRunner
    from shipyard.targets import images
    from shipyard.targets.shipping import Shipping
    from shipyard.tasks._base import build_args, checked_platform
    from shipyard.tasks.docker import build_progress

    target = _target(env, dry_run, change="k8s.deploy", yes=yes)
    platform = checked_platform(platform)
    release = _release(target, sha, allow_dirty)
    target.preflight(changes=True)  # the cluster and its context first: nothing is built for a refused deploy
    images.ship(Shipping.for_environment(target.config, target.env_name), release, root=target.root,
                dry_run=dry_run, build=not sha, build_args=build_args(build_arg), environ=os.environ,
                platform=platform,
                builder=LocalRunner(echo=build_progress))
    target.deploy(release, checked=True)


@task(help={"env": ENV_HELP, "sha": "go back to this release (default: the previous revision)",
            "dry_run": "print the exact commands and change nothing", "yes": YES_HELP})
def rollback(c: Any, env: str | None = None, sha: str | None = None, dry_run: bool = False,
             yes: bool = False) -> None:
    """Roll back to the previous revision, or to a given release SHA; waits for rollouts and checks health."""
    target = _target(env, dry_run, change="k8s.rollback", yes=yes)
    target.rollback(_release(target, sha, allow_dirty=False).sha if sha else None)


@task(help={"env": ENV_HELP, "json": JSON_HELP.format(kind="k8s-status")})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """Show each workload's ready/desired pods and running images."""
    from shipyard.report import dumps
    from shipyard.report.k8s import k8s_status_doc, k8s_status_lines

    target = _target(env)
    rows = target.status()
    context, namespace = target.env.context, target.env.namespace
    print(dumps(k8s_status_doc(target.env_name, context, namespace, rows)) if json
          else "\n".join(k8s_status_lines(context, namespace, rows)))


@task(help={"env": ENV_HELP, "service": "service whose pods to show (api or web)",
            "tail": "lines per container", "follow": "stream new lines until interrupted",
            "since": "only lines newer than this duration (e.g. 10m)"})
def logs(c: Any, env: str | None = None, service: str = "api", tail: int = 100, follow: bool = False,
         since: str | None = None) -> None:
    """Print the logs of every pod of a service, prefixed with the pod name."""
    _target(env).logs(service, tail=tail, follow=follow, since=since)


@task(help={"env": ENV_HELP, "dry_run": "print the commands (never the values) and change nothing",
            "yes": YES_HELP})
def secrets(c: Any, env: str | None = None, dry_run: bool = False, yes: bool = False) -> None:
    """Create or update the Secret from shipyard.yaml's secret sources (values travel on stdin, never shown)."""
    target = _target(env, dry_run, change="k8s.secrets", yes=yes)
    keys = target.apply_secrets()
    print(f"secret shipyard-secrets in {target.env.namespace}: {', '.join(keys)} "
          f"{'would be ' if dry_run else ''}written (values not shown)")


@task(help={"env": ENV_HELP, "json": JSON_HELP.format(kind="k8s-releases")})
def releases(c: Any, env: str | None = None, json: bool = False) -> None:
    """The releases the cluster remembers: Helm revisions, or each Deployment's rollout revisions."""
    from shipyard.report import dumps
    from shipyard.report.k8s import k8s_releases_doc, k8s_releases_lines

    target = _target(env)
    rows = target.history()
    print(dumps(k8s_releases_doc(target.env_name, rows)) if json
          else "\n".join(k8s_releases_lines(target.env.context, target.env.namespace, rows)))

ns = Collection("k8s", render, validate, diff, deploy, status, releases, rollback, logs, secrets)

"""`k8s`: render, validate, diff, deploy, status, rollback, logs and secrets for Kubernetes environments.

Environments are `target: kubernetes` entries of shipyard.yaml, rendered from a Kustomize overlay or a Helm chart.
"""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import build_args, load_config, task

ENV_HELP = "kubernetes environment from shipyard.yaml (e.g. k8s-dev, k8s-staging, k8s-production)"
YES_HELP = "confirm a change to an environment that requires approval (production)"


def _target(env: str | None, dry_run: bool = False, *, change: str | None = None, yes: bool = False) -> Any:
    """The environment's KubernetesTarget; with `change` (the command's name), only once approval allows it."""
    from shipyard.targets.kubernetes_verbs import kubernetes_target

    return kubernetes_target(load_config(), env, dry_run, change=change, yes=yes)


def _verbs(env: str | None) -> Any:
    """The environment's verbs (targets/kubernetes_verbs.py), shared with the top-level deploy, rollback, ..."""
    from shipyard.targets.kubernetes_verbs import kubernetes_verbs

    return kubernetes_verbs(load_config(), env)


def _release(target: Any, sha: str | None) -> Any:
    """The release to render or compare: `--sha`, or HEAD (a dirty tree gets a -dirty tag)."""
    from shipyard.targets.base import pick_release

    return pick_release(target.root, sha, allow_dirty=True)


@task(help={"env": ENV_HELP, "sha": "release to render (default: HEAD; a dirty tree gets a -dirty tag)",
            "output": "write the manifests to this file instead of stdout"})
def render(c: Any, env: str | None = None, sha: str | None = None, output: str | None = None) -> None:
    """Print the manifests an environment would get, images pinned to the release (Kustomize or Helm)."""
    from pathlib import Path

    target = _target(env)
    text = target.render(_release(target, sha)).text
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
    changed = target.diff(_release(target, sha))
    print("differences found" if changed else "no differences: the cluster matches the render")


@task(iterable=["build_arg"], help={
    "env": ENV_HELP, "sha": "release to deploy (default: HEAD, which must be clean; built and pushed when missing)",
    "dry_run": "print the exact commands and change nothing",
    "allow_dirty": "deploy a dirty tree (tag gets -dirty; never for production)", "yes": YES_HELP,
    "build_arg": "KEY=VALUE for the image builds (repeatable), over shipyard.yaml's build.args and .env",
    "platform": "build for this platform (default: build.platform in shipyard.yaml, else linux/amd64)",
    "json": "with --dry-run: " + JSON_HELP.format(kind="plan")})
def deploy(c: Any, env: str | None = None, sha: str | None = None, dry_run: bool = False,
           allow_dirty: bool = False, yes: bool = False, build_arg: list[str] | None = None,
           platform: str | None = None, json: bool = False) -> None:
    """Ship the release as every target does (build what is missing, push, record digests), then apply -k or helm
    upgrade --install, wait for rollouts, check health, undo on failure."""
    _verbs(env).deploy(sha=sha, yes=yes, dry_run=dry_run, build_args=build_args(build_arg), allow_dirty=allow_dirty,
                       platform=platform, as_json=json)


@task(help={"env": ENV_HELP, "sha": "go back to this release (default: the previous revision)",
            "dry_run": "print the exact commands and change nothing", "yes": YES_HELP,
            "json": "with --dry-run: " + JSON_HELP.format(kind="plan")})
def rollback(c: Any, env: str | None = None, sha: str | None = None, dry_run: bool = False,
             yes: bool = False, json: bool = False) -> None:
    """Roll back to the previous revision, or to a given release SHA; waits for rollouts and checks health."""
    _verbs(env).rollback(sha=sha, yes=yes, dry_run=dry_run, as_json=json)


@task(help={"env": ENV_HELP, "json": JSON_HELP.format(kind="k8s-status")})
def status(c: Any, env: str | None = None, json: bool = False) -> None:
    """Show each workload's ready/desired pods and running images."""
    _verbs(env).status(as_json=json)


@task(help={"env": ENV_HELP, "service": "service whose pods to show (api or web)",
            "tail": "lines per container", "follow": "stream new lines until interrupted",
            "since": "only lines newer than this duration (e.g. 10m)"})
def logs(c: Any, env: str | None = None, service: str = "api", tail: int = 100, follow: bool = False,
         since: str | None = None) -> None:
    """Print the logs of every pod of a service, prefixed with the pod name."""
    _verbs(env).logs(service=service, tail=tail, follow=follow, since=since)


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
    _verbs(env).history(as_json=json)

ns = Collection("k8s", render, validate, diff, deploy, status, releases, rollback, logs, secrets)

"""The Kubernetes target: preflight, deploy, rollback, status, logs, diff and secrets for one environment.

Commands run through the runner it is given (a DryRunRunner prints them); rendering always runs locally since it
changes nothing. Every cluster command names the environment's context explicitly.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.commands import helm as helm_cmd
from shipyard.commands import kubectl as kubectl_cmd
from shipyard.config.loader import Config
from shipyard.config.schema import KubernetesEnvironment
from shipyard.errors import ShipyardError
from shipyard.facts import k8s as facts
from shipyard.k8s import render as k8s_render
from shipyard.k8s import secret as k8s_secret
from shipyard.k8s.render import Pin, Rendered
from shipyard.k8s.sources import Source, for_environment
from shipyard.plans import approval
from shipyard.plans import k8s as plans
from shipyard.release import Release
from shipyard.run.base import CommandError, Runner, attached
from shipyard.run.local import LocalRunner


class DeployError(ShipyardError):
    """A deploy or rollback failed on the cluster (after undoing what it could)."""


INSTALL_HINTS = {
    "kubectl": "install kubectl 1.30+ (https://kubernetes.io/docs/tasks/tools/)",
    "helm": "install helm 3.14+ or 4 (https://helm.sh/docs/intro/install/)",
}


@dataclass
class KubernetesTarget:
    config: Config
    env_name: str
    runner: Runner
    echo: Callable[[str], None] = print
    local: Runner | None = None

    def __post_init__(self) -> None:
        env = self.config.environment(self.env_name)
        if not isinstance(env, KubernetesEnvironment):
            raise ShipyardError(f"environment {self.env_name} is a {env.target} environment, not kubernetes",
                                hint="pick one with `target: kubernetes` (see `invoke config.check`)")
        self.env: KubernetesEnvironment = env
        self.root: Path = self.config.root
        self.source: Source = for_environment(self.env_name, env, self.root)
        self.local = self.local or LocalRunner()

    # -- facts -------------------------------------------------------------------------------------------------

    @property
    def dry_run(self) -> bool:
        return bool(self.runner.dry_run)

    def services(self) -> dict[str, str]:
        """service name -> readiness path."""
        return {name: svc.health.readiness for name, svc in self.config.services(self.env_name).items()}

    def pin(self, release: Release, pinned: Mapping[str, str] | None = None) -> Pin:
        """The release's images; `pinned` (service -> `repo@sha256:...`, from the release step) adds digests."""
        return Pin.of(release, self.config.registry(self.env_name), self.services(), self.env.namespace, pinned)

    def render(self, release: Release) -> Rendered:
        assert self.local is not None
        return k8s_render.render(self.root, self.source, self.pin(release), self.local)

    def require(self, tool: str) -> None:
        if shutil.which(tool) is None:
            raise ShipyardError(f"{tool} is not installed or not on PATH", hint=INSTALL_HINTS[tool])

    def preflight(self, *, changes: bool) -> None:
        """kubectl (and helm) present, the context known, the cluster reachable, production guarded.
        A dry run checks nothing on the cluster: it only shows what would run."""
        if self.dry_run:
            self.echo(f"# would check: kubectl{' and helm' if self.source.kind == 'helm' else ''} installed, "
                      f"context {self.env.context} reachable"
                      + (", and it is the current context" if changes and approval.required(self.env)
                         else ""))
            return
        assert self.local is not None
        self.require("kubectl")
        if self.source.kind == "helm":
            self.require("helm")
        known = facts.parse_contexts(self.local.run(kubectl_cmd.contexts(), timeout=30, check=False).stdout)
        if self.env.context not in known:
            raise ShipyardError(f"kube context '{self.env.context}' (environment {self.env_name}) is not in your "
                                "kubeconfig", hint="check KUBECONFIG, or start the cluster (minikube start, "
                                "kind create cluster) and retry")
        if changes:
            current = facts.parse_current_context(
                self.local.run(kubectl_cmd.current_context(), timeout=30, check=False).stdout)
            refusal = plans.context_refusal(self.env_name, self.env.context, current,
                                            guarded=approval.required(self.env))
            if refusal:
                raise ShipyardError(refusal)
        try:
            self.local.run(kubectl_cmd.server_version(self.env.context), timeout=30)
        except CommandError as exc:
            last = (exc.stderr_tail.strip().splitlines() or ["no answer"])[-1]
            raise ShipyardError(f"cannot reach the cluster of context '{self.env.context}': {last}",
                                hint="start it (minikube start, kind create cluster) or check KUBECONFIG") from None

    def helm_major(self) -> int:
        if self.dry_run and shutil.which("helm") is None:
            return 4
        assert self.local is not None
        return facts.parse_helm_version(self.local.run(helm_cmd.version(), timeout=30).stdout)[0]

    def helm_history(self) -> list[facts.HelmRevision]:
        if self.dry_run:
            return []
        assert self.local is not None
        result = self.local.run(helm_cmd.history(self.source.release, context=self.env.context,
                                                 namespace=self.env.namespace), timeout=60, check=False)
        return facts.parse_helm_history(result.stdout) if result.ok else []

    # -- running plans -----------------------------------------------------------------------------------------

    def execute(self, plan: plans.Plan, what: str) -> None:
        changed = False
        for step in plan.steps:
            self.echo(f"==> {step.phase}")
            try:
                self.runner.run(step.argv, timeout=step.timeout, stream=True)
            except CommandError as exc:
                # Undo only after a change has completed: a failed apply may have changed nothing, and
                # `rollout undo` would then revert the release that was running before (helm upgrade undoes
                # its own failure with --rollback-on-failure).
                if not changed or not plan.undo:
                    raise DeployError(f"{what} failed at {step.phase}: {exc.message}",
                                      hint=f"invoke k8s.status --env {self.env_name}") from None
                self.echo(f"==> {step.phase} failed; undoing")
                undone = self.undo(plan)
                raise DeployError(f"{what} failed at {step.phase} ({exc.message}); "
                                  f"undo {'completed' if undone else 'incomplete: check `invoke k8s.status`'}",
                                  hint=f"invoke k8s.logs --env {self.env_name}") from None
            changed = changed or step.changes

    def undo(self, plan: plans.Plan) -> bool:
        ok = True
        for step in plan.undo:
            result = self.runner.run(step.argv, timeout=step.timeout, check=False, stream=True)
            ok = ok and result.ok
        return ok

    # -- operations --------------------------------------------------------------------------------------------

    def deploy(self, release: Release, *, checked: bool = False, pinned: Mapping[str, str] | None = None) -> None:
        """Apply the release (its images must be in the registry: `targets.images.ship`, whose pinned references
        `pinned` are: the pods then run each image by its digest); `checked`: the caller ran the preflight
        already."""
        if not checked:
            self.preflight(changes=True)
        what = f"deploy of {release.tag} to {self.env_name}"
        if self.source.kind == "kustomize":
            rendered = self.render(release)
            urls = plans.health_urls(rendered.docs, self.services(), self.env.namespace)
            with k8s_render.pinned_overlay(self.root, self.source, self.pin(release, pinned)) as directory:
                if self.dry_run:
                    self.echo(f"# {directory}/kustomization.yaml (generated):")
                    self.echo(_indent((directory / "kustomization.yaml").read_text(encoding="utf-8")))
                plan = plans.kustomize_deploy(self.env.context, self.env.namespace, str(directory), rendered.docs,
                                              list(self.services()), urls, f"{release.tag}-{_nonce()}")
                self.execute(plan, what)
        else:
            previous = self.helm_history()
            plan = plans.helm_deploy(self.env.context, self.env.namespace, self.source.release,
                                     str(self.root / self.source.path),
                                     [str(self.root / v) for v in self.source.values],
                                     self.pin(release, pinned).helm_values(), self.helm_major(),
                                     previous[-1].revision if previous else None)
            self.execute(plan, what)
        self.echo(f"deployed {release.tag} to {self.env_name} (context {self.env.context}, "
                  f"namespace {self.env.namespace})" + (" [dry run]" if self.dry_run else ""))

    def rollback(self, sha: str | None, pinned: Mapping[str, str] | None = None, *, checked: bool = False) -> None:
        """To the previous revision, or to the release `sha` (re-rendered and deployed for Kustomize, each image
        by its digest in `pinned`; the retained Helm revision that deployed it for Helm); `checked` as for
        `deploy`."""
        if sha and self.source.kind == "kustomize":
            self.deploy(Release(sha=sha), checked=checked, pinned=pinned)
            return
        self.preflight(changes=True)
        what = f"rollback of {self.env_name}"
        if self.source.kind == "kustomize":
            rendered = self.render(Release(sha="previous"))
            urls = plans.health_urls(rendered.docs, self.services(), self.env.namespace)
            plan = plans.kustomize_rollback(self.env.context, self.env.namespace, rendered.docs,
                                            list(self.services()), urls, f"rollback-{_nonce()}")
        else:
            revision = self.helm_revision(sha) if sha else None
            plan = plans.helm_rollback(self.env.context, self.env.namespace, self.source.release, revision)
        self.execute(plan, what)
        self.echo(f"rolled back {self.env_name}" + (f" to {sha}" if sha else " to the previous revision")
                  + (" [dry run]" if self.dry_run else ""))

    def helm_revision(self, sha: str) -> int | None:
        if self.dry_run:
            self.echo(f"# would look up the retained revision that deployed {sha} (helm history + get values)")
            return None
        assert self.local is not None
        tags: dict[int, str | None] = {}
        for rev in self.helm_history():
            out = self.local.run(helm_cmd.get_values(self.source.release, rev.revision, context=self.env.context,
                                                     namespace=self.env.namespace), timeout=60).stdout
            tags[rev.revision] = facts.parse_helm_values_tag(out)
        revision = plans.helm_revision_for_tag(tags, sha[:12])
        if revision is None:
            raise ShipyardError(f"no retained revision of release {self.source.release} deployed {sha}",
                                hint=f"invoke k8s.deploy --env {self.env_name} --sha {sha}")
        return revision

    def status(self) -> list[facts.Workload]:
        self.preflight(changes=False)
        assert self.local is not None
        out = self.local.run(kubectl_cmd.get_json(self.env.context, self.env.namespace,
                                                  ["deployments", "statefulsets"],
                                                  "app.kubernetes.io/part-of=shipyard"), timeout=60).stdout
        return facts.parse_workloads(out)

    def history(self) -> list[facts.Revision]:
        """The releases the cluster remembers (no ledger of Shipyard's own): Helm's revisions with the image tag
        each one set, or each Deployment's rollout revisions with the release annotation every deploy writes."""
        self.preflight(changes=False)
        assert self.local is not None
        if self.source.kind == "helm":
            out = []
            revisions = self.helm_history()
            for rev in revisions:
                values = self.local.run(helm_cmd.get_values(self.source.release, rev.revision,
                                                            context=self.env.context, namespace=self.env.namespace),
                                        timeout=60).stdout
                out.append(facts.Revision(self.source.release, rev.revision, facts.parse_helm_values_tag(values),
                                          rev.updated, rev is revisions[-1] and rev.status == "deployed",
                                          f"{rev.status}: {rev.description}"))
            return out
        text = self.local.run(kubectl_cmd.get_json(self.env.context, self.env.namespace, ["replicasets"],
                                                   "app.kubernetes.io/part-of=shipyard"), timeout=60).stdout
        return facts.parse_rollout_history(text)

    def _pods_of(self, service: str) -> str:
        """The selector of a service's pods in this release (an unknown service is refused, before the cluster is
        read)."""
        if service not in self.services():
            raise ShipyardError(f"unknown service '{service}' (services: {', '.join(self.services())})")
        self.preflight(changes=False)
        return f"app.kubernetes.io/instance={self.source.release},app.kubernetes.io/component={service}"

    def logs(self, service: str, *, tail: int, follow: bool, since: str | None) -> None:
        selector = self._pods_of(service)
        self.runner.run(kubectl_cmd.logs(self.env.context, self.env.namespace, selector, tail=tail,
                                         follow=follow, since=since), timeout=None if follow else 120, stream=True)

    def exec(self, service: str, command: Sequence[str], *, stdin: bool = False) -> int:
        """`command` once in the service's container of one running pod of the release (the first by name), its
        output written as is; its exit code. `stdin`: this process's standard input goes to the command."""
        selector = self._pods_of(service)
        assert self.local is not None
        pods = sorted(self.local.run(kubectl_cmd.running_pods(self.env.context, self.env.namespace, selector),
                                     timeout=60).stdout.split())
        if not pods:
            raise ShipyardError(f"no running pod of {service} in {self.env.namespace}",
                                hint=f"invoke status --env {self.env_name}")
        return attached(self.runner, kubectl_cmd.exec_(self.env.context, self.env.namespace, pods[0], service,
                                                         command, stdin=stdin))

    def diff(self, release: Release) -> bool:
        """True when the cluster differs from the render."""
        self.preflight(changes=False)
        rendered = self.render(release)
        result = self.runner.run(kubectl_cmd.diff_stdin(self.env.context), input=rendered.text, timeout=120,
                                 check=False, stream=True)
        if result.exit_code > 1:
            raise ShipyardError(f"kubectl diff failed with exit code {result.exit_code}")
        return result.exit_code == 1

    def _namespace_exists(self) -> bool:
        assert self.local is not None
        return self.local.run(kubectl_cmd.get_namespace(self.env.context, self.env.namespace), timeout=30,
                              check=False).ok

    def apply_secrets(self, name: str = k8s_secret.SECRET_NAME) -> list[str]:
        """Create or update the Secret from shipyard.yaml's secret sources; returns the keys written."""
        from shipyard.config.secrets import resolve

        needed = k8s_secret.keys_for({n: s.secrets for n, s in self.config.services(self.env_name).items()})
        if not needed:
            raise ShipyardError(f"no service of {self.env_name} declares secrets; nothing to create")
        values = resolve(self.config, needed)
        self.preflight(changes=True)
        doc = k8s_secret.manifest(name, self.env.namespace, values)
        if self.dry_run:
            self.echo(f"# only if namespace {self.env.namespace} does not exist yet:")
        if self.dry_run or not self._namespace_exists():
            # `create`, not `apply`: the overlay's apply later owns the Namespace and its Pod Security labels.
            self.runner.run(kubectl_cmd.create_namespace(self.env.context, self.env.namespace), timeout=60,
                            check=not self.dry_run)
        self.runner.run(kubectl_cmd.apply_stdin(self.env.context, self.env.namespace), input=doc, timeout=60)
        return needed


def _nonce() -> str:
    """Keeps health-check pod names unique when a previous one is still being deleted."""
    return secrets.token_hex(3)


def _indent(text: str) -> str:
    return "\n".join(f"#   {line}" for line in text.rstrip().splitlines())

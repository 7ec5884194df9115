"""Pure decisions for Kubernetes deploys and rollbacks: facts in, the exact commands out.

A plan is a list of steps plus the steps that undo it. The target runs the steps in order; when one fails after
the cluster has been changed, it runs the undo steps (best effort) and reports the failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shipyard.commands import helm as helm_cmd
from shipyard.commands import kubectl as kubectl_cmd
from shipyard.k8s import manifests
from shipyard.k8s.manifests import Doc

PROBE_IMAGE = "curlimages/curl:8.11.1"
ROLLOUT_TIMEOUT = 300


@dataclass(frozen=True)
class Step:
    phase: str
    argv: list[str]
    timeout: float = 120.0
    changes: bool = True  # False for steps that only read or check


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    undo: list[Step] = field(default_factory=list)


def context_refusal(env_name: str, configured: str, current: str | None, *, guarded: bool) -> str | None:
    """Why a change to a guarded (approval-gated) environment is refused, or None when allowed: it must be made
    from the context it is configured for, so a production change never lands on whatever context is current."""
    if not guarded or current == configured:
        return None
    shown = f"'{current}'" if current else "not set"
    return (f"refusing to change {env_name}: the current kube context is {shown}, but {env_name} is configured "
            f"for '{configured}' (next: kubectl config use-context {configured}, then run the command again)")


def workloads(docs: Sequence[Doc], services: Sequence[str] | None = None) -> list[str]:
    """`deployment/<name>` and `statefulset/<name>` of the rendered objects, datastores first (the app needs
    them), optionally only those whose component label is one of `services`."""
    out: list[tuple[int, str]] = []
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet") or manifests.is_hook(doc):
            continue
        component = ((doc.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
        if services is not None and component not in services:
            continue
        order = 0 if doc["kind"] == "StatefulSet" or component in ("postgres", "redis") else 1
        out.append((order, f"{doc['kind'].lower()}/{manifests.name(doc)}"))
    return [name for _, name in sorted(out)]


def health_urls(docs: Sequence[Doc], readiness: Mapping[str, str], namespace: str) -> list[str]:
    """One URL per service, through its ClusterIP Service: http://<svc>.<ns>.svc:<port><readiness path>."""
    urls = []
    for doc in docs:
        if doc["kind"] != "Service":
            continue
        component = ((doc.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
        if isinstance(component, str) and component in readiness:
            port = ((doc.get("spec") or {}).get("ports") or [{}])[0].get("port")
            urls.append(f"http://{manifests.name(doc)}.{namespace}.svc:{port}{readiness[component]}")
    return sorted(urls)


def probe_step(context: str, namespace: str, urls: Sequence[str], instance: str, tag: str) -> Step:
    name = f"shipyard-health-{tag}".lower().replace("_", "-")[:63].rstrip("-")
    labels = {"app.kubernetes.io/instance": instance, "app.kubernetes.io/component": "healthcheck"}
    return Step("health", kubectl_cmd.probe_pod(context, namespace, name, PROBE_IMAGE, urls, labels), 240, False)


def rollout_steps(context: str, namespace: str, names: Sequence[str], timeout: int = ROLLOUT_TIMEOUT) -> list[Step]:
    return [Step("rollout", kubectl_cmd.rollout_status(context, namespace, n, timeout), timeout + 30, False)
            for n in names]


def kustomize_deploy(context: str, namespace: str, directory: str, docs: Sequence[Doc], app_services: Sequence[str],
                     urls: Sequence[str], tag: str, instance: str = "shipyard") -> Plan:
    """apply -k the pinned overlay, wait for every rollout, call every service through its Service.
    Undo: `rollout undo` of the application's workloads (the previous ReplicaSet comes back)."""
    all_workloads = workloads(docs)
    app = workloads(docs, app_services)
    steps = [Step("apply", kubectl_cmd.apply_kustomize(context, directory), 180)]
    steps += rollout_steps(context, namespace, all_workloads)
    steps.append(probe_step(context, namespace, urls, instance, tag))
    undo = [Step("undo", kubectl_cmd.rollout_undo(context, namespace, n), 60) for n in app]
    undo += rollout_steps(context, namespace, app)
    return Plan(steps, undo)


def kustomize_rollback(context: str, namespace: str, docs: Sequence[Doc], app_services: Sequence[str],
                       urls: Sequence[str], tag: str, instance: str = "shipyard") -> Plan:
    """Back to each application workload's previous revision, then wait and check health."""
    app = workloads(docs, app_services)
    steps = [Step("rollback", kubectl_cmd.rollout_undo(context, namespace, n), 60) for n in app]
    steps += rollout_steps(context, namespace, app)
    steps.append(probe_step(context, namespace, urls, instance, tag))
    return Plan(steps)


def helm_deploy(context: str, namespace: str, release: str, chart: str, values: Sequence[str],
                set_string: Mapping[str, str], helm_major: int, previous_revision: int | None,
                timeout: int = ROLLOUT_TIMEOUT) -> Plan:
    """upgrade --install with rollback-on-failure and --wait (Helm waits for the rollouts), then `helm test`
    (the chart's hook calls every service through its Service). Undo after a failed test: back to the
    previous revision, or uninstall a first install."""
    steps = [
        Step("upgrade", helm_cmd.upgrade_install(release, chart, context=context, namespace=namespace,
                                                 values=values, set_string=set_string, helm_major=helm_major,
                                                 timeout=timeout), timeout + 60),
        Step("health", helm_cmd.test(release, context=context, namespace=namespace), 240, False),
    ]
    if previous_revision is None:
        undo = [Step("undo", helm_cmd.uninstall(release, context=context, namespace=namespace), timeout + 60)]
    else:
        undo = [Step("undo", helm_cmd.rollback(release, previous_revision, context=context, namespace=namespace,
                                               timeout=timeout), timeout + 60)]
    return Plan(steps, undo)


def helm_rollback(context: str, namespace: str, release: str, revision: int | None,
                  timeout: int = ROLLOUT_TIMEOUT) -> Plan:
    return Plan([
        Step("rollback", helm_cmd.rollback(release, revision, context=context, namespace=namespace,
                                           timeout=timeout), timeout + 60),
        Step("health", helm_cmd.test(release, context=context, namespace=namespace), 240, False),
    ])


def helm_revision_for_tag(tags_by_revision: Mapping[int, str | None], tag: str) -> int | None:
    """The newest retained revision that deployed `tag` (a short or full SHA prefix match)."""
    matches = [rev for rev, deployed in tags_by_revision.items()
               if deployed and (deployed.startswith(tag) or tag.startswith(deployed))]
    return max(matches) if matches else None

"""A Kubernetes environment's workloads (`k8s.status`) and the releases its cluster remembers (`k8s.releases`):
plain lines and the shipyard.k8s-status / shipyard.k8s-releases documents. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.facts.k8s import Revision, Workload
from shipyard.report import schema


def k8s_status_doc(env: str, context: str, namespace: str, workloads: Sequence[Workload]) -> dict[str, Any]:
    return {"schema": schema("k8s-status"), "environment": env, "context": context, "namespace": namespace,
            "healthy": all(w.healthy for w in workloads),
            "workloads": [{"kind": w.kind, "name": w.name, "desired": w.desired, "ready": w.ready,
                           "updated": w.updated, "healthy": w.healthy, "images": list(w.images)}
                          for w in workloads]}


def k8s_status_lines(context: str, namespace: str, workloads: Sequence[Workload]) -> list[str]:
    """One line per workload, then its images indented below it (pinned references are long)."""
    if not workloads:
        return [f"nothing deployed in namespace {namespace} (context {context})"]
    names = [f"{w.kind.lower()}/{w.name}" for w in workloads]
    width = max(len(n) for n in names)
    out = []
    for name, w in zip(names, workloads, strict=True):
        out.append(f"{name:<{width}}  {w.ready}/{w.desired} ready  {'ok' if w.healthy else 'DEGRADED'}")
        out += [f"    {image}" for image in w.images]
    return out


def k8s_releases_doc(env: str, revisions: Sequence[Revision]) -> dict[str, Any]:
    return {"schema": schema("k8s-releases"), "environment": env,
            "revisions": [{"workload": r.workload, "revision": r.revision, "release": r.release, "created": r.created,
                           "live": r.live, "detail": r.detail} for r in revisions]}


def k8s_releases_lines(context: str, namespace: str, revisions: Sequence[Revision]) -> list[str]:
    if not revisions:
        return [f"no releases in namespace {namespace} (context {context})"]
    return [f"{r.workload}  rev {r.revision:<3} {r.release or '(not a Shipyard release)':<14} {r.created[:19]}"
            f"{'  live' if r.live else ''}{'  ' + r.detail if r.detail else ''}" for r in revisions]

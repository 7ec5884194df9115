"""The workloads of a Kubernetes environment (`k8s.status`): plain lines and the shipyard.k8s-status document.
Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.facts.k8s import Workload
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

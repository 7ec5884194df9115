"""Parity of the two renderers: the overlay and the chart values file of one environment must produce the same
objects (kind and name), images, probes, resources and replica counts.

The Namespace object is left out: Kustomize declares it (with its Pod Security labels), while Helm creates the
release namespace itself (`--create-namespace`). Helm hooks (the `helm test` pod) are not part of a release's
steady state and are left out too.
"""

from __future__ import annotations

from typing import Any

from shipyard.k8s import manifests
from shipyard.k8s.manifests import Doc

IGNORED_KINDS = frozenset({"Namespace"})
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def summarize(docs: list[Doc]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc["kind"] in IGNORED_KINDS or manifests.is_hook(doc):
            continue
        entry: dict[str, Any] = {}
        spec = doc.get("spec") or {}
        if doc["kind"] in ("Deployment", "StatefulSet"):
            entry["replicas"] = spec.get("replicas", 1)
        if doc["kind"] == "HorizontalPodAutoscaler":
            entry["replicas"] = (spec.get("minReplicas", 1), spec.get("maxReplicas"))
            entry["metrics"] = spec.get("metrics")
        for container in manifests.containers(doc):
            name = container.get("name")
            entry[f"container {name}"] = {
                "image": container.get("image"),
                "resources": _normalized(container.get("resources") or {}),
                **{probe: container.get(probe) for probe in PROBES if container.get(probe)},
            }
        out[manifests.key(doc)] = entry
    return out


def _normalized(resources: dict[str, Any]) -> dict[str, Any]:
    return {part: {k: str(v) for k, v in sorted((resources.get(part) or {}).items())}
            for part in ("requests", "limits") if resources.get(part)}


def compare(left: list[Doc], right: list[Doc], left_label: str, right_label: str) -> list[str]:
    """Every difference, one line each; empty when the two renders agree."""
    a, b = summarize(left), summarize(right)
    problems = [f"{key} only in {left_label}" for key in sorted(a.keys() - b.keys())]
    problems += [f"{key} only in {right_label}" for key in sorted(b.keys() - a.keys())]
    for key in sorted(a.keys() & b.keys()):
        for field in sorted(a[key].keys() | b[key].keys()):
            if a[key].get(field) != b[key].get(field):
                problems.append(f"{key} {field}: {left_label} has {a[key].get(field)!r}, "
                                f"{right_label} has {b[key].get(field)!r}")
    return problems

"""Pure parsers of kubectl and helm output."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from shipyard.errors import ShipyardError


class FactError(ShipyardError, ValueError):
    """Output that does not look like what the command prints: a one-line error, never a traceback."""


def parse_contexts(stdout: str) -> list[str]:
    """`kubectl config get-contexts -o name`: one context per line."""
    return [line.strip() for line in stdout.splitlines() if line.strip()]


def parse_current_context(stdout: str) -> str | None:
    name = stdout.strip()
    return name or None


def parse_helm_version(stdout: str) -> tuple[int, int]:
    """`helm version --template {{.Version}}` -> (major, minor), e.g. 'v3.16.2' -> (3, 16)."""
    match = re.search(r"v?(\d+)\.(\d+)\.\d+", stdout)
    if not match:
        raise FactError(f"not a helm version: {stdout.strip()[:60]!r}")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class HelmRevision:
    revision: int
    status: str
    chart: str
    app_version: str
    description: str
    updated: str = ""


def parse_helm_history(stdout: str) -> list[HelmRevision]:
    """`helm history -o json`, oldest first. An unknown release prints an error, not JSON: callers pass ''."""
    if not stdout.strip():
        return []
    try:
        rows = json.loads(stdout)
    except json.JSONDecodeError:
        raise FactError("helm history did not print JSON") from None
    out = [HelmRevision(int(row["revision"]), str(row.get("status", "")), str(row.get("chart", "")),
                        str(row.get("app_version", "")), str(row.get("description", "")),
                        str(row.get("updated", ""))) for row in rows]
    return sorted(out, key=lambda r: r.revision)


def parse_helm_values_tag(stdout: str) -> str | None:
    """`helm get values -o json` -> the image.tag that revision deployed (None when unset)."""
    try:
        data = json.loads(stdout or "{}") or {}
    except json.JSONDecodeError:
        raise FactError("helm get values did not print JSON") from None
    tag = (data.get("image") or {}).get("tag")
    return str(tag) if tag else None


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    desired: int
    ready: int
    updated: int
    images: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return self.ready >= self.desired and self.updated >= self.desired


def _workload(item: dict[str, Any]) -> Workload:
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return Workload(
        kind=str(item.get("kind", "")),
        name=str((item.get("metadata") or {}).get("name", "")),
        desired=int(spec.get("replicas", 1) or 0),
        ready=int(status.get("readyReplicas", 0) or 0),
        updated=int(status.get("updatedReplicas", 0) or 0),
        images=tuple(str(c.get("image", "")) for c in containers),
    )


def parse_workloads(stdout: str) -> list[Workload]:
    """`kubectl get deployment,statefulset -o json` -> one Workload per item, sorted by kind and name."""
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise FactError("kubectl get did not print JSON") from None
    items = data.get("items", []) if data.get("kind") == "List" else [data]
    return sorted((_workload(item) for item in items if item.get("kind") in ("Deployment", "StatefulSet")),
                  key=lambda w: (w.kind, w.name))


@dataclass(frozen=True)
class Revision:
    """One release as the cluster remembers it: a rollout revision of a workload (Kustomize) or a Helm revision."""

    workload: str  # deployment/shipyard-api, or the Helm release name
    revision: int
    release: str | None  # the release tag it deployed (None when the cluster does not say)
    created: str
    live: bool
    detail: str = ""


CHANGE_CAUSE_PREFIX = "shipyard release "


def parse_rollout_history(stdout: str) -> list[Revision]:
    """`kubectl get replicasets -o json`: each ReplicaSet is one rollout revision of its Deployment, with the
    release it deployed in `kubernetes.io/change-cause` (written by every Shipyard deploy). Oldest first per
    workload; the live one is the revision that has pods."""
    try:
        data = json.loads(stdout or "{}") or {}
    except json.JSONDecodeError:
        raise FactError("kubectl get replicasets did not print JSON") from None
    out = []
    for item in data.get("items") or []:
        meta = item.get("metadata") or {}
        owners = [o for o in meta.get("ownerReferences") or [] if o.get("kind") == "Deployment"]
        annotations = meta.get("annotations") or {}
        revision = str(annotations.get("deployment.kubernetes.io/revision", ""))
        if not owners or not revision.isdigit():
            continue
        cause = str(annotations.get("kubernetes.io/change-cause", ""))
        release = cause[len(CHANGE_CAUSE_PREFIX):] if cause.startswith(CHANGE_CAUSE_PREFIX) else None
        live = int((item.get("status") or {}).get("replicas") or 0) > 0
        out.append(Revision(f"deployment/{owners[0]['name']}", int(revision), release,
                            str(meta.get("creationTimestamp", "")), live))
    return sorted(out, key=lambda r: (r.workload, r.revision))

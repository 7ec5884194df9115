"""Kustomize: argv builders, and the generated overlay that pins a release without touching committed files.

`kubectl kustomize` (kustomize 5 built into kubectl) renders; a standalone `kustomize` binary is optional.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shipyard import imageref

Argv = list[str]

#: The image names the base's Deployments use; the generated overlay maps each to the release's image.
PLACEHOLDER = "shipyard/{service}"
#: The ConfigMap that carries APP_VERSION is found by this label, not by name.
CONFIG_SELECTOR = "app.kubernetes.io/component=config"
#: On each workload (copied by Kubernetes onto its ReplicaSet): which release a rollout revision deployed, what
#: `kubectl rollout history` shows as CHANGE-CAUSE and what `releases` reads back from the cluster.
CHANGE_CAUSE = "kubernetes.io/change-cause"
RELEASE_CAUSE = "shipyard release {version}"


def build(directory: str, *, standalone: bool = False) -> Argv:
    return ["kustomize", "build", directory] if standalone else ["kubectl", "kustomize", directory]


def release_overlay(resource: str, *, namespace: str, images: Mapping[str, str], version: str) -> dict[str, Any]:
    """A kustomization that wraps `resource` (a relative path to a committed overlay) and pins it.

    images maps service name -> full image reference `<registry>/<namespace>/<service>:<tag>`, optionally with
    `@sha256:...` (then the pods run that digest).
    """
    pinned = []
    for service, ref in sorted(images.items()):
        tag = imageref.tag_of(ref)
        if tag is None:
            raise ValueError(f"image reference {ref!r} has no tag")
        entry = {"name": PLACEHOLDER.format(service=service), "newName": imageref.repository_of(ref),
                 "newTag": tag}
        if (digest := imageref.digest_of(ref)) is not None:
            entry["digest"] = digest  # kustomize writes repo@digest: what the registry stored at push time
        pinned.append(entry)
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [resource],
        "namespace": namespace,
        "images": pinned,
        "patches": [{
            "target": {"kind": "ConfigMap", "labelSelector": CONFIG_SELECTOR},
            "patch": json.dumps([{"op": "add", "path": "/data/APP_VERSION", "value": version}]),
        }, *({
            "target": {"kind": kind},
            "patch": json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {
                "name": "any", "annotations": {CHANGE_CAUSE: RELEASE_CAUSE.format(version=version)}}}),
        } for kind in ("Deployment", "StatefulSet"))],
    }

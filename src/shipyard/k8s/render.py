"""Render a source pinned to a release: Kustomize through a generated overlay (committed files never change),
Helm through the Helm SDK in-process (no helm binary, no cluster)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shipyard import imageref
from shipyard.commands import kustomize as kustomize_cmd
from shipyard.config.schema import Registry
from shipyard.errors import ShipyardError
from shipyard.k8s import manifests
from shipyard.k8s.manifests import Doc
from shipyard.k8s.sources import Source
from shipyard.release import Release
from shipyard.run.base import CommandError, Runner
from shipyard.util.merge import deep_merge


@dataclass(frozen=True)
class Pin:
    """Where and what to deploy: the namespace, and every service's image at the release's tag."""

    namespace: str
    registry: Registry
    tag: str
    services: tuple[str, ...]
    #: service -> the digest the registry stores for its image of this release (recorded by the release step at
    #: push time); empty when only rendering. With it, pods run `repo:tag@sha256:...`: a tag overwritten in the
    #: registry later never changes what a node pulls.
    digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, release: Release, registry: Registry, services: Mapping[str, Any], namespace: str,
           pinned: Mapping[str, str] | None = None) -> Pin:
        """`pinned`: service -> pinned reference (`repo@sha256:...`), what `targets.images.ship` returns."""
        digests = {svc: digest for svc, ref in (pinned or {}).items()
                   if svc in services and (digest := imageref.digest_of(ref)) is not None}
        return cls(namespace, registry, release.tag, tuple(sorted(services)), digests)

    @property
    def images(self) -> dict[str, str]:
        """service -> `registry/namespace/service:tag`, with `@digest` when the digest is known."""
        out = {}
        for service in self.services:
            ref = imageref.image(self.registry.address, self.registry.namespace, service, self.tag)
            digest = self.digests.get(service)
            out[service] = imageref.tag_and_digest(ref, digest) if digest else ref
        return out

    def chart_values(self) -> dict[str, Any]:
        """The chart values that pin it (the same images as `images`)."""
        image: dict[str, Any] = {"registry": self.registry.address, "namespace": self.registry.namespace,
                                 "tag": self.tag}
        if self.digests:
            image["digests"] = dict(sorted(self.digests.items()))
        return {"image": image}

    def helm_values(self) -> dict[str, str]:
        """`chart_values` as the --set-string overrides of `helm upgrade`."""
        image = self.chart_values()["image"]
        values = {f"image.{key}": value for key, value in image.items() if key != "digests"}
        values.update({f"image.digests.{svc}": digest for svc, digest in image.get("digests", {}).items()})
        return values


@dataclass(frozen=True)
class Rendered:
    source: Source
    docs: list[Doc]
    hooks: list[Doc]

    @property
    def text(self) -> str:
        return manifests.dump(self.docs)

    @property
    def all_docs(self) -> list[Doc]:
        return [*self.docs, *self.hooks]


@contextlib.contextmanager
def pinned_overlay(root: Path, source: Source, pin: Pin) -> Iterator[Path]:
    """A temporary kustomization wrapping the committed overlay, with `images:` and `namespace:` set."""
    tmp = Path(tempfile.mkdtemp(prefix="shipyard-k8s-"))
    try:
        resource = os.path.relpath((root / source.path).resolve(), tmp)
        content = kustomize_cmd.release_overlay(resource, namespace=pin.namespace, images=pin.images,
                                                version=pin.tag)
        (tmp / "kustomization.yaml").write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render_kustomize(root: Path, source: Source, pin: Pin, runner: Runner) -> Rendered:
    with pinned_overlay(root, source, pin) as directory:
        try:
            out = runner.run(kustomize_cmd.build(str(directory)), timeout=60).stdout
        except CommandError as exc:
            last = (exc.stderr_tail.strip().splitlines() or ["no error output"])[-1]
            raise ShipyardError(f"{source.label}: kustomize failed: {last}",
                                hint=f"kubectl kustomize {source.path}") from None
    return Rendered(source, manifests.load(out, source.label), [])


def helm_sdk() -> Any:
    try:
        import helm_python
    except ImportError:
        raise ShipyardError("the Helm SDK is not installed (needed to render and lint charts)",
                            hint="pip install 'shipyard[k8s]'") from None
    return helm_python


def merged_values(root: Path, source: Source, pin: Pin | None) -> dict[str, Any]:
    """The values files in order, then the release pin, as one mapping (later wins, maps merge deeply)."""
    merged: dict[str, Any] = {}
    for path in source.values:
        try:
            data = yaml.safe_load((root / path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ShipyardError(f"{path}: cannot read values ({exc.__class__.__name__})") from None
        merged = deep_merge(merged, data)
    if pin is not None:
        merged = deep_merge(merged, pin.chart_values())
    return merged



def render_helm(root: Path, source: Source, pin: Pin) -> Rendered:
    helm = helm_sdk()
    values = merged_values(root, source, pin)
    try:
        chart = helm.Chart.load(str(root / source.path))
        try:
            out = chart.render(values, name=source.release, namespace=pin.namespace, is_install=True)
        finally:
            chart.close()
    except helm.HelmError as exc:
        first = str(exc).strip().splitlines()
        raise ShipyardError(f"{source.label}: helm render failed: {' '.join(first[:3])}",
                            hint=f"invoke k8s.validate (helm lint shows every problem in {source.path})") from None
    docs: list[Doc] = []
    hooks: list[Doc] = []
    for template in sorted(out):
        if template.endswith("NOTES.txt"):
            continue
        for doc in manifests.load(out[template], template):
            (hooks if manifests.is_hook(doc) else docs).append(_with_namespace(doc, pin.namespace))
    return Rendered(source, docs, hooks)


CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                            "IngressClass", "CustomResourceDefinition", "PriorityClass"})


def _with_namespace(doc: Doc, namespace: str) -> Doc:
    """helm template leaves metadata.namespace unset; the install sets it. Make the render explicit."""
    if doc["kind"] not in CLUSTER_SCOPED and not manifests.namespace(doc):
        doc = {**doc, "metadata": {**(doc.get("metadata") or {}), "namespace": namespace}}
    return doc


def render(root: Path, source: Source, pin: Pin, runner: Runner) -> Rendered:
    if source.kind == "kustomize":
        return render_kustomize(root, source, pin, runner)
    return render_helm(root, source, pin)

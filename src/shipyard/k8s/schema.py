"""Strict validation of objects against the Kubernetes OpenAPI schemas shipped by kubernetes-validate.

kubernetes-validate re-reads and re-compiles a schema for every object; this keeps one compiled validator per
(version, kind, apiVersion), which makes validating every render against two versions take well under a second.
An unknown kind or a removed apiVersion is a problem here, never a warning.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from shipyard.errors import ShipyardError
from shipyard.k8s import manifests
from shipyard.k8s.manifests import Doc

#: Oldest supported cluster version, and the newest this repository is checked against.
KUBE_VERSIONS = ("1.30.0", "1.34.0")


@dataclass(frozen=True)
class Problem:
    origin: str
    obj: str
    version: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.obj} (Kubernetes {self.version}): {self.message}"


def _kv() -> Any:
    try:
        import kubernetes_validate.utils as kv_utils
    except ImportError:
        raise ShipyardError("kubernetes-validate is not installed (needed for strict schema validation)",
                            hint="pip install 'shipyard[k8s]'") from None
    return kv_utils


def schema_version(desired: str) -> str:
    """The newest bundled schema not newer than `desired`'s minor version (as kubernetes-validate picks it)."""
    kv = _kv()
    try:
        wanted = Version(desired)
    except InvalidVersion:
        raise ShipyardError(f"not a Kubernetes version: {desired!r}",
                            hint="give one such as --kube-version 1.34.0") from None
    bundled = sorted({Version(v) for v in kv.all_versions()})
    candidates = [v for v in bundled if (v.major, v.minor) <= (wanted.major, wanted.minor)]
    if not candidates:
        raise ShipyardError(f"kubernetes-validate has no schemas for Kubernetes {desired}")
    newest = bundled[-1]
    if (wanted.major, wanted.minor) > (newest.major, newest.minor):
        raise ShipyardError(f"kubernetes-validate has no schemas for Kubernetes {desired} (newest: "
                            f"{newest.major}.{newest.minor})", hint="pip install -U kubernetes-validate")
    return str(candidates[-1])


@functools.cache
def _definitions(version: str) -> Any:
    from referencing import Registry, Resource

    kv = _kv()
    defs = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
    return Resource.from_contents(defs) @ Registry()


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    """None when no schema exists (unknown kind, or an apiVersion this Kubernetes no longer serves)."""
    import jsonschema
    from referencing import Resource

    kv = _kv()
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/{kind.lower()}-{group}.json",
                                    version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _definitions(version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(docs: list[Doc], origin: str, versions: tuple[str, ...] = KUBE_VERSIONS) -> list[Problem]:
    problems: list[Problem] = []
    for desired in versions:
        version = schema_version(desired)
        for doc in docs:
            validator = _validator(version, str(doc["kind"]), str(doc["apiVersion"]))
            if validator is None:
                problems.append(Problem(origin, manifests.key(doc), version,
                                        f"no schema for {doc['apiVersion']} {doc['kind']} (unknown kind or "
                                        "apiVersion removed)"))
                continue
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
                path = ".".join(str(p) for p in error.path) or "(object)"
                problems.append(Problem(origin, manifests.key(doc), version, f"{path}: {error.message}"))
    return problems

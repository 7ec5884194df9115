"""Multi-document YAML manifests as plain dicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from shipyard.errors import ShipyardError

Doc = dict[str, Any]
HOOK = "helm.sh/hook"


class ManifestError(ShipyardError):
    """Rendered output that is not a stream of Kubernetes objects."""


def load(text: str, origin: str = "manifest") -> list[Doc]:
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{origin}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise ManifestError(f"{origin}: a document has no kind/apiVersion: {str(doc)[:80]}")
    return docs


def dump(docs: Iterable[Doc]) -> str:
    return "---\n".join(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False) for doc in docs)


def name(doc: Doc) -> str:
    return str((doc.get("metadata") or {}).get("name", ""))


def namespace(doc: Doc) -> str | None:
    value = (doc.get("metadata") or {}).get("namespace")
    return str(value) if value else None


def key(doc: Doc) -> str:
    """kind/name, the way kubectl names an object."""
    return f"{doc['kind']}/{name(doc)}"


def annotations_of(doc: Doc) -> dict[str, str]:
    return dict((doc.get("metadata") or {}).get("annotations") or {})


def is_hook(doc: Doc) -> bool:
    """A Helm hook (test pod, job): not part of the release's steady state."""
    return HOOK in annotations_of(doc)


def pod_spec(doc: Doc) -> Doc | None:
    if doc["kind"] == "Pod":
        return dict(doc.get("spec") or {})
    template = (doc.get("spec") or {}).get("template")
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job") and template:
        return dict(template.get("spec") or {})
    return None


def containers(doc: Doc) -> list[Doc]:
    spec = pod_spec(doc)
    return list((spec or {}).get("containers") or [])

"""The application Secret, built in memory and handed to `kubectl apply -f -` on stdin.

Values never reach argv, logs or files: the manifest exists only as the stdin of one kubectl process, and
the base64 form of every value is registered with the redactor as well as the value itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from shipyard.config.secrets import Secret
from shipyard.run.redact import REDACTOR, Redactor

SECRET_NAME = "shipyard-secrets"  # noqa: S105 - the name of the Secret object, not a value


def manifest(name: str, namespace: str, values: Mapping[str, Secret], *, labels: Mapping[str, str] | None = None,
             redactor: Redactor = REDACTOR) -> str:
    """A v1 Secret as JSON (kubectl reads JSON or YAML)."""
    data = {}
    for key, secret in sorted(values.items()):
        encoded = base64.b64encode(secret.reveal().encode("utf-8")).decode("ascii")
        redactor.add(encoded)
        data[key] = encoded
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {
            "app.kubernetes.io/part-of": "shipyard", "app.kubernetes.io/managed-by": "shipyard"})},
        "data": data,
    }
    return json.dumps(doc, sort_keys=True)


def keys_for(services_secrets: Mapping[str, list[str]]) -> list[str]:
    """Every secret name any service of the environment needs, once."""
    return sorted({name for names in services_secrets.values() for name in names})

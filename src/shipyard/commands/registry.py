"""The registry's HTTP API (Docker Registry v2), called with curl from the deploying machine. Pure argv.

Deleting a tag: HEAD its manifest with the v2 media type to learn the digest the registry stores, then DELETE
that digest. Blobs are only freed by the registry's garbage collector (run with the registry stopped).
"""

from __future__ import annotations

from shipyard.config.schema import Registry

Argv = list[str]
MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.oci.image.manifest.v1+json")


def base_url(registry: Registry) -> str:
    scheme = "http" if registry.insecure or registry.address.startswith(("127.", "localhost")) else "https"
    return f"{scheme}://{registry.address}/v2"


def repository(registry: Registry, service: str) -> str:
    return f"{registry.namespace}/{service}"


def _curl(*extra: str) -> Argv:
    return ["curl", "--silent", "--show-error", "--fail", "--max-time", "30", *extra]


def tags(registry: Registry, service: str) -> Argv:
    return _curl(f"{base_url(registry)}/{repository(registry, service)}/tags/list")


def manifest_digest(registry: Registry, service: str, tag: str) -> Argv:
    """HEAD the manifest; the digest is in the Docker-Content-Digest response header."""
    accept = [arg for media in MANIFEST_TYPES for arg in ("--header", f"Accept: {media}")]
    return _curl("--head", *accept, f"{base_url(registry)}/{repository(registry, service)}/manifests/{tag}")


def delete_manifest(registry: Registry, service: str, digest: str) -> Argv:
    return _curl("--request", "DELETE", f"{base_url(registry)}/{repository(registry, service)}/manifests/{digest}")

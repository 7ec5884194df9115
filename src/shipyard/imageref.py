"""Image references, made and taken apart in this one place. Pure.

A release's image is `<registry>/<namespace>/<service>:<tag>` (the tag: the release's short SHA); hosts pull and
run it pinned, `<registry>/<namespace>/<service>@sha256:...`, the digest the registry stored for that tag. A
registry address may carry a port (`127.0.0.1:5000`): that colon is never a tag's.
"""

from __future__ import annotations


def image(registry: str, namespace: str, service: str, tag: str) -> str:
    """`registry/namespace/service:tag`."""
    return f"{repository(registry, namespace, service)}:{tag}"


def repository(registry: str, namespace: str, service: str) -> str:
    """`registry/namespace/service`: the image without its tag."""
    return f"{registry}/{path(namespace, service)}"


def path(namespace: str, service: str) -> str:
    """`namespace/service`: the repository as the registry's API names it (no registry address)."""
    return f"{namespace}/{service}"


def repository_of(ref: str) -> str:
    """The repository of `repo:tag`, `repo@digest`, `repo:tag@digest` or `repo`."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def tag_of(ref: str) -> str | None:
    """The tag of `repo:tag` (also of `repo:tag@digest`), None when there is none."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def digest_of(ref: str) -> str | None:
    """The digest of `repo@sha256:...`, None when the reference is not pinned."""
    return ref.split("@", 1)[1] if "@" in ref else None


def reference_of(ref: str) -> str:
    """What the registry's manifest API takes for `ref`: its digest when pinned, else its tag."""
    found = digest_of(ref) or tag_of(ref)
    if found is None:
        raise ValueError(f"image reference {ref!r} has neither a tag nor a digest")
    return found


def name_of(ref: str) -> str:
    """The last part of the repository: `postgres` for `docker.io/library/postgres:16`."""
    return repository_of(ref).rsplit("/", 1)[-1]


def pinned(ref: str, digest: str) -> str:
    """`registry/ns/service:tag` + `sha256:...` -> `registry/ns/service@sha256:...` (what hosts pull and run)."""
    return f"{repository_of(ref)}@{digest}"


def tag_and_digest(ref: str, digest: str) -> str:
    """`repo:tag` + `sha256:...` -> `repo:tag@sha256:...`: the digest decides what runs, the tag says which
    release it is (what Kubernetes manifests show)."""
    return f"{ref.split('@', 1)[0]}@{digest}"


def retagged(ref: str, tag: str) -> str:
    """The same repository with `tag`: `repo@sha256:...` + `abc` -> `repo:abc`."""
    return f"{repository_of(ref)}:{tag}"

"""Image references are made and taken apart in shipyard.imageref only, and every target names a release's images
the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shipyard import imageref
from shipyard.config.schema import Registry

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "ab" * 32


def test_a_release_image_and_its_parts() -> None:
    ref = imageref.image("127.0.0.1:5000", "acme", "api", "3f2c9e1a0b4d")
    assert ref == "127.0.0.1:5000/acme/api:3f2c9e1a0b4d"
    assert imageref.repository("127.0.0.1:5000", "acme", "api") == "127.0.0.1:5000/acme/api"
    assert imageref.path("acme", "api") == "acme/api"
    assert imageref.repository_of(ref) == "127.0.0.1:5000/acme/api"
    assert imageref.tag_of(ref) == "3f2c9e1a0b4d"
    assert imageref.digest_of(ref) is None
    assert imageref.reference_of(ref) == "3f2c9e1a0b4d"


@pytest.mark.parametrize(("ref", "repository", "tag", "digest", "name"), [
    ("postgres", "postgres", None, None, "postgres"),
    ("postgres:16", "postgres", "16", None, "postgres"),
    ("docker.io/library/redis:7@" + DIGEST, "docker.io/library/redis", "7", DIGEST, "redis"),
    ("127.0.0.1:5000/e2e/app@" + DIGEST, "127.0.0.1:5000/e2e/app", None, DIGEST, "app"),
    ("127.0.0.1:5000/e2e/app", "127.0.0.1:5000/e2e/app", None, None, "app"),  # a registry's :port is no tag
    ("registry.digitalocean.com/acme/api", "registry.digitalocean.com/acme/api", None, None, "api"),
])
def test_references_taken_apart(ref: str, repository: str, tag: str | None, digest: str | None, name: str) -> None:
    assert imageref.repository_of(ref) == repository
    assert imageref.tag_of(ref) == tag
    assert imageref.digest_of(ref) == digest
    assert imageref.name_of(ref) == name


def test_pinned_and_retagged() -> None:
    ref = "127.0.0.1:5000/e2e/app:aaaa1111aaaa"
    pinned = imageref.pinned(ref, DIGEST)
    assert pinned == f"127.0.0.1:5000/e2e/app@{DIGEST}"
    assert imageref.reference_of(pinned) == DIGEST  # the registry is asked for what the host runs
    assert imageref.retagged(pinned, "aaaa1111aaaa") == ref
    assert imageref.pinned(pinned, "sha256:" + "cd" * 32) == "127.0.0.1:5000/e2e/app@sha256:" + "cd" * 32
    with pytest.raises(ValueError, match="neither a tag nor a digest"):
        imageref.reference_of("127.0.0.1:5000/e2e/app")


def test_every_target_names_a_release_image_alike() -> None:
    from shipyard.k8s.render import Pin
    from shipyard.release import Release

    registry = Registry(address="reg.example:5443", namespace="acme")
    release = Release(sha="3f2c9e1a0b4d" + "0" * 28)
    expected = "reg.example:5443/acme/api:3f2c9e1a0b4d"
    assert release.image(registry, "api") == expected
    assert Pin.of(release, registry, {"api": None}, "prod").images == {"api": expected}


def test_no_image_reference_is_formatted_by_hand() -> None:
    """Outside shipyard/imageref.py, no f-string writes `{...}/{...}:{tag}`, `{...}@{digest}` or `@sha256:{...}`."""
    by_hand = re.compile(r'\}/\{[^"]*\}:\{|\}@\{[a-z_.]*digest|@sha256:\{|namespace\}/\{')
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / "src/shipyard").rglob("*.py")) if path.name != "imageref.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_hand.search(line)]
    assert found == []
    assert by_hand.search('        return f"{registry}/{namespace}/{service}:{tag}"')  # the rule can fail
    assert by_hand.search('        return f"{repository_of(ref)}@{digest}"')

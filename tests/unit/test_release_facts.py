"""Release identity parsers (pure)."""

from __future__ import annotations

import pytest

from shipyard.config.schema import Registry
from shipyard.facts import git
from shipyard.release import Release

SHA = "a" * 40


def test_parse_sha() -> None:
    assert git.parse_sha(SHA + "\n") == SHA
    with pytest.raises(ValueError, match="not a commit SHA"):
        git.parse_sha("fatal: bad revision")


def test_parse_dirty() -> None:
    assert git.parse_dirty("") == []
    assert git.parse_dirty(" M src/a.py\n?? new.txt\n") == ["src/a.py", "new.txt"]


@pytest.mark.parametrize(("out", "expected"), [("main\n", "main"), ("HEAD\n", None), ("", None)])
def test_parse_branch(out: str, expected: str | None) -> None:
    assert git.parse_branch(out) == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ("", None), ("nightly\n", None), ("v1.2.3\n", "1.2.3"), ("1.2.3\nv1.10.0\nv1.9.9\n", "1.10.0"),
    ("v2.0.0-rc.1\n", "2.0.0-rc.1"),
    ("v1.2.3-rc1\nv1.2.3\n", "1.2.3"), ("v1.2.3\nv1.2.3-rc1\n", "1.2.3"),  # a pre-release is below its release
    ("v1.9.0\nv1.10.0\n", "1.10.0"), ("v1.2.3-rc2\nv1.2.3-rc10\nv1.2.2\n", "1.2.3-rc10"),
    ("v1.2.3-foo\nv1.0.0\n", "1.0.0"), ("v9.9.9-not.a.version\n", None),  # not versions to packaging: skipped
])
def test_parse_version(tags: str, expected: str | None) -> None:
    assert git.parse_version(tags) == expected


def test_release_image_and_tags() -> None:
    registry = Registry(address="ghcr.io", namespace="acme/shop")
    release = Release(sha=SHA, branch="feature/login", version="1.0.0")
    assert release.short_sha == "a" * 12
    assert release.image(registry, "api") == "ghcr.io/acme/shop/api:aaaaaaaaaaaa"
    assert Release(sha=SHA, dirty=True).tag == "aaaaaaaaaaaa-dirty"


def test_versions_order_as_packaging_orders_them() -> None:
    """The rule parse_version relies on (what sorted the tags by hand before put 1.2.3-rc1 above 1.2.3)."""
    from packaging.version import Version

    assert Version("1.2.3-rc1") < Version("1.2.3")
    assert Version("1.10.0") > Version("1.9.0")

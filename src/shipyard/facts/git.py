"""Parsers for git output (pure)."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

SEMVER_TAG = re.compile(r"^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def parse_sha(output: str) -> str:
    sha = output.strip()
    if not SHA_RE.match(sha):
        raise ValueError(f"not a commit SHA: {sha[:60]!r}")
    return sha


def parse_dirty(porcelain: str) -> list[str]:
    """Paths that make the tree dirty (modified, staged or untracked)."""
    return [line[3:] for line in porcelain.splitlines() if line.strip()]


def parse_branch(output: str) -> str | None:
    name = output.strip()
    return None if name in {"", "HEAD"} else name


def parse_version(tags_output: str) -> str | None:
    """The highest release version among the tags at HEAD (v1.2.3 -> 1.2.3), ordered by `packaging`'s Version:
    1.10.0 above 1.9.0, and a pre-release below its release (1.2.3-rc1 < 1.2.3). Tags that are not versions
    (nightly, 1.2.3-foo) are skipped."""
    versions: list[tuple[Version, str]] = []
    for tag in tags_output.split():
        match = SEMVER_TAG.match(tag)
        if not match:
            continue
        try:
            versions.append((Version(match.group(1)), match.group(1)))
        except InvalidVersion:
            continue
    return max(versions)[1] if versions else None

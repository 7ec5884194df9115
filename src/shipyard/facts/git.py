"""Parsers for git output (pure)."""

from __future__ import annotations

import re

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
    """The highest semantic version among the tags at HEAD (v1.2.3 -> 1.2.3)."""
    versions = []
    for tag in tags_output.split():
        match = SEMVER_TAG.match(tag)
        if match:
            core = match.group(1).split("-")[0].split("+")[0]
            versions.append((tuple(int(p) for p in core.split(".")), match.group(1)))
    return max(versions)[1] if versions else None

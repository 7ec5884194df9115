"""The committed package-lock.json is complete for every platform, so that `next build` never rewrites it.

`next build` patches a lockfile that lacks some of next's `@next/swc-*` optional packages (one per platform);
the lockfile is a global input of the monorepo cache, so such a patch invalidates every cache entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def missing_optional_packages(lock: dict[str, Any], package: str) -> list[str]:
    """The optional dependencies of `package` that the lockfile has no entry for."""
    packages = lock.get("packages", {})
    entry = packages.get(f"node_modules/{package}")
    if entry is None:
        return []
    return sorted(name for name in entry.get("optionalDependencies", {})
                  if f"node_modules/{name}" not in packages)


def test_committed_lockfile_has_every_platforms_next_swc_package() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert "node_modules/next" in lock["packages"]
    assert missing_optional_packages(lock, "next") == []


def test_the_check_finds_a_lockfile_trimmed_to_one_platform() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name in [k for k in lock["packages"] if "@next/swc-darwin" in k]:
        del lock["packages"][name]
    assert missing_optional_packages(lock, "next") == ["@next/swc-darwin-arm64", "@next/swc-darwin-x64"]


@pytest.mark.parametrize("name", ["darwin-arm64", "linux-x64-gnu", "win32-x64-msvc"])
def test_optional_entries_carry_integrity(name: str) -> None:
    entry = json.loads((ROOT / "package-lock.json").read_text())["packages"][f"node_modules/@next/swc-{name}"]
    assert entry["integrity"].startswith("sha512-") and entry["optional"] is True

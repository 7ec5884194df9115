"""Release identity read from a real git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipyard.errors import ReleaseError
from shipyard.release import current
from shipyard.run import LocalRunner


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "T")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    return tmp_path


def test_clean_tree(repo: Path) -> None:
    release = current(LocalRunner(), cwd=str(repo))
    assert release.sha == git(repo, "rev-parse", "HEAD").strip()
    assert release.short_sha == release.sha[:12] and release.tag == release.short_sha
    assert release.branch == "main" and release.version is None and not release.dirty


def test_version_tag(repo: Path) -> None:
    git(repo, "tag", "v2.3.4")
    assert current(LocalRunner(), cwd=str(repo)).version == "2.3.4"


def test_dirty_tree_refused_unless_allowed(repo: Path) -> None:
    (repo / "a.txt").write_text("changed")
    with pytest.raises(ReleaseError, match=r"uncommitted changes \(a.txt\)"):
        current(LocalRunner(), cwd=str(repo))
    release = current(LocalRunner(), cwd=str(repo), allow_dirty=True)
    assert release.dirty and release.tag.endswith("-dirty")


def test_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert current(LocalRunner(), cwd=str(repo)).branch is None


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="no commit to release"):
        current(LocalRunner(), cwd=str(tmp_path))

"""`--sha` means the same on every target (release.resolve): expanded through git, or a 12+ character image tag."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from shipyard.errors import ReleaseError
from shipyard.release import resolve
from shipyard.run import LocalRunner


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()

    git("init", "-q")
    (tmp_path / "a").write_text("a\n")
    git("add", "a")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "A")
    return tmp_path, git("rev-parse", "HEAD")


def test_a_short_sha_of_this_repository_is_expanded(repo: tuple[Path, str]) -> None:
    root, head = repo
    for given in (head[:4], head[:7], head[:12], head):
        release = resolve(given, LocalRunner(), cwd=str(root))
        assert release.sha == head and release.tag == head[:12]


def test_a_long_unknown_sha_is_taken_as_an_image_tag(repo: tuple[Path, str]) -> None:
    root, _ = repo
    assert resolve("0123456789ab", LocalRunner(), cwd=str(root)).tag == "0123456789ab"


@pytest.mark.parametrize(("given", "message"), [
    ("abcdef1", "is not a commit of this repository (or is ambiguous), and too short to be an image tag"),
    ("NOT-A-SHA", "is not a git SHA (4 to 40 lowercase hex characters)"),
    ("abc", "is not a git SHA"),
    ("ABCDEF12", "is not a git SHA"),
])
def test_anything_else_is_one_line(repo: tuple[Path, str], given: str, message: str) -> None:
    root, _ = repo
    with pytest.raises(ReleaseError, match=re.escape(message)) as info:
        resolve(given, LocalRunner(), cwd=str(root))
    assert "\n" not in str(info.value)

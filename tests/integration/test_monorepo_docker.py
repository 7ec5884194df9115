"""`docker.build --affected`: only images whose service's package (or a dependency) changed are built.

Dry runs against a generated git repository: the exact `docker build` commands are asserted, so no engine
is needed; the build itself is covered by the docker tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from monorepo_repo import commit_change, git, make_repo, write

INVOKE = str(Path(sys.executable).parent / "invoke")
PROJECT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path)
    write(root, "docker/web.Dockerfile", "FROM scratch\nARG GIT_SHA\n")
    write(root, "Dockerfile", "FROM scratch\nARG GIT_SHA\n")  # api's (context apps/api)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dockerfiles")
    git(root, "checkout", "-qb", "feature")
    return root


def built(root: Path, *args: str) -> tuple[list[str], str]:
    proc = subprocess.run([INVOKE, "-r", PROJECT, "docker.build", "--affected", "--dry-run", *args], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    images = [line.split(" -t ")[1].split()[0].rsplit(":", 1)[0].rsplit("/", 1)[1]
              for line in proc.stdout.splitlines() if "would run: docker build" in line]
    return images, proc.stdout


@pytest.mark.parametrize(("changed", "expected"), [
    ("apps/web/src/page.txt", ["web"]),
    ("packages/shared/src/a.txt", ["web"]),  # a dependency of web's package
    ("packages/models/src/m.txt", ["api"]),  # a path dependency of api's pyproject
    ("package-lock.json", ["api", "web"]),  # a global input
    ("docker/web.Dockerfile", ["web"]),  # the image's own Dockerfile
])
def test_only_affected_images_are_built(repo: Path, changed: str, expected: list[str]) -> None:
    commit_change(repo, changed, "changed\n")
    images, out = built(repo, "--base", "main")
    assert images == expected
    assert out.splitlines()[0].startswith("affected since main (merge base ")


def test_nothing_affected_builds_nothing(repo: Path) -> None:
    commit_change(repo, "README.md", "docs only\n")
    images, out = built(repo, "--base", "main")
    assert images == []
    assert "no service is affected since main" in out and "nothing to build" in out


def test_affected_narrows_an_explicit_service_list(repo: Path) -> None:
    commit_change(repo, "package-lock.json", "{}\n")
    assert built(repo, "--base", "main", "--service", "api")[0] == ["api"]


def test_unknown_base_is_one_line(repo: Path) -> None:
    proc = subprocess.run([INVOKE, "-r", PROJECT, "docker.build", "--affected", "--base", "origin/nope",
                           "--dry-run"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: unknown git ref 'origin/nope'")
    assert "would run" not in proc.stdout

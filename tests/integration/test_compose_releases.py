"""The release scenario on the compose target, through the same top-level commands as on VMs: deploy A, deploy B,
status, releases, rollback to A, on the real engine with the real registry. The `local` environment of
shipyard.yaml (`releases: true`) runs the release images the one release step built, pushed and pinned; the data
volume is the stack's own and outlives every release."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from docker_stack import Stack, copy_repo, git, new_canary, stack_env

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FOOTER_RE = re.compile(r"web (?:<!-- -->)?([0-9a-f]{12,40})")


def commit(stack: Stack, message: str) -> str:
    git(stack.root, "-c", "user.email=test@example.invalid", "-c", "user.name=test", "commit", "-q", "--allow-empty",
        "-m", message)
    return git(stack.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports


def serving(stack: Stack) -> tuple[str, str]:
    """(the release in the web page's footer, the api's version)."""
    page = httpx.get(stack.url("web"), timeout=120).text
    match = FOOTER_RE.search(page)
    api = httpx.get(stack.url("api", "/api/v1/health"), timeout=30).json()
    return (match.group(1) if match else ""), api["version"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, base_images: dict[str, str], registry: str) -> Iterator[Stack]:
    root = copy_repo(tmp_path_factory.mktemp("releases") / "repo")
    (root / ".gitignore").write_text(".shipyard/\n.env\n")
    git(root, "add", "-A")
    git(root, "-c", "user.email=test@example.invalid", "-c", "user.name=test", "commit", "-qm", "ignore local state")
    env, ports = stack_env(base_images, new_canary(), f"sytest-rel-{uuid.uuid4().hex[:6]}")
    stack = Stack(root=root, env=env, canary=env["POSTGRES_PASSWORD"], ports=ports)
    try:
        yield stack
    finally:
        stack.invoke("docker.clean", "--env", "local", "--volumes", "--yes", check=False, timeout=300)


def test_deploy_a_deploy_b_status_releases_rollback_to_a(stack: Stack) -> None:
    release_a = git(stack.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports
    first = stack.invoke("deploy", "--env", "local", timeout=1200)
    assert "pinned to sha256:" in first.stdout and f"local runs {release_a[:12]}" in first.stdout, first.stdout
    assert serving(stack) == (release_a, release_a)
    created = httpx.post(stack.url("api", "/api/v1/items"), json={"name": "kept-across-releases"}, timeout=30)
    assert created.status_code == 201

    release_b = commit(stack, "release B")
    stack.invoke("deploy", "--env", "local", timeout=1200)
    assert serving(stack) == (release_b, release_b)
    status = stack.invoke("status", "--env", "local").stdout
    assert f"release: {release_b[:12]} (deploy," in status, status
    doc = json.loads(stack.invoke("status", "--env", "local", "--json").stdout)
    assert doc["schema"] == "shipyard.compose-status/v1" and doc["ready"] is True, doc
    assert doc["release"]["release"] == release_b[:12]
    assert {s["service"]: s["image"] for s in doc["services"]}["api"].endswith(
        doc["release"]["services"]["api"].split("@", 1)[1])  # the container runs the pinned digest

    doc = json.loads(stack.invoke("releases", "--env", "local", "--json").stdout)
    entries = doc["hosts"][0]["entries"]
    assert [(e["action"], e["release"], e["outcome"]) for e in entries] == [
        ("deploy", release_a[:12], "ok"), ("deploy", release_b[:12], "ok")]
    assert all("@sha256:" in image for e in entries for image in e["services"].values())  # pinned digests

    plan = json.loads(stack.invoke("rollback", "--env", "local", "--dry-run", "--json").stdout)  # changes nothing
    assert (plan["schema"], plan["action"], plan["target"], plan["release"]) == (
        "shipyard.plan/v1", "rollback", "compose", release_a)
    assert plan["images"] == entries[0]["services"]  # A's pinned digests, from the ledger
    assert plan["commands"][0]["argv"][:2] == ["docker", "compose"] and "--wait" in plan["commands"][0]["argv"]
    assert serving(stack) == (release_b, release_b)

    back = stack.invoke("rollback", "--env", "local", timeout=600)  # no --sha: the release before the live one
    assert f"rolling local back to {release_a[:12]}" in back.stdout
    assert "building" not in back.stdout  # the pinned images of A, nothing built
    assert serving(stack) == (release_a, release_a)
    items = httpx.get(stack.url("api", "/api/v1/items"), timeout=30).json()["items"]
    assert "kept-across-releases" in [item["name"] for item in items]  # the data volume outlived both swaps


def test_the_working_tree_environment_refuses_releases_in_one_line(stack: Stack) -> None:
    for argv in (("deploy", "--env", "dev"), ("rollback", "--env", "dev"), ("releases", "--env", "dev")):
        proc = stack.invoke(*argv, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "releases: true" in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr

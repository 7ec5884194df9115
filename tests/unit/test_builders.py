"""Exact argv of every builder, built from the repository's real config object."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.commands import compose, docker, git
from shipyard.config import load
from shipyard.config.schema import ComposeEnvironment
from shipyard.release import Release

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load(ROOT / "shipyard.yaml")


def test_docker_build_from_config(config) -> None:  # type: ignore[no-untyped-def]
    api = config.services()["api"]
    release = Release(sha=SHA, branch="main", version="1.4.0")
    ref = release.image(config.registry(), "api")
    assert ref == "127.0.0.1:5000/shipyard/api:0123456789ab"
    argv = docker.build(api.context, api.dockerfile, [ref, ref.rsplit(":", 1)[0] + ":main"],
                        build_args={"BASE_IMAGE": "python:3.12-slim-bookworm"}, labels=release.labels())
    assert argv == [
        "docker", "build", "--force-rm", "-f", "docker/api.Dockerfile",
        "-t", "127.0.0.1:5000/shipyard/api:0123456789ab",
        "-t", "127.0.0.1:5000/shipyard/api:main",
        "--build-arg", "BASE_IMAGE=python:3.12-slim-bookworm",
        "--label", f"org.opencontainers.image.revision={SHA}",
        "--label", "org.opencontainers.image.version=1.4.0",
        ".",  # the api builds from the repository root (shipyard.yaml services.api.context)
    ]


def test_docker_simple_builders(config) -> None:  # type: ignore[no-untyped-def]
    ref = Release(sha=SHA).image(config.registry(), "web")
    assert docker.push(ref) == ["docker", "push", "127.0.0.1:5000/shipyard/web:0123456789ab"]
    assert docker.pull(ref) == ["docker", "pull", ref]
    assert docker.tag(ref, "web:latest") == ["docker", "tag", ref, "web:latest"]
    assert docker.image_exists(ref) == ["docker", "image", "inspect", "--format", "{{.Id}}", ref]
    assert docker.remove_image(ref) == ["docker", "image", "rm", ref]
    assert docker.stop("x", 5) == ["docker", "stop", "--time", "5", "x"]
    assert docker.rm("x", force=True) == ["docker", "rm", "--force", "x"]
    assert docker.start("x") == ["docker", "start", "x"]
    assert docker.logs("x", tail=50) == ["docker", "logs", "--tail", "50", "x"]
    assert docker.logs("x", follow=True) == ["docker", "logs", "--follow", "x"]
    assert docker.exec_("x", ["sh", "-c", "true"]) == ["docker", "exec", "x", "sh", "-c", "true"]
    assert docker.history(ref) == ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref]
    assert docker.inspect("x") == ["docker", "inspect", "x"]
    assert docker.network_create("n") == ["docker", "network", "create", "n"]
    assert docker.info() == ["docker", "info", "--format", "{{.ServerVersion}}"]
    assert docker.ps({"label": "shipyard.project=demo"}) == [
        "docker", "ps", "--no-trunc", "--format", "{{json .}}", "--all", "--filter", "label=shipyard.project=demo"]


def test_docker_run(config) -> None:  # type: ignore[no-untyped-def]
    web = config.services()["web"]
    argv = docker.run("img:1", name="demo-web-blue", network="demo", env={"PORT": str(web.port), "A": "1"},
                      labels={"shipyard.colour": "blue"}, restart="unless-stopped", ports=["127.0.0.1:80:80"])
    assert argv == ["docker", "run", "--detach", "--name", "demo-web-blue", "--network", "demo", "--init",
                    "--restart", "unless-stopped", "--env", "A=1", "--env", "PORT=3000",
                    "--publish", "127.0.0.1:80:80", "--label", "shipyard.colour=blue", "img:1"]


def test_compose_builders(config) -> None:  # type: ignore[no-untyped-def]
    env = config.environment("dev")
    assert isinstance(env, ComposeEnvironment)
    files = env.compose_files
    base = ["docker", "compose", "--file", "compose.yaml", "--file", "compose.dev.yaml"]
    assert compose.up(files, wait_timeout=120) == [*base, "up", "--detach", "--wait", "--wait-timeout", "120"]
    assert compose.up(files, "demo", services=["api"], build=True, wait=False) == [
        "docker", "compose", "--project-name", "demo", "--file", "compose.yaml", "--file", "compose.dev.yaml",
        "up", "--detach", "--build", "api"]
    assert compose.down(files, volumes=True) == [*base, "down", "--volumes", "--remove-orphans"]
    assert compose.build(files, services=["web"]) == [*base, "build", "web"]
    assert compose.ps(files) == [*base, "ps", "--all", "--format", "json"]
    assert compose.logs(files, services=["api"], tail=40) == [*base, "logs", "--no-color", "--tail", "40", "api"]
    assert compose.restart(files, services=["api"]) == [*base, "restart", "api"]
    assert compose.exec_(files, "api", ["sh"]) == [*base, "exec", "api", "sh"]
    assert compose.exec_(files, "api", ["ls"], tty=False) == [*base, "exec", "-T", "api", "ls"]
    assert compose.version() == ["docker", "compose", "version", "--short"]
    assert compose.base(files, env_file=".env") == [*base, "--env-file", ".env"]


def test_git_builders() -> None:
    assert git.head_sha() == ["git", "rev-parse", "--verify", "HEAD"]
    assert git.status_porcelain() == ["git", "status", "--porcelain", "--untracked-files=normal"]
    assert git.current_branch() == ["git", "rev-parse", "--abbrev-ref", "HEAD"]
    assert git.tags_at_head() == ["git", "tag", "--points-at", "HEAD"]
    assert git.merge_base("origin/main") == ["git", "merge-base", "origin/main", "HEAD"]
    assert git.changed_files("abc", "def") == ["git", "diff", "--name-only", "--no-renames", "abc", "def"]
    assert git.is_shallow() == ["git", "rev-parse", "--is-shallow-repository"]
    assert git.verify_ref("main") == ["git", "rev-parse", "--verify", "--quiet", "main^{commit}"]


def test_docker_build_platform_and_image_platform() -> None:
    argv = docker.build(".", "docker/api.Dockerfile", ["r/api:1"], platform="linux/amd64")
    assert argv[:6] == ["docker", "build", "--force-rm", "-f", "docker/api.Dockerfile", "--platform"]
    assert argv[6] == "linux/amd64" and argv[-1] == "."
    assert "--platform" not in docker.build(".", "Dockerfile", ["r/api:1"])
    assert docker.image_platform("r/api:1") == [
        "docker", "image", "inspect", "--format",
        "{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}", "r/api:1"]


@pytest.mark.parametrize(("built", "wanted", "mismatch"), [
    ("linux/amd64", "linux/amd64", False),
    ("linux/x86_64", "linux/amd64", False),
    ("linux/arm64/v8", "linux/arm64", False),  # no variant asked: any variant of the architecture
    ("linux/aarch64", "linux/arm64", False),
    ("linux/arm64", "linux/amd64", True),
    ("linux/amd64", "linux/arm64", True),
    ("linux/arm/v7", "linux/arm/v6", True),
    ("windows/amd64", "linux/amd64", True),
])
def test_platform_mismatch(built: str, wanted: str, mismatch: bool) -> None:
    from shipyard.facts.build import platform_mismatch

    assert platform_mismatch(built, wanted) is mismatch

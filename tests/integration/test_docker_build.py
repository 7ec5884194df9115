"""`invoke docker.build` on the real engine: SHA-tagged release images that hold no secret, and build errors
that name the failing step, file and line in one line."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_stack import Stack, copy_repo, git, layers_containing, new_canary, stack_env

from ports import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, base_images: dict[str, str]) -> Iterator[Stack]:
    root = copy_repo(tmp_path_factory.mktemp("build") / "repo")
    canary = new_canary()
    # Secrets lying around the work tree, as they do on laptops: git-ignored, and never in a build context.
    (root / ".env").write_text(f"POSTGRES_PASSWORD={canary}\n")
    (root / "apps/web/.env.local").write_text(f"API_TOKEN={canary}\n")
    (root / "apps/api/.env").write_text(f"POSTGRES_PASSWORD={canary}\n")
    (root / ".gitignore").write_text(".env\n**/.env\n**/.env.local\n")
    git(root, "add", ".gitignore")
    git(root, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "ignore secrets")
    env, ports = stack_env(base_images, canary, f"sybuild-{uuid.uuid4().hex[:6]}")
    stack = Stack(root=root, env=env, canary=canary, ports=ports)
    yield stack
    sha = git(root, "rev-parse", "HEAD").strip()[:12]
    for service in ("api", "web"):
        subprocess.run(["docker", "image", "rm", f"127.0.0.1:5000/shipyard/{service}:{sha}"], capture_output=True)


def test_release_images_are_tagged_with_the_sha_and_labelled(repo: Stack) -> None:
    sha = git(repo.root, "rev-parse", "HEAD").strip()
    proc = repo.invoke("docker.build", timeout=1800)
    for service in ("api", "web"):
        ref = f"127.0.0.1:5000/shipyard/{service}:{sha[:12]}"
        assert ref in proc.stdout
        info = json.loads(repo.docker("image", "inspect", ref))[0]["Config"]
        assert info["Labels"]["org.opencontainers.image.revision"] == sha
        assert info["Labels"]["dev.shipyard.service"] == service
        assert f"APP_VERSION={sha[:12]}" in info["Env"]  # the release tag, as on every target
        assert info["User"] == "10001:10001"
        assert info["Healthcheck"]["Test"][0] == "CMD"
    # Progress is one line per Dockerfile step, not the builders' wall of output.
    assert all(line.startswith(("  Step ", "building ", "built ", "api ", "web "))
               for line in proc.stdout.splitlines() if line.strip())


def test_no_secret_in_history_or_in_any_layer(repo: Stack, tmp_path: Path) -> None:
    sha = git(repo.root, "rev-parse", "HEAD").strip()[:12]
    for service in ("api", "web"):
        ref = f"127.0.0.1:5000/shipyard/{service}:{sha}"
        history = repo.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", ref)
        assert "GIT_SHA" in history  # the history is really there...
        assert repo.canary not in history  # ...without the secret
        assert layers_containing(ref, repo.canary.encode(), tmp_path) == []
    for text in repo.outputs:
        assert repo.canary not in text


def _break(path: Path, old: str, new: str) -> str:
    original = path.read_text()
    assert old in original
    path.write_text(original.replace(old, new, 1))
    return original


@pytest.mark.parametrize(("service", "file", "old", "new", "message"), [
    ("api", "apps/api/app/main.py", 'log = logging.getLogger("app")', 'log = logging.getLogger("app"\n',
     "SyntaxError"),
    ("web", "apps/web/app/page.tsx", 'const HEADING = "Shipyard items";',
     'const HEADING = "Shipyard items";\nconst broken: number = "not a number";', "Type error"),
])
def test_a_broken_source_file_gives_one_clear_line(repo: Stack, service: str, file: str, old: str, new: str,
                                                   message: str) -> None:
    path = repo.root / file
    original = _break(path, old, new)
    try:
        proc = repo.invoke("docker.build", "--service", service, "--allow-dirty", check=False, timeout=1800)
    finally:
        path.write_text(original)
    assert proc.returncode != 0
    error = proc.stderr.strip()
    assert len(error.splitlines()) == 1, error
    broken_line = next(i for i, line in enumerate(new.split("\n")) if line != old) + 1
    line_no = original[: original.index(old)].count("\n") + broken_line
    assert re.search(rf"build failed at step \d+/\d+ \(RUN [^)]+\): {re.escape(file)}:{line_no}: .*{message}",
                     error), error
    assert f"invoke docker.build --service {service}" in error


def test_build_args_from_shipyard_yaml_and_the_platform_check(repo: Stack) -> None:
    """build.args in shipyard.yaml stand in for the environment (the offline base images below: without them the
    build would pull public python:3.12-slim and fail here); an image of another platform than build.platform is
    refused, in one line that names both platforms."""
    config = repo.root / "shipyard.yaml"
    original = config.read_text()
    env = {k: v for k, v in repo.env.items() if k not in ("PYTHON_IMAGE", "NODE_IMAGE")}
    config.write_text(original.replace("build:  ", f"build:\n  args: {{PYTHON_IMAGE: {repo.env['PYTHON_IMAGE']}}}\n"
                                       "  # ", 1))
    try:
        built = subprocess.run(repo.invoke_argv("docker.build", "--service", "api", "--allow-dirty"), cwd=repo.root,
                               env=env, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
        assert built.returncode == 0, built.stdout[-2000:] + built.stderr
        assert "for linux/amd64" in built.stdout  # build.platform's default: what droplets run
        other = repo.invoke("docker.build", "--service", "api", "--allow-dirty", "--platform", "linux/arm64",
                            check=False, timeout=1800)
        bad = repo.invoke("docker.build", "--service", "api", "--platform", "arm64", check=False)
    finally:
        config.write_text(original)
    assert other.returncode == 1
    error = other.stderr.strip()
    # the engine refuses a base of another platform at a multi-stage FROM; a single-stage build is caught by
    # Shipyard's own check of the built image ("was built for linux/amd64, not linux/arm64"): one line either way
    assert len(error.splitlines()) == 1 and "linux/arm64" in error and "linux/amd64" in error, error
    assert bad.returncode == 1 and "--platform 'arm64' is not os/architecture" in bad.stderr


def test_the_web_release_keeps_an_idle_connection_longer_than_node_s_five_seconds(repo: Stack) -> None:
    """A proxy reuses idle connections to the app; the app must not be the one that closes them first (the
    proxy's request would meet the close: tests/integration/test_proxy_keepalive.py). Next.js's standalone server
    takes KEEP_ALIVE_TIMEOUT from the image; without it Node closes after 5 s, and the second request fails."""
    sha = git(repo.root, "rev-parse", "HEAD").strip()[:12]
    port = free_port()
    name = f"sybuild-web-{uuid.uuid4().hex[:6]}"
    repo.docker("run", "-d", "--name", name, "--publish", f"127.0.0.1:{port}:3000",
                f"127.0.0.1:5000/shipyard/web:{sha}")
    try:
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/api/health")
                assert conn.getresponse().read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                assert time.monotonic() < deadline, repo.docker("logs", name)
                time.sleep(0.5)
        time.sleep(6.5)  # idle past Node's default keep-alive timeout
        conn.auto_open = 0  # the same connection: http.client must not reconnect behind the test's back
        conn.request("GET", "/api/health")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)

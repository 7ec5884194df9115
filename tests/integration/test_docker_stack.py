"""`invoke docker.*` on the real engine: the whole reference stack from nothing, persistence, self-healing,
hot reload, and a canary secret that never reaches a log line. Tests run in order on one stack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from docker_stack import Stack, copy_repo, layers_containing, new_canary, stack_env

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, base_images: dict[str, str]) -> Iterator[Stack]:
    root = copy_repo(tmp_path_factory.mktemp("stack") / "repo")
    canary = new_canary()
    (root / ".env").write_text(f"# local secrets (git-ignored)\nPOSTGRES_PASSWORD={canary}\n")
    env, ports = stack_env(base_images, canary, f"sytest-{uuid.uuid4().hex[:6]}")
    del env["POSTGRES_PASSWORD"]  # from .env only, as a user would have it
    stack = Stack(root=root, env=env, canary=canary, ports=ports)
    try:
        yield stack
    finally:
        stack.invoke("docker.clean", "--volumes", "--yes", check=False, timeout=300)


def items_on_page(stack: Stack) -> list[str]:
    html = httpx.get(stack.url("web"), timeout=180).text  # next dev compiles the page on its first request
    return re.findall(r"<li data-item-id=\"\d+\">([^<]*)</li>", html)


def test_up_from_nothing_every_service_healthy_and_web_shows_api_data(stack: Stack) -> None:
    stack.invoke("docker.down", "--volumes", "--yes")
    proc = stack.invoke("docker.up", timeout=900)
    for service in ("api", "web", "postgres", "redis"):
        assert stack.healthy(service), service
    assert f"http://127.0.0.1:{stack.ports['web']}" in proc.stdout
    # the wait is never silent: a line each time a service's condition changes (PostgreSQL's first start alone
    # takes seconds)
    assert re.search(r"^  (api|web|postgres|redis): [a-z()0-9]+ \(\d+\.\ds\)$", proc.stdout, re.M), proc.stdout
    created = httpx.post(stack.url("api", "/api/v1/items"), json={"name": "made through the api"}, timeout=10)
    assert created.status_code == 201
    posted = httpx.post(stack.url("web", "/api/items"), data={"name": "made through the web form"}, timeout=120)
    assert posted.status_code == 303
    assert {"made through the api", "made through the web form"} <= set(items_on_page(stack))
    health = httpx.get(stack.url("api", "/api/v1/health"), timeout=10).json()
    assert health["services"] == {"database": "connected", "redis": "connected"}


def test_smoke_checks_pass_on_the_running_stack(stack: Stack) -> None:
    proc = stack.invoke("docker.smoke", timeout=300)
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("ok ") for line in lines), proc.stdout
    assert "web page lists the new item" in proc.stdout


def test_smoke_fails_with_one_line_when_nothing_answers(stack: Stack) -> None:
    proc = stack.invoke("docker.smoke", "--api-url", "http://127.0.0.1:1", "--web-url", "http://127.0.0.1:1",
                        check=False, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: smoke failed: api liveness, api readiness")
    assert "Traceback" not in proc.stderr


def test_data_survives_down_and_up(stack: Stack) -> None:
    views = httpx.get(stack.url("api", "/api/v1/items"), timeout=10).json()["views"]
    stack.invoke("docker.down")
    assert stack.docker("ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={stack.project}") == ""
    stack.invoke("docker.up", timeout=600)
    body = httpx.get(stack.url("api", "/api/v1/items"), timeout=10).json()
    assert {"made through the api", "made through the web form"} <= {i["name"] for i in body["items"]}
    assert body["views"] == views + 1  # the Redis counter persisted too (appendonly volume)


def test_data_survives_api_restart(stack: Stack) -> None:
    before = stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("api"))
    stack.invoke("docker.restart", "--service", "api", timeout=300)
    assert stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("api")) != before
    assert "made through the api" in items_on_page(stack)


def test_killed_api_container_comes_back_by_itself(stack: Stack) -> None:
    name = stack.container("api")
    restarts = int(stack.docker("inspect", "--format", "{{.RestartCount}}", name))
    pid = int(stack.docker("inspect", "--format", "{{.State.Pid}}", name))
    os.kill(pid, signal.SIGKILL)  # the container's init dies: an unexpected exit, as after an OOM kill
    stack.wait_for(lambda: int(stack.docker("inspect", "--format", "{{.RestartCount}}", name)) > restarts,
                   60, "docker restarts the killed api")
    stack.wait_for(lambda: stack.healthy("api"), 120, "the restarted api is healthy")
    assert httpx.get(stack.url("api", "/api/v1/items"), timeout=10).status_code == 200


def test_hot_reload_of_a_web_source_file(stack: Stack) -> None:
    page = stack.root / "apps/web/app/page.tsx"
    original = page.read_text()
    marker = f"Items {uuid.uuid4().hex[:8]}"
    started = stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("web"))
    try:
        page.write_text(original.replace('const HEADING = "Shipyard items";', f'const HEADING = "{marker}";'))
        stack.wait_for(lambda: marker in httpx.get(stack.url("web"), timeout=60).text, 90, "web serves the edit")
    finally:
        page.write_text(original)
    assert stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("web")) == started


def test_hot_reload_of_an_api_source_file(stack: Stack) -> None:
    meta = stack.root / "apps/api/app/meta.py"
    original = meta.read_text()
    name = f"shipyard-api-{uuid.uuid4().hex[:8]}"
    started = stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("api"))
    try:
        meta.write_text(original.replace('SERVICE_NAME = "shipyard-api"', f'SERVICE_NAME = "{name}"'))
        stack.wait_for(lambda: httpx.get(stack.url("api", "/health"), timeout=5).json()["service"] == name,
                       60, "the api reloads the edit")
    finally:
        meta.write_text(original)
    assert stack.docker("inspect", "--format", "{{.State.StartedAt}}", stack.container("api")) == started


def test_status_and_logs_tasks(stack: Stack) -> None:
    ps = stack.invoke("docker.ps").stdout
    assert all(service in ps for service in ("api", "web", "postgres", "redis"))
    logs = stack.invoke("docker.logs", "--service", "api", "--tail", "50").stdout
    assert '"logger": "app.access"' in logs or '"logger": "uvicorn.error"' in logs


def test_init_never_writes_a_new_password_next_to_the_data_volume(stack: Stack, tmp_path: Path) -> None:
    env_file = stack.root / ".env"
    saved = env_file.read_bytes()
    env = {k: v for k, v in stack.env.items() if k != "POSTGRES_PASSWORD"}
    try:
        env_file.unlink()  # a user deleted .env, or this is a second checkout with the same project name
        for args in ((), ("--force",)):
            if args:
                env_file.write_bytes(saved)
            proc = subprocess.run(stack.invoke_argv("docker.init", *args), cwd=stack.root, env=env,
                                  capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            assert proc.returncode == 1, proc.stdout + proc.stderr
            error = proc.stderr.strip()
            assert len(error.splitlines()) == 1 and f"{stack.project}_pgdata" in error, error
            assert "nothing written" in error and "invoke docker.down --volumes" in error
            assert env_file.exists() == bool(args)
            assert not args or env_file.read_bytes() == saved
    finally:
        env_file.write_bytes(saved)


def test_up_with_another_password_than_the_volume_says_so(stack: Stack) -> None:
    wrong = {**stack.env, "POSTGRES_PASSWORD": "not-the-volumes-password"}  # pragma: allowlist secret
    proc = subprocess.run(stack.invoke_argv("docker.up", "--timeout", "20"), cwd=stack.root, env=wrong,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    stack.outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 1
    error = proc.stderr.strip()
    assert len(error.splitlines()) == 1
    assert "the database refused the password in .env" in error and "invoke docker.down --volumes" in error
    stack.invoke("docker.up", timeout=300)  # the right password again: healthy, and the data is still there
    assert stack.healthy("api")


def test_down_with_volumes_refuses_without_confirmation(stack: Stack) -> None:
    proc = stack.invoke("docker.down", "--volumes", check=False)
    assert proc.returncode != 0
    assert "add --yes" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert stack.healthy("api")  # nothing was stopped


def test_canary_secret_is_absent_from_every_log_line(stack: Stack) -> None:
    # Make the api log as much as it can: a few requests, and a restart (startup and shutdown lines).
    for _ in range(3):
        httpx.get(stack.url("api", "/api/v1/items"), timeout=10)
    stack.invoke("docker.restart", "--service", "api", timeout=300)
    compose_logs = stack.invoke("docker.logs", "--tail", "100000").stdout
    assert compose_logs.count("\n") > 20
    raw = subprocess.run(["docker", "compose", "logs", "--no-color"], cwd=stack.root, env=stack.env,
                         capture_output=True, text=True, timeout=120)
    assert raw.returncode == 0 and raw.stdout
    for text in (compose_logs, raw.stdout, raw.stderr, *stack.outputs):
        assert stack.canary not in text
    # ...while the containers did use it: the database accepted the api's password.
    assert httpx.get(stack.url("api", "/ready"), timeout=10).status_code == 200


def test_dev_images_hold_no_secret(stack: Stack, tmp_path: Path) -> None:
    for service in ("api", "web"):
        image = f"{stack.project}-{service}"
        history = stack.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
        assert stack.canary not in history
        assert layers_containing(image, stack.canary.encode(), tmp_path) == []


def test_a_service_that_cannot_start_fails_up_with_its_last_log_lines(stack: Stack) -> None:
    broken = {**stack.env, "LOG_LEVEL": "bogus"}  # the api refuses to start: logging cannot be configured
    proc = subprocess.run(stack.invoke_argv("docker.up", "--timeout", "25"), cwd=stack.root, env=broken,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    stack.outputs += [proc.stdout, proc.stderr]
    assert proc.returncode != 0
    assert "--- api:" in proc.stdout
    assert "bogus" in proc.stdout.lower()  # the api's own error, from its last log lines
    assert stack.canary not in proc.stdout + proc.stderr
    error = proc.stderr.strip()
    assert len(error.splitlines()) == 1
    assert error.startswith("error: not healthy: api") and "invoke docker.logs api" in error

"""Real PostgreSQL and Redis servers on loopback for the API's tests (Debian packages; no containers)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
PASSWORD = "test-only-pg-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, str]]:
    if not PG_BIN:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    bin_dir = PG_BIN[-1]
    data = Path(tempfile.mkdtemp(prefix="api-tests-pg-"))  # outside pytest's 0700 tree: postgres must enter it
    pwfile = data / "pwfile"
    pwfile.write_text(PASSWORD)
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        shutil.chown(pwfile, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "app", "-A", "scram-sha-256",
                    f"--pwfile={pwfile}"], check=True, capture_output=True)
    proc = subprocess.Popen([*as_user, str(bin_dir / "postgres"), "-D", str(data / "db"), "-p", str(port),
                             "-k", str(data), "-c", "listen_addresses=127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "app", "items"],
                       check=True, env={**os.environ, "PGPASSWORD": PASSWORD}, capture_output=True)
        yield {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(port), "POSTGRES_USER": "app",
               "POSTGRES_PASSWORD": PASSWORD, "POSTGRES_DB": "items"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture()
def environ(postgres: dict[str, str], redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {**postgres, "REDIS_URL": redis_url, "APP_VERSION": "0123456789ab", "STARTUP_WAIT": "5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env

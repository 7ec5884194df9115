"""The test bed itself, against the real engine, registry, images and sshd it installs."""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from ports import free_port
from shipyard.errors import ShipyardError
from shipyard.run import LocalRunner, SSHRunner, UnknownHostKey

pytestmark = pytest.mark.docker

RUN = LocalRunner(echo=lambda _line: None)
CANARY = "canary-pg-" + uuid.uuid4().hex[:12]


def docker(*args: str, check: bool = True, timeout: float = 120):
    return RUN.run(["docker", *args], check=check, timeout=timeout)


@pytest.fixture
def container():
    """Start throwaway containers; all are removed (with their volumes) after the test."""
    names: list[str] = []

    def start(image: str, *args: str, env: dict[str, str] | None = None) -> str:
        name = f"pytest-tb-{uuid.uuid4().hex[:8]}"
        names.append(name)
        env_args = [a for k, v in (env or {}).items() for a in ("--env", f"{k}={v}")]
        docker("run", "--detach", "--name", name, *env_args, *args, image)
        return name

    yield start
    for name in names:
        docker("rm", "--force", "--volumes", name, check=False)


def wait_until(probe, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.registry
def test_registry_push_pull_and_delete_a_tag(registry, base_images):
    from shipyard.testbed.registry import delete_tag, tags

    repo = f"pytest/testbed-{uuid.uuid4().hex[:8]}"
    ref = f"{registry}/{repo}:t1"
    docker("tag", base_images["debian"], ref)
    try:
        docker("push", ref)
        assert tags(registry, repo) == ["t1"]
        docker("image", "rm", ref)
        docker("pull", ref)
        digest = delete_tag(registry, repo, "t1")
        assert digest.startswith("sha256:")
        assert tags(registry, repo) == []
        docker("image", "rm", ref)
        pulled = docker("pull", ref, check=False)
        assert not pulled.ok and "not found" in (pulled.stderr + pulled.stdout).lower()
    finally:
        docker("image", "rm", ref, check=False)


def test_registry_listens_on_loopback_only(registry):
    from shipyard.testbed.settings import Settings

    config = Settings().registry_config.read_text()
    assert "addr: 127.0.0.1:5000" in config and "enabled: true" in config
    listeners = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = {line.split()[1] for line in listeners if line.split()[3] == "0A"}  # 0A = LISTEN
    assert "0100007F:1388" in local  # 127.0.0.1:5000
    assert "00000000:1388" not in local  # not 0.0.0.0:5000


def _pem_bodies(text: str) -> set[str]:
    bodies, current = set(), None
    for line in text.splitlines():
        if line.startswith("-----BEGIN CERTIFICATE"):
            current = []
        elif line.startswith("-----END CERTIFICATE") and current is not None:
            bodies.add("".join(current))
            current = None
        elif current is not None:
            current.append(line.strip())
    return bodies


@pytest.mark.parametrize("key", ["debian", "python", "node", "postgres", "redis", "haproxy", "vm"])
def test_base_images_trust_the_hosts_extra_ca_certificates(base_images, key):
    from shipyard.testbed.settings import Settings

    ca_files = Settings().ca_files()
    if not ca_files:
        pytest.skip("this machine has no extra CA certificates under /usr/local/share/ca-certificates")
    bundle = docker("run", "--rm", "--entrypoint", "cat", base_images[key], "/etc/ssl/certs/ca-certificates.crt")
    trusted = _pem_bodies(bundle.stdout)
    for path in ca_files:
        assert _pem_bodies(path.read_text()) <= trusted, f"{path.name} is not trusted in {base_images[key]}"


@pytest.mark.slow
def test_python_image_runs_pip_through_the_proxy_ca(base_images):
    script = ("set -e; python --version; python3 -m venv /tmp/v; /tmp/v/bin/pip --version;"
              " pip download --no-deps --quiet --dest /tmp/d six; ls /tmp/d")
    out = docker("run", "--rm", base_images["python"], "sh", "-c", script, timeout=300).stdout
    assert "Python 3.11" in out and "six-" in out and ".whl" in out


@pytest.mark.slow
def test_node_image_reaches_npm_through_the_proxy_ca(base_images):
    out = docker("run", "--rm", "--user", "node", base_images["node"], "sh", "-c",
                 "node --version && npm view left-pad version", timeout=300).stdout.split()
    assert out[0].startswith("v18.") and out[1] == "1.3.0"


def test_postgres_stand_in_honours_the_official_environment(base_images, container):
    name = container(base_images["postgres"],
                     env={"POSTGRES_PASSWORD": CANARY, "POSTGRES_USER": "app", "POSTGRES_DB": "appdb"})
    wait_until(lambda: docker("exec", name, "pg_isready", "-h", "127.0.0.1", check=False).ok, what="pg_isready")
    # Connect over the network from another container, as an app would (loopback inside is trusted, as upstream).
    address = docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", name).stdout.strip()

    def psql(password: str):
        return docker("run", "--rm", "--env", f"PGPASSWORD={password}", base_images["postgres"], "psql",
                      "-h", address, "-U", "app", "-d", "appdb", "-tAc",
                      "select current_user||'@'||current_database()", check=False)

    assert psql(CANARY).stdout.strip() == "app@appdb"
    wrong = psql("wrong-password")
    assert not wrong.ok and "password authentication failed" in wrong.stderr
    who = docker("exec", name, "sh", "-c", "stat -c %U /proc/1 && cat /proc/1/comm").stdout.split()
    assert who == ["postgres", "postgres"]
    data = docker("exec", name, "sh", "-c", "echo $PGDATA && test -s $PGDATA/PG_VERSION && echo ok").stdout.split()
    assert data == ["/var/lib/postgresql/data", "ok"]
    docker("stop", "--time", "20", name)
    state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
    assert state["ExitCode"] == 0  # shut down cleanly on the stop signal, not killed
    logs = docker("logs", name)
    assert CANARY not in logs.stdout + logs.stderr


def test_postgres_stand_in_refuses_to_start_without_a_password(base_images):
    result = docker("run", "--rm", base_images["postgres"], check=False)
    assert result.exit_code == 1 and "POSTGRES_PASSWORD is not set" in result.stderr


def test_redis_stand_in_answers_ping_and_stops_cleanly(base_images, container):
    name = container(base_images["redis"])
    wait_until(lambda: docker("exec", name, "redis-cli", "ping", check=False).stdout.strip() == "PONG",
               what="redis PONG")
    assert docker("exec", name, "stat", "-c", "%U", "/proc/1").stdout.strip() == "redis"
    docker("stop", "--time", "20", name)
    assert docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"


def test_haproxy_stand_in_serves_its_config_in_the_foreground(base_images, container):
    port = free_port()
    name = container(base_images["haproxy"], "--publish", f"127.0.0.1:{port}:8404")
    import httpx

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).text == "ok\n"
        except httpx.HTTPError:
            return False

    wait_until(healthy, what="haproxy /healthz")
    info = docker("exec", name, "sh", "-c",
                  "echo 'show info' | socat stdio unix-connect:/run/haproxy/admin.sock | grep ^Version:").stdout
    assert info.startswith("Version: 2.6")
    assert docker("exec", name, "stat", "-c", "%U", "/proc/1").stdout.strip() == "haproxy"


@pytest.mark.ssh
def test_vm_is_reachable_over_real_ssh_with_a_pinned_host_key(ssh_host):
    runner = ssh_host.runner()
    try:
        result = runner.run(["cat", "/etc/hostname"])
        assert result.stdout.strip() == ssh_host.name
        assert runner.run(["id", "-un"]).stdout.strip() == ssh_host.user == "root"
    finally:
        runner.close()
    line = ssh_host.known_hosts.read_text()
    assert line.startswith(f"[127.0.0.1]:{ssh_host.port} ssh-ed25519 ")
    assert ssh_host.host_key.split()[1] in line


@pytest.mark.ssh
def test_vm_with_unknown_or_wrong_host_key_is_refused(ssh_host, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    stranger = SSHRunner(ssh_host.address, port=ssh_host.port, key=str(ssh_host.key), known_hosts=str(empty))
    with pytest.raises(UnknownHostKey):
        stranger.run(["true"])
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{ssh_host.port} ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIFkA6Fjf1bEwB2tbpY5M8B0MQcAl4U1RWU4qRfa1nMxq\n")
    impostor = SSHRunner(ssh_host.address, port=ssh_host.port, key=str(ssh_host.key), known_hosts=str(wrong))
    with pytest.raises(ShipyardError, match="does NOT match"):
        impostor.run(["true"])


@pytest.mark.ssh
def test_openssh_client_connects_with_strict_host_key_checking(ssh_host, ssh_client):
    result = RUN.run([*ssh_host.ssh_argv(), "-o", "BatchMode=yes", "echo", "hello"], timeout=30)
    assert result.stdout.strip() == "hello"


@pytest.mark.ssh
@pytest.mark.slow
def test_vm_runs_its_own_docker_engine_on_demand(vm_factory, base_images):
    machine = vm_factory(docker=True)
    runner = machine.runner()
    try:
        assert runner.run(["docker", "info", "--format", "{{.Driver}}"]).stdout.strip() == "overlay2"
        pipe = f"docker save {base_images['debian']} | docker exec -i {machine.name} docker load"
        loaded = RUN.run(["sh", "-c", pipe], timeout=300)
        assert base_images["debian"] in loaded.stdout
        out = runner.run(["docker", "run", "--rm", base_images["debian"], "echo", "nested-ok"], timeout=120)
        assert out.stdout.strip() == "nested-ok"
    finally:
        runner.close()


def test_second_up_changes_nothing(docker_engine):
    from shipyard.testbed import bed

    lines: list[str] = []
    report = bed.up(printer=lines.append)
    assert report.changed == [], "\n".join(lines)
    assert all(r.state == "already in place" for r in report.results)
    assert {"docker engine", "compose plugin", "registry", "root image", "image vm"} <= {r.name for r in report.results}


def test_dry_run_prints_commands_and_changes_nothing(docker_engine, tmp_path):
    from dataclasses import replace

    from shipyard.testbed import bed
    from shipyard.testbed.settings import Settings

    dirs = {k: tmp_path / k for k in ("state", "cache", "log", "run")}
    settings = replace(Settings(), state_dir=dirs["state"], cache_dir=dirs["cache"], log_dir=dirs["log"],
                       run_dir=dirs["run"], ca_dir=None, registry_addr="127.0.0.1:5999")
    lines: list[str] = []
    report = bed.up(settings, dry_run=True, printer=lines.append)
    text = "\n".join(lines)
    assert f"start-stop-daemon --start --background --make-pidfile --pidfile {dirs['run']}/registry.pid" in text
    assert f"serve {dirs['state']}/registry/config.yml" in text
    assert f"would write {dirs['state']}/registry/config.yml" in text
    assert any(r.name == "registry" and r.state == "would change" for r in report.results)
    assert list(tmp_path.iterdir()) == []  # nothing created
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", 5999)) != 0  # no registry was started


def test_task_dry_run_through_invoke(docker_engine):
    import sys

    invoke = str(Path(sys.executable).parent / "invoke")
    result = RUN.run([invoke, "testbed.up", "--dry-run"], timeout=120)
    assert "test bed: 0 step(s) would change, 12 already in place" in result.stdout
    status = RUN.run([invoke, "testbed.status"], timeout=60).stdout
    assert "registry        127.0.0.1:5000" in status and "shipyard-testbed/vm:bookworm" in status


@pytest.mark.registry
def test_a_second_registry_starts_collects_garbage_and_stops(registry, base_images, tmp_path):
    """ensure/stop/garbage_collect on a registry of its own (the shared one on :5000 is never interrupted)."""
    from dataclasses import replace

    from shipyard.testbed import registry as reg
    from shipyard.testbed.host import Host
    from shipyard.testbed.settings import Settings

    addr = f"127.0.0.1:{free_port()}"
    settings = replace(Settings(), state_dir=tmp_path / "state", run_dir=tmp_path / "run", log_dir=tmp_path / "log",
                       registry_addr=addr)
    host = Host.create(settings, printer=lambda _line: None)
    changed, detail = reg.ensure_registry(host)
    try:
        assert changed and detail.endswith(f"started on {addr}")
        assert reg.ensure_registry(host) == (False, f"registry answering on {addr} (deletes enabled)")
        ref = f"{addr}/pytest/gc:t1"
        docker("tag", base_images["debian"], ref)
        docker("push", ref)
        docker("image", "rm", ref)
        blobs = settings.registry_storage / "docker/registry/v2/blobs"
        before = sum(1 for p in blobs.rglob("data"))
        reg.delete_tag(addr, "pytest/gc", "t1")
        reg.garbage_collect(host)
        assert reg.answering(addr)
        after = sum(1 for p in blobs.rglob("data"))
        assert before >= 2 and after == 0, (before, after)
    finally:
        assert reg.stop_registry(host) == (True, "stopped the registry")
    assert not reg.answering(addr)
    assert not settings.registry_pidfile.exists()

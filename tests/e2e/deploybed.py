"""The deploy end-to-end bed (fixtures registered in conftest.py): a throwaway project, fixture images A, B,
broken B' and flaky W in the real registry, one sandbox VM (sshd + its own dockerd) set up by `deploy.setup`,
the real CLI, and testinfra over the same SSH.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ports import free_port

FIXTURE = Path(__file__).parent / "fixtures" / "app"
PROJECT = "shipyard-e2e"
REGISTRY = "127.0.0.1:5000"
NAMESPACE = "e2e"
# SHA-like release tags: A and B are healthy, BROKEN never becomes ready, FLAKY fails inside the watch window,
# LEAKY stays ready but fails a third of its real requests.
A, B, BROKEN, FLAKY, C = "aaaa1111aaaa", "bbbb2222bbbb", "badb3333badb", "fa11444fa114", "cccc7777cccc"
LEAKY = "1eaf5555eeee"
MODES = {A: "ok", B: "ok", BROKEN: "broken", FLAKY: "fail-after:5", C: "ok", LEAKY: "fail-every:3"}
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
DEPLOY_USER = "deploy"  # as on a droplet: the sandbox VM ran the droplets' host-setup.sh; root cannot log in

CANARY = "canary-e2e-5f3a9c1d7e"  # a secret value: must reach the container and never any output
CONFIG = f"""project: {PROJECT}
registry: {{address: {REGISTRY}, namespace: {NAMESPACE}, retain: 5}}
services:
  app:
    context: app
    dockerfile: app/Dockerfile
    port: 8000
    health: {{liveness: /health, readiness: /ready}}
    public: true
    env: {{LOG_LEVEL: info}}
    secrets: [APP_TOKEN]
secrets:
  APP_TOKEN: {{env: SHIPYARD_E2E_APP_TOKEN}}
"""
ENV = {**os.environ, "COLUMNS": "200", "SHIPYARD_E2E_APP_TOKEN": CANARY}


def image(tag: str) -> str:
    return f"{REGISTRY}/{NAMESPACE}/app:{tag}"


@dataclass
class Bed:
    root: Path
    vm: Any  # shipyard.sandbox.vms.SandboxVm
    state: Any  # SandboxState
    dead_port: int

    @property
    def http_port(self) -> int:
        return int(self.vm.http_port)

    def shipyard(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SHIPYARD, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              env=ENV)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([SHIPYARD, *args], cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=ENV)


@pytest.fixture(scope="session")
def fixture_images(docker_engine: Any, registry: str, base_images: dict[str, str]) -> dict[str, str]:
    """Build and push the four fixture releases (cached layers: a second run takes seconds)."""
    for tag, mode in MODES.items():
        subprocess.run(["docker", "build", "--force-rm", "-q", "--build-arg", f"BASE_IMAGE={base_images['python']}",
                        "--build-arg", f"FIXTURE_MODE={mode}", "--label", f"org.shipyard.fixture={tag}",
                        "-t", image(tag), str(FIXTURE)],
                       check=True, capture_output=True, timeout=600)
        subprocess.run(["docker", "push", image(tag)], check=True, capture_output=True, timeout=600)
    return {tag: image(tag) for tag in MODES}


@pytest.fixture(scope="session")
def bed(tmp_path_factory: pytest.TempPathFactory, fixture_images: dict[str, str]) -> Iterator[Bed]:
    from shipyard.sandbox import vms

    root = tmp_path_factory.mktemp("e2e-project")
    (root / "shipyard.yaml").write_text(CONFIG)
    shutil.copytree(FIXTURE, root / "app")
    state = vms.up(root, PROJECT, 1, printer=lambda _line: None, health_timeout=20, watch_window=6)
    vm = state.vms[0]
    dead = free_port()
    # Two more environments over the same VM plus a host that refuses connections (nothing listens there).
    pair = {"target": "vm", "hosts": [{"address": "127.0.0.1", "port": vm.ssh_port, "name": vm.name},
                                      {"address": "127.0.0.1", "port": dead, "name": "dead-host"}],
            "ssh": {"user": DEPLOY_USER, "key": state.key, "known_hosts": state.known_hosts, "connect_timeout": 3},
            "proxy": {"image": vms.PROXY_IMAGE, "http_port": 80},
            "overrides": {"registry": {"address": REGISTRY, "insecure": True}}}
    envs: dict[str, Any] = {
        f"pair-{policy}": {**pair, "deploy": {"health_timeout": 20, "watch_window": 2, "on_host_failure": policy}}
        for policy in ("abort", "continue")}
    for policy in ("standby", "stop"):  # the previous colour kept after the watch window (deploy.previous_colour)
        envs[f"keep-{policy}"] = {**pair, "hosts": pair["hosts"][:1],
                                  "deploy": {"health_timeout": 20, "watch_window": 1, "previous_colour": policy}}
    envs["retain2"] = {**pair, "hosts": pair["hosts"][:1],
                       "overrides": {"registry": {"address": REGISTRY, "insecure": True, "retain": 2}}}
    (root / "shipyard.yaml").write_text(CONFIG + "environments: " + json.dumps(envs) + "\n")
    bed = Bed(root, vm, state, dead)
    setup = bed.shipyard("deploy.setup", "--env", "sandbox")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    yield bed
    vms.down(root, PROJECT, printer=lambda _line: None)


@pytest.fixture(scope="session")
def host(bed: Bed) -> Any:
    """A testinfra host over the same SSH, as the deploy user: the test bed's key, the pinned known_hosts."""
    import testinfra

    ssh_config = bed.root / ".shipyard" / "testinfra_ssh_config"
    ssh_config.write_text(f"Host 127.0.0.1\n  User {DEPLOY_USER}\n  Port {bed.vm.ssh_port}\n"
                          f"  IdentityFile {bed.state.key}\n  IdentitiesOnly yes\n"
                          f"  UserKnownHostsFile {bed.state.known_hosts}\n"
                          "  StrictHostKeyChecking yes\n  BatchMode yes\n")
    return testinfra.get_host("ssh://127.0.0.1", ssh_config=str(ssh_config))


class HostState:
    """What is true on the VM, read with testinfra: containers, proxy servers, ledger, lock."""

    STATE = f"/var/lib/shipyard/{PROJECT}"

    def __init__(self, host: Any) -> None:
        self.host = host

    def containers(self) -> dict[str, tuple[str, str]]:
        """name -> (state, release) of the project's app containers."""
        out = self.host.check_output(
            f"docker ps --all --filter label=shipyard.project={PROJECT} --filter label=shipyard.role=app "
            "--format '{{.Names}} {{.State}} {{.Label \"shipyard.release\"}}'")
        return {n: (s, r) for n, s, r in (line.split() for line in out.splitlines() if line.strip())}

    def servers(self) -> dict[str, tuple[str, bool]]:
        from shipyard.commands.programs import program
        from shipyard.facts.proxy import parse_servers_state

        cmd = (f"echo 'show servers state app' | python3 -I -S -c {shlex.quote(program('haproxy_admin.py'))} "
               f"{self.STATE}/proxy/run/admin.sock")
        states = parse_servers_state(self.host.check_output(cmd))
        return {srv: (st.admin, st.op_running) for (_, srv), st in states.items()}

    def ledger(self) -> list[dict[str, Any]]:
        ledger = self.host.file(f"{self.STATE}/ledger.jsonl")
        return [json.loads(line) for line in ledger.content_string.splitlines()] if ledger.exists else []

    def lock_free(self) -> bool:
        return not self.host.file(f"{self.STATE}/lock.json").exists

    def config_live(self) -> dict[str, Any]:
        from shipyard.facts.proxy import parse_config_live

        return parse_config_live(self.host.file(f"{self.STATE}/proxy/conf/haproxy.cfg").content_string)

    def shape_problems(self) -> list[str]:
        """How this host differs from a droplet prepared by host-setup.sh and set up by `deploy.setup` ([] if not):
        the SSH user is `deploy` (not root) in the groups docker and shipyard; Shipyard's directories are
        deploy:shipyard with their setgid modes and nothing for others; the admin socket is group shipyard, 660."""
        from shipyard.commands.layout import HostLayout

        user, problems = self.host.user(), []
        if user.name != DEPLOY_USER or user.uid == 0 or not {"docker", "shipyard"} <= set(user.groups):
            problems.append(f"connected as {user.name} (uid {user.uid}, groups {user.groups})")
        layout = HostLayout(PROJECT)
        expected = [(layout.root, 0o2750), *((path, int(mode, 8)) for path, mode in layout.directory_modes)]
        for path, mode in expected:
            f = self.host.file(path)
            if not f.is_directory or (f.user, f.group, f.mode) != (DEPLOY_USER, "shipyard", mode):
                problems.append(f"{path}: {f.user}:{f.group} {oct(f.mode) if f.exists else 'missing'}, "
                                f"not {DEPLOY_USER}:shipyard {oct(mode)}")
            elif f.mode & 0o007:
                problems.append(f"{path}: others may use it ({oct(f.mode)})")
        sock = self.host.file(layout.admin_socket)
        if not sock.is_socket or (sock.group, sock.mode) != ("shipyard", 0o660):
            problems.append(f"{layout.admin_socket}: group {sock.group}, mode {oct(sock.mode)}, not shipyard 0o660")
        config = self.host.file(layout.proxy_config)
        if config.group != "shipyard" or config.mode & 0o002:
            problems.append(f"{layout.proxy_config}: group {config.group}, mode {oct(config.mode)}")
        return problems

    def assert_serving(self, release: str) -> None:
        """Exactly one app container, running `release`, READY and UP in the proxy and recorded in the config."""
        containers = self.containers()
        live = [name for name, (state, rel) in containers.items() if state == "running" and rel == release]
        assert len(containers) == 1 and len(live) == 1, containers
        colour = live[0].rsplit("-", 1)[1]
        servers = self.servers()
        assert servers[colour] == ("ready", True), servers
        other = "green" if colour == "blue" else "blue"
        assert servers[other][0] == "maint", servers
        assert self.config_live() == {"app": colour}
        assert self.lock_free()


@pytest.fixture
def state(host: Any) -> HostState:
    return HostState(host)

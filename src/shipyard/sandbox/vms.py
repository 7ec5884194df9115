"""The sandbox: N local "droplets" (sshd + their own Docker engine, reachable only on 127.0.0.1) and a registry.

Built on the test bed (shipyard.testbed): its VM image, its SSH key and pinned host keys, its registry on
127.0.0.1:5000. VMs pull from that registry through an SSH reverse tunnel that each deploy opens (`run.tunnel`,
bound to loopback on both sides), exactly as a small team would deploy from a laptop
registry to real droplets; so the sandbox rehearses the same code path. Each VM's proxy port 80 is
published on a free 127.0.0.1 port of this machine for load tests and curl. Each VM is shaped by the droplets'
own host-setup.sh (sandbox/hostsetup.py): deploys connect as `deploy`, and root cannot log in over SSH.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from shipyard import imageref
from shipyard.commands import docker as docker_cmd
from shipyard.commands import testbed as testbed_cmd
from shipyard.errors import ShipyardError
from shipyard.sandbox import hostsetup, tls
from shipyard.sandbox import registry as sandbox_registry
from shipyard.sandbox.overlay import env_file, state_file

PROXY_IMAGE_LOCAL = "shipyard-base/haproxy:bookworm"
REGISTRY = "127.0.0.1:5000"
PROXY_IMAGE = f"{REGISTRY}/{PROXY_IMAGE_LOCAL}"
MAX_HOSTS = 8


#: Official images that the test bed has offline stand-ins for (same environment contract), as the sandbox's
#: VMs pull them: from the sandbox registry.
STAND_INS = {"postgres": f"{REGISTRY}/shipyard-base/postgres:bookworm",
             "redis": f"{REGISTRY}/shipyard-base/redis:bookworm"}


@dataclass(frozen=True)
class SandboxVm:
    name: str
    ssh_port: int
    http_port: int  # the VM's proxy, published on 127.0.0.1 of this machine
    private_address: str | None = None  # where the other VMs reach it (the container's bridge address)
    https_port: int | None = None  # the VM's proxy over HTTPS (the sandbox CA's certificate), on 127.0.0.1


def stand_in(image: str, registry: str = REGISTRY) -> str:
    """The sandbox's image for an accessory: the test bed's stand-in for an official postgres/redis image."""
    found = STAND_INS.get(imageref.name_of(image))
    return image if found is None else registry + found.removeprefix(REGISTRY)


def sandbox_accessories(accessories: dict[str, Any], registry: str = REGISTRY) -> dict[str, Any]:
    """An environment's accessories (as mappings), with stand-in images, for the sandbox environment."""
    return {name: {**spec, "image": stand_in(str(spec["image"]), registry)} for name, spec in accessories.items()}


@dataclass(frozen=True)
class SandboxState:
    project: str
    vms: list[SandboxVm]
    key: str
    known_hosts: str
    created: str
    accessories: dict[str, Any] | None = None  # copied from a shipyard.yaml environment, stand-in images
    #: the private registry (TLS + htpasswd, sandbox/registry.py) the VMs pull from; None: the anonymous one
    registry: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def load(cls, root: Path) -> SandboxState | None:
        path = state_file(root)
        if not path.is_file():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(project=raw["project"], vms=[SandboxVm(**vm) for vm in raw["vms"]], key=raw["key"],
                   known_hosts=raw["known_hosts"], created=raw["created"], accessories=raw.get("accessories"),
                   registry=raw.get("registry"))


def vm_name(project: str, index: int) -> str:
    return f"{project}-sandbox-{index}"


def environment(state: SandboxState, *, health_timeout: float = 60, watch_window: float = 5) -> dict[str, Any]:
    """The generated `sandbox` environment (a VmEnvironment mapping)."""
    env: dict[str, Any] = {
        "target": "vm",
        "hosts": [{"address": "127.0.0.1", "port": vm.ssh_port, "name": vm.name,
                   **({"private_address": vm.private_address} if vm.private_address else {})} for vm in state.vms],
        # the droplets' user: host-setup.sh made it (docker group, the state directory) and forbade root logins
        "ssh": {"user": hostsetup.USER, "key": state.key, "known_hosts": state.known_hosts},
        "proxy": {"kind": "haproxy", "image": proxy_image(state.registry), "http_port": 80, "bind": "0.0.0.0",  # noqa: S104
                  # HTTPS as on a droplet with its own certificate; plain HTTP still answers (no redirect), so
                  # load tests and the fixture checks can use either
                  "tls": {"certificate": tls.CERT_SECRET, "key": tls.KEY_SECRET, "https_port": 443,
                          "redirect": False, "hsts": True}},
        "deploy": {"strategy": "parallel", "health_timeout": health_timeout, "watch_window": watch_window,
                   "on_host_failure": "abort"},
        "overrides": {"registry": registry_override(state)},
    }
    if state.accessories:
        env["accessories"] = state.accessories
    return env


def proxy_image(registry: str | None) -> str:
    return f"{registry}/{PROXY_IMAGE_LOCAL}" if registry else PROXY_IMAGE


def registry_override(state: SandboxState) -> dict[str, Any]:
    """The anonymous test bed registry, or the private one with its credentials by reference and its CA."""
    if state.registry is None:
        return {"address": REGISTRY, "insecure": True}
    from shipyard.sandbox import registry as private

    return {"address": state.registry, "username": private.USER, "password": private.PASSWORD_SECRET,
            "ca": str(tls.folder(state.project) / "ca.pem")}


def write_environment(root: Path, state: SandboxState, **policy: float) -> Path:
    directory = state_file(root).parent
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# generated state (sandbox hosts, keys' paths): never committed\n*\n", encoding="utf-8")
    header = (f"# Generated by `invoke sandbox.up` at {state.created}; `invoke sandbox.down` removes it.\n"
              "# The `sandbox` environment: every deploy task accepts --env sandbox. Do not edit.\n")
    env_file(root).write_text(header + yaml.safe_dump(environment(state, **policy), sort_keys=False),
                              encoding="utf-8")
    state_file(root).write_text(state.to_json() + "\n", encoding="utf-8")
    return env_file(root)


def up(root: Path, project: str, hosts: int, *, printer: Callable[[str], None] = print,
       health_timeout: float = 60, watch_window: float = 5,
       accessories: dict[str, Any] | None = None, private_registry: bool = False) -> SandboxState:
    """Start (or reuse) `hosts` VMs, remove extra ones, push the proxy image, write the sandbox environment.

    `private_registry`: the VMs pull from the sandbox's own registry (TLS with the sandbox CA, htpasswd; see
    sandbox/registry.py), logged in like droplets pulling from DOCR; else from the test bed's anonymous one."""
    from shipyard.testbed import bed, vm
    from shipyard.testbed.registry import answering

    if not 1 <= hosts <= MAX_HOSTS:
        raise ShipyardError(f"--hosts {hosts}: the sandbox runs 1 to {MAX_HOSTS} VMs on this machine")
    bed.up(only=["haproxy", "vm"], printer=printer)
    certs = tls.ensure(project)
    printer(f"sandbox: HTTPS with a certificate of its own CA: trust {certs.ca}")
    if not answering(REGISTRY):
        raise ShipyardError(f"no registry answers on {REGISTRY}", hint="run `invoke testbed.up` and look at its report")
    host = vm.host_for()
    own = sandbox_registry.ensure(project, printer=printer) if private_registry else None
    address = own.address if own else REGISTRY
    config = _login(project, own, printer) if own else None
    proxy = proxy_image(own.address if own else None)
    host.run(docker_cmd.tag(PROXY_IMAGE_LOCAL, proxy), timeout=60)
    host.run(docker_cmd.push(proxy, config=config), timeout=600)
    accessories = sandbox_accessories(accessories or {}, address)
    for spec in accessories.values():
        if spec["image"] in {stand_in(name, address) for name in STAND_INS}:
            # the test bed's stand-in, pushed where the VMs pull from
            host.run(docker_cmd.tag(spec["image"].removeprefix(f"{address}/"), spec["image"]), timeout=60)
            host.run(docker_cmd.push(spec["image"], config=config), timeout=600)
    machines = []
    for index in range(1, hosts + 1):
        name = vm_name(project, index)
        # DOCKERD=1: the VM starts its engine when it boots, as a droplet's systemd does, so a restarted VM
        # brings its containers (restart policy unless-stopped) back by itself
        machine = vm.start_vm(host, name, docker=True, ports=["127.0.0.1::80", "127.0.0.1::443"],
                              env={"DOCKERD": "1"})
        for line in hostsetup.prepare(host, name):  # the droplets' own host setup, as root, as cloud-init runs it
            if not line.startswith("host-setup: done"):
                printer(f"sandbox: {name} {line}")
        if own is not None:  # the VM's engine trusts the sandbox CA for the registry, as cloud-init sets up
            sandbox_registry.install_ca(host, name, own)
        http_port, https_port = _published(host, name, "80/tcp"), _published(host, name, "443/tcp")
        private = host.run(testbed_cmd.address(name), timeout=30).stdout.strip() or None
        machines.append((machine, SandboxVm(name, machine.port, http_port, private, https_port)))
        printer(f"sandbox: {name} ssh 127.0.0.1:{machine.port}, proxy http://127.0.0.1:{http_port}/ and"
                f" https://127.0.0.1:{https_port}/")
    for name, _, _ in vm.list_vms(host):
        if name.startswith(f"{project}-sandbox-") and name not in {m.name for _, m in machines}:
            vm.stop_vm(host, name)
            printer(f"sandbox: removed extra VM {name}")
    known_hosts = state_file(root).parent / "sandbox_known_hosts"
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    known_hosts.write_text("".join(Path(m.known_hosts).read_text(encoding="utf-8") for m, _ in machines),
                           encoding="utf-8")
    known_hosts.chmod(0o600)
    state = SandboxState(project=project, vms=[s for _, s in machines], key=str(machines[0][0].key),
                         known_hosts=str(known_hosts.resolve()),
                         created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), accessories=accessories or None,
                         registry=own.address if own else None)
    path = write_environment(root, state, health_timeout=health_timeout, watch_window=watch_window)
    printer(f"sandbox: wrote the `sandbox` environment to {path}")
    return state


def _login(project: str, private: sandbox_registry.PrivateRegistry, printer: Callable[[str], None]) -> str:
    """`docker login` to the private registry here (the deploy's own local Docker config), for the pushes."""
    from shipyard.config.schema import Registry
    from shipyard.run import LocalRunner
    from shipyard.targets import registry as reg

    folder = reg.local_docker_config(project)
    reg.login_local(LocalRunner(), Registry(address=private.address, namespace="sandbox"), private.credentials(),
                    folder, say=lambda line: printer(f"sandbox: {line}"))
    return str(folder)


def _published(host: Any, name: str, port: str) -> int:
    from shipyard.testbed.known_hosts import parse_docker_port

    return parse_docker_port(host.run(testbed_cmd.port(name, port), timeout=30).stdout)


def down(root: Path, project: str, *, printer: Callable[[str], None] = print) -> int:
    from shipyard.testbed import vm

    host = vm.host_for()
    removed = 0
    for name, _, _ in vm.list_vms(host):
        if name.startswith(f"{project}-sandbox-"):
            vm.stop_vm(host, name)
            removed += 1
            printer(f"sandbox: removed {name}")
    for path in (env_file(root), state_file(root), state_file(root).parent / "sandbox_known_hosts"):
        path.unlink(missing_ok=True)
    printer(f"sandbox: {removed} VM(s) removed; the `sandbox` environment is gone")
    return removed


def status(root: Path, project: str) -> list[tuple[str, str, str]]:
    """(name, state, ports) of the sandbox VMs that exist."""
    from shipyard.testbed import vm

    return [row for row in vm.list_vms(vm.host_for()) if row[0].startswith(f"{project}-sandbox-")]

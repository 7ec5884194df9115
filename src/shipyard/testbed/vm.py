"""SSH "VMs": containers with sshd (ready in about a second) and their own Docker engine on demand.

Each VM publishes SSH on 127.0.0.1 only. Its host key is read from the container itself and pinned in a
known_hosts file, so clients verify it strictly instead of trusting on first use.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.commands import docker as dk
from shipyard.commands import host as cmd
from shipyard.commands import testbed as dcmd
from shipyard.errors import ShipyardError
from shipyard.testbed.host import Host
from shipyard.testbed.images import VM as VM_IMAGE
from shipyard.testbed.images import image_id
from shipyard.testbed.known_hosts import check_name, known_hosts_line, parse_docker_port, parse_vm_rows
from shipyard.testbed.settings import Settings
from shipyard.util.poll import wait_until

LABEL = "org.shipyard.testbed"
LABEL_VALUE = "vm"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
ADDRESS = "127.0.0.1"
USER = "root"


@dataclass(frozen=True)
class VM:
    name: str
    address: str
    port: int
    user: str
    key: Path
    known_hosts: Path
    host_key: str

    def runner(self, **kwargs: Any) -> Any:
        """An SSHRunner for this VM that verifies its pinned host key."""
        from shipyard.run import SSHRunner

        return SSHRunner(self.address, port=self.port, user=self.user, key=str(self.key),
                         known_hosts=str(self.known_hosts), name=kwargs.pop("name", self.name), **kwargs)

    def ssh_argv(self) -> list[str]:
        return ["ssh", "-i", str(self.key), "-p", str(self.port), "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", f"{self.user}@{self.address}"]

    def describe(self) -> list[str]:
        import shlex

        return [f"vm           {self.name}", f"address      {self.address}:{self.port}", f"user         {self.user}",
                f"key          {self.key}", f"known_hosts  {self.known_hosts}", f"host key     {self.host_key}",
                f"connect      {shlex.join(self.ssh_argv())}"]


def host_for(settings: Settings | None = None, *, dry_run: bool = False) -> Host:
    return Host.create(settings, dry_run=dry_run)


def ensure_client_key(host: Host) -> Path:
    """The test bed's SSH client key (generated once, kept in the state directory)."""
    key = host.settings.ssh_key
    if not key.is_file():
        host.mkdir(key.parent, mode=0o700)
        host.run(cmd.ssh_keygen(str(key)))
    return key


def _container_state(host: Host, name: str) -> tuple[str, str] | None:
    """(state, label value) of a container, or None when it does not exist."""
    result = host.check(["docker", "inspect", "--format",
                         f'{{{{.State.Status}}}} {{{{index .Config.Labels "{LABEL}"}}}}', name])
    if not result.ok:
        return None
    state, _, label = result.stdout.strip().partition(" ")
    return state, label


def start_vm(host: Host, name: str, *, port: int | None = None, docker: bool = False, ports: Sequence[str] = (),
             network: str | None = None, env: Mapping[str, str] | None = None, image: str = VM_IMAGE,
             timeout: float = 30.0) -> VM:
    """Start (or reuse, when already running) the VM `name` with SSH on 127.0.0.1:`port` (free port if None)."""
    check_name(name)
    s = host.settings
    vm_dir = s.vms_dir / name
    existing = _container_state(host, name)
    if existing is not None:
        state, label = existing
        if label != LABEL_VALUE:
            raise ShipyardError(f"a container named {name} exists and is not a test bed VM",
                                hint="pick another name, or remove that container")
        if state == "running" and not host.dry_run:
            machine = _describe_running(host, name, vm_dir)
            if docker:
                ensure_docker(host, machine)
            return machine
        host.run(dcmd.remove_container(name))
    if image_id(host, image) is None and not host.dry_run:
        raise ShipyardError(f"the VM image {image} is not built", hint="run `invoke testbed.up --only vm`")
    key = ensure_client_key(host)
    host.mkdir(vm_dir)
    argv = dcmd.run_vm(image, name, ssh_port=port, volume=f"shipyard-vm-{name}-docker",
                       authorized_keys=f"{key}.pub", labels={LABEL: LABEL_VALUE}, env=env, ports=ports,
                       network=network)
    host.run(argv, timeout=60)
    if host.dry_run:
        return VM(name, ADDRESS, port or 0, USER, key, vm_dir / "known_hosts", "")
    try:
        machine = _describe_running(host, name, vm_dir, timeout=timeout)
    except ShipyardError:
        logs = host.check(dk.logs(name, tail=20))
        host.run(dcmd.remove_container(name), check=False)
        raise ShipyardError(f"VM {name} did not come up: {(logs.stdout + logs.stderr).strip()[-300:]}") from None
    if docker:
        ensure_docker(host, machine)
    return machine


def _describe_running(host: Host, name: str, vm_dir: Path, timeout: float = 30.0) -> VM:
    deadline = time.monotonic() + timeout
    port = parse_docker_port(host.check(dcmd.port(name)).stdout)
    public_key = wait_until(lambda: _read_host_key(host, name), deadline, ShipyardError(f"{name}: no host key"),
                            interval=0.05)
    wait_until(lambda: _ssh_banner(ADDRESS, port), deadline,
               ShipyardError(f"{name}: sshd does not answer on {ADDRESS}:{port}"), interval=0.05)
    known_hosts = vm_dir / "known_hosts"
    host.write_text(known_hosts, known_hosts_line(ADDRESS, port, public_key), mode=0o600)
    return VM(name, ADDRESS, port, USER, host.settings.ssh_key, known_hosts, " ".join(public_key.split()[:2]))


def _read_host_key(host: Host, name: str) -> str | None:
    result = host.check(dk.exec_(name, ["cat", HOST_KEY]), timeout=10)
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def _ssh_banner(address: str, port: int) -> bool | None:
    """True once an SSH server greets on address:port (docker-proxy accepts before sshd is up)."""
    try:
        with socket.create_connection((address, port), timeout=1) as sock:
            sock.settimeout(1)
            return sock.recv(4).startswith(b"SSH-") or None
    except OSError:
        return None


def ensure_docker(host: Host, machine: VM, timeout: float = 90.0) -> None:
    """Start the VM's own Docker engine (idempotent) and wait until it answers."""
    host.run(dk.exec_(machine.name, ["start-docker"]), timeout=timeout)


def stop_vm(host: Host, name: str) -> tuple[bool, str]:
    check_name(name)
    existing = _container_state(host, name)
    if existing is not None and existing[1] != LABEL_VALUE:
        raise ShipyardError(f"{name} is not a test bed VM; left alone")
    changed = existing is not None
    if changed:
        host.run(dcmd.remove_container(name), timeout=60)
    host.run(dcmd.volume_remove(f"shipyard-vm-{name}-docker"), check=False)
    known_hosts = host.settings.vms_dir / name / "known_hosts"
    if known_hosts.is_file():
        changed = True
        host.run(cmd.remove([str(known_hosts.parent)]))
    return changed, f"removed VM {name}" if changed else f"no VM {name}"


def list_vms(host: Host) -> list[tuple[str, str, str]]:
    result = host.check(dcmd.containers_with_label(f"{LABEL}={LABEL_VALUE}"))
    return parse_vm_rows(result.stdout) if result.ok else []


def stop_all(host: Host) -> tuple[bool, str]:
    names = [name for name, _, _ in list_vms(host)]
    for name in names:
        stop_vm(host, name)
    return bool(names), f"removed {len(names)} VM(s)" if names else "no VMs"

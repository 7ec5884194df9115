"""Accessories on a VM environment: where each one runs, how apps reach it, and booting it idempotently.

An accessory (PostgreSQL, Redis, any image) is one long-lived container per host it is placed on, never
blue/green: `<project>-<name>` on the project network with the alias `<name>`, named volumes that survive its
removal, a restart policy, rotated logs, its own env file (mode 600) and a health command. A label holds a hash of
everything it was created from, so `boot` leaves an unchanged accessory alone and recreates a changed one.

Apps refer to an accessory in their env with `${accessories.<name>.host}` and `${accessories.<name>.port}`:
on a one-host environment (or for an accessory on every host) that is the network alias and its port; otherwise
the private address of its host, where the port is published (never on a public address).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from shipyard.commands import accessory as acc_cmd
from shipyard.commands import docker as docker_cmd
from shipyard.commands import hoststate
from shipyard.commands.layout import HostLayout
from shipyard.config.schema import Accessory, Host, VmEnvironment
from shipyard.errors import ShipyardError
from shipyard.run.base import Result, Runner
from shipyard.targets.vm.host import VmHost

REF_RE = re.compile(r"\$\{accessories\.([a-z][a-z0-9-]*)\.(host|port)\}")
BOOT_TIMEOUT = 180.0


def hosts_of(env: VmEnvironment, accessory: Accessory) -> list[Host]:
    if accessory.host == "all":
        return list(env.hosts)
    if accessory.host == "first":
        return [env.hosts[0]]
    return [h for h in env.hosts if accessory.host in (h.label, h.address)][:1]


def shared_by_name(env: VmEnvironment, accessory: Accessory) -> bool:
    """Reached through the network alias (every app container is on its host) rather than a private address."""
    return len(env.hosts) == 1 or accessory.host == "all"


def endpoint(env: VmEnvironment, name: str) -> tuple[str, int]:
    """(host, port) that apps use to reach the accessory `name`."""
    accessory = env.accessories[name]
    if shared_by_name(env, accessory):
        return name, accessory.port
    host = hosts_of(env, accessory)[0]
    return host.private_address or host.address, accessory.port


def publish(env: VmEnvironment, name: str) -> str | None:
    """`private_address:port:port` when other hosts must reach it, else nothing is published."""
    accessory = env.accessories[name]
    if shared_by_name(env, accessory):
        return None
    host = hosts_of(env, accessory)[0]
    return f"{host.private_address}:{accessory.port}:{accessory.port}"


def references(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in REF_RE.finditer(text)]


def resolve_refs(values: Mapping[str, str], env: VmEnvironment, env_name: str) -> dict[str, str]:
    """The values with every `${accessories.<name>.host|port}` replaced; an unknown accessory is an error."""
    out = {}
    for key, value in values.items():
        for name, _ in references(value):
            if name not in env.accessories:
                known = ", ".join(env.accessories) or "none"
                raise ShipyardError(f"{key}: refers to accessory '{name}', which environment '{env_name}' does not"
                                    f" define (accessories: {known})",
                                    hint=f"add it under environments.{env_name}.accessories")

        def sub(match: re.Match[str]) -> str:
            host, port = endpoint(env, match.group(1))
            return host if match.group(2) == "host" else str(port)

        out[key] = REF_RE.sub(sub, value)
    return out


def env_text(values: Mapping[str, str]) -> str:
    for key, value in values.items():
        if "\n" in value:
            raise ShipyardError(f"{key}: a value with a newline cannot go into an env file")
    return "".join(f"{k}={v}\n" for k, v in sorted(values.items()))


def spec_hash(accessory: Accessory, published: str | None, env_file_text: str) -> str:
    """What the container is created from; the env file enters as its own hash (it may hold secrets)."""
    data = {"image": accessory.image, "port": accessory.port, "volumes": accessory.volumes,
            "command": accessory.command, "health": accessory.health, "publish": published,
            "env": hashlib.sha256(env_file_text.encode()).hexdigest()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class AccessoryState:
    host: str
    name: str
    status: str  # running | exited | ... | missing
    health: str  # healthy | starting | unhealthy | - (no health command)
    spec: str = ""

    @property
    def ready(self) -> bool:
        return self.status == "running" and self.health in ("healthy", "-")


def parse_inspect(host: str, name: str, output: str, ok: bool) -> AccessoryState:
    parts = output.split()
    if not ok or len(parts) < 2:
        return AccessoryState(host, name, "missing", "-")
    return AccessoryState(host, name, parts[0], parts[1], parts[2] if len(parts) > 2 else "")


@dataclass
class BootReport:
    host: str
    changed: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    unreadable: str | None = None  # dry run only: why this host's accessories could not be read


@dataclass
class Accessories:
    """The accessories of one VM environment, bound to its hosts (VmHost by host label)."""

    env_name: str
    env: VmEnvironment
    layout: HostLayout
    env_files: dict[str, str]  # accessory -> env file text (plain env + resolved secrets)
    hosts: dict[str, VmHost]
    say: Callable[[str], None] = print

    def placed(self, only: str | None = None) -> list[tuple[str, str]]:
        """(host label, accessory) pairs, in a stable order."""
        names = [only] if only else sorted(self.env.accessories)
        for name in names:
            if name not in self.env.accessories:
                raise ShipyardError(f"environment '{self.env_name}' has no accessory '{name}'"
                                    f" (accessories: {', '.join(sorted(self.env.accessories)) or 'none'})")
        return [(h.label, n) for n in names for h in hosts_of(self.env, self.env.accessories[n])]

    def runner(self, host: str) -> Runner:
        return self.hosts[host].runner

    def state(self, host: str, name: str) -> AccessoryState:
        result = self.runner(host).run(acc_cmd.inspect(self.layout, name), timeout=60, check=False)
        return parse_inspect(host, name, result.stdout, result.ok)

    def status(self, only: str | None = None) -> list[AccessoryState]:
        return [self.state(host, name) for host, name in self.placed(only)]

    def boot(self, *, dry_run: bool = False, only: str | None = None) -> list[BootReport]:
        """Start what is missing, recreate what changed, leave the rest; wait until each is healthy. A dry run
        reads every host it can: one whose accessories cannot be read gets `unreadable` instead of an error."""
        from shipyard.run import DryRunRunner

        reports: dict[str, BootReport] = {}
        for host, name in self.placed(only):
            doer: Runner = DryRunRunner(host=host, printer=self.say) if dry_run else self.runner(host)
            report = reports.setdefault(host, BootReport(host))
            if report.unreadable:
                continue
            try:
                changed = self._boot_one(host, name, doer)
            except ShipyardError as exc:
                if not dry_run:
                    raise
                report.unreadable = str(exc)  # a dry run reports every host it can, then exits non-zero
                continue
            if changed is None:
                report.in_place.append(f"accessory {name} ({self.env.accessories[name].image})")
                continue
            report.changed.append(f"accessory {name}: {changed}")
            if not dry_run:
                self.wait_ready(host, name)
        return list(reports.values())

    def _boot_one(self, host: str, name: str, doer: Runner) -> str | None:
        """What changed on `host` for accessory `name` (None: it is in place)."""
        accessory = self.env.accessories[name]
        text = self.env_files.get(name, "")
        published = publish(self.env, name)
        spec = spec_hash(accessory, published, text)
        current = self.state(host, name)
        if current.status != "missing" and current.spec == spec:
            if current.status == "running":
                return None
            doer.run(docker_cmd.start(acc_cmd.container(self.layout, name)), timeout=60)
            return "started the stopped container"
        vm = self.hosts[host]
        if not vm.images_present([accessory.image]).get(accessory.image, False):
            self.say(f"[{host}] accessory {name}: pulling {accessory.image}")
            if not doer.dry_run:
                vm.before_pull()
            doer.run(docker_cmd.pull(accessory.image, config=vm.docker_config), timeout=900)
        path = acc_cmd.env_file(self.layout, name) if text else None
        if path:
            doer.run(hoststate.write_file(path, "077"), input=text, timeout=30)
        if current.status != "missing":
            doer.run(acc_cmd.remove(self.layout, name), timeout=120)
        doer.run(acc_cmd.run(self.layout, name, accessory.image, spec=spec, volumes=accessory.volumes,
                             publish=published, health=accessory.health, command=accessory.command,
                             env_file_path=path), timeout=120)
        if current.status != "missing":
            return f"recreated: image or settings changed, volumes kept ({accessory.image})"
        return f"started ({accessory.image})"

    def wait_ready(self, host: str, name: str, timeout: float = BOOT_TIMEOUT) -> AccessoryState:
        deadline = time.monotonic() + timeout
        while True:
            current = self.state(host, name)
            if current.ready:
                return current
            if current.status not in ("running", "created", "restarting") or time.monotonic() > deadline:
                tail = self.runner(host).run(acc_cmd.logs(self.layout, name, tail=15), timeout=60, check=False)
                last = " | ".join((tail.stdout + tail.stderr).strip().splitlines()[-5:])
                raise ShipyardError(f"[{host}] accessory {name} is not healthy ({current.status}, health"
                                    f" {current.health}); last log lines: {last}",
                                    hint=f"invoke deploy.accessories.logs --env {self.env_name} --name {name}")
            time.sleep(0.5)

    def restart(self, name: str) -> list[AccessoryState]:
        out = []
        for host, acc in self.placed(name):
            self.runner(host).run(acc_cmd.restart(self.layout, acc), timeout=120)
            out.append(self.wait_ready(host, acc))
        return out

    def remove(self, name: str, volumes: list[str], *, dry_run: bool = False) -> list[str]:
        """Remove the container on every host it runs on; only the volumes named in `volumes` are deleted."""
        from shipyard.run import DryRunRunner

        placed = self.placed(name)  # an unknown accessory is an error
        accessory = self.env.accessories[name]
        unknown = [v for v in volumes if v not in accessory.volumes]
        if unknown:
            raise ShipyardError(f"accessory {name} has no volume {', '.join(unknown)}"
                                f" (its volumes: {', '.join(accessory.volumes) or 'none'})")
        done = []
        for host, acc in placed:
            doer: Runner = DryRunRunner(host=host, printer=self.say) if dry_run else self.runner(host)
            doer.run(acc_cmd.remove(self.layout, acc), timeout=120, check=False)
            done.append(f"[{host}] {'would remove' if dry_run else 'removed'} {acc_cmd.container(self.layout, acc)}")
            for vol in volumes:
                doer.run(acc_cmd.remove_volume(self.layout, vol), timeout=120)
                done.append(f"[{host}] {'would delete' if dry_run else 'deleted'} volume"
                            f" {acc_cmd.volume(self.layout, vol)}")
        return done

    def exec_(self, name: str, command: str) -> Result:
        """`sh -c command` inside the accessory's container, on the first host it runs on (a dump, a psql)."""
        host, acc = self.placed(name)[0]
        argv = docker_cmd.exec_(acc_cmd.container(self.layout, acc), ["sh", "-c", command])
        return self.runner(host).run(argv, timeout=3600, check=False)

    def logs(self, name: str, *, tail: int = 100, follow: bool = False, since: str | None = None) -> None:
        for host, acc in self.placed(name):
            self.runner(host).run(acc_cmd.logs(self.layout, acc, tail=tail, follow=follow, since=since),
                                  timeout=None if follow else 120, stream=True, check=False)

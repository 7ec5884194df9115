"""Operating a live release on VMs: its logs and one-off commands, per host.

`logs` reads the live colour's container of a service (or an accessory's); `exec_` runs a command in a one-off
container of the live release's image, with the service's env file and on the project network (what a schema
migration or a data fix needs), or with `live=True` inside the running container itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.commands import accessory as acc_cmd
from shipyard.commands import docker as docker_cmd
from shipyard.commands.layout import LABEL_PROJECT
from shipyard.errors import ShipyardError
from shipyard.facts.containers import Container
from shipyard.plans import bluegreen as bg
from shipyard.run.base import Result
from shipyard.targets.vmhost import VmHost
from shipyard.targets.vmtarget import Target


@dataclass(frozen=True)
class Live:
    host: str
    container: str
    image: str


def pick_hosts(target: Target, host: str | None) -> list[str]:
    names = target.host_names()
    if host is None:
        return names
    if host not in names and host not in {h.address for h in target.env.hosts}:
        raise ShipyardError(f"--host {host}: not a host of environment '{target.env_name}' ({', '.join(names)})")
    return [h.label for h in target.env.hosts if host in (h.label, h.address)]


def live_container(target: Target, vm: VmHost, service: str) -> Live:
    """The container that takes the service's traffic on this host."""
    facts = vm.facts({service: target.image(service, "unknown")}).services[service]
    colour = bg.live_colour(facts)
    container: Container | None = facts.containers.get(colour) if colour else None
    if container is None or not container.running:
        raise ShipyardError(f"[{vm.name}] no live {service} container", hint=f"invoke deploy --env {target.env_name}")
    return Live(vm.name, container.name, container.image)


def logs_argv(target: Target, vm: VmHost, name: str, *, tail: int, follow: bool, since: str | None) -> list[str]:
    """`docker logs` of a service's live container, or of an accessory's."""
    if name in target.env.accessories:
        return acc_cmd.logs(target.layout, name, tail=tail, follow=follow, since=since)
    if name not in target.services:
        known = ", ".join([*sorted(target.services), *sorted(target.env.accessories)])
        raise ShipyardError(f"no service or accessory '{name}' in environment '{target.env_name}' ({known})")
    argv = docker_cmd.logs(live_container(target, vm, name).container, tail=tail, follow=follow)
    return [*argv[:-1], "--since", since, argv[-1]] if since else argv


def exec_argv(target: Target, live: Live, service: str, command: Sequence[str], *, in_place: bool) -> list[str]:
    if in_place:
        return docker_cmd.exec_(live.container, list(command))
    env_file = target.layout.env_file(service)
    return ["docker", "run", "--rm", "-i", "--network", target.layout.network, "--env-file", env_file,
            "--label", f"{LABEL_PROJECT}={target.layout.project}", *docker_cmd.HOST_LOG_OPTS, live.image,
            *command]


def run_exec(target: Target, vm: VmHost, service: str, command: Sequence[str], *, in_place: bool) -> Result:
    if service not in target.services:
        raise ShipyardError(f"no service '{service}' in environment '{target.env_name}'"
                            f" ({', '.join(sorted(target.services))})")
    if not command:
        raise ShipyardError("no command given", hint="invoke deploy.exec --env E --service api --command '...'")
    live = live_container(target, vm, service)
    return vm.runner.run(exec_argv(target, live, service, command, in_place=in_place), timeout=3600, check=False)

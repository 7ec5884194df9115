"""Operating a live release on VMs: its logs and one-off commands, per host.

`logs` reads the live colour's container of a service (or an accessory's); `exec_` runs a command in a one-off
container of the live release's image, with the service's env file and on the project network (what a schema
migration or a data fix needs), or with `live=True` inside the running container itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shipyard.commands import accessory as acc_cmd
from shipyard.commands import bluegreen as bgc
from shipyard.commands import docker as docker_cmd
from shipyard.errors import ShipyardError
from shipyard.facts.containers import Container
from shipyard.plans import bluegreen as bg
from shipyard.run.base import Result
from shipyard.targets.vm.accessories import hosts_of
from shipyard.targets.vm.host import VmHost
from shipyard.targets.vm.target import Target


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
        raise NoLiveContainer(f"[{vm.name}] no live {service} container", hint=f"invoke deploy --env {target.env_name}")
    return Live(vm.name, container.name, container.image)


class NoLiveContainer(ShipyardError):
    """The service has no live container on this host (never deployed there, or stopped)."""


def show_logs(target: Target, name: str | None, host: str | None, *, tail: int, follow: bool, since: str | None,
              say: Callable[[str], None]) -> None:
    """Stream the logs of a service's live container (or an accessory's) from each chosen host, prefixed by host.
    A host where it does not run says so and the others go on."""
    known = [*sorted(target.services), *sorted(target.env.accessories)]
    if not name:
        raise ShipyardError("--service is required", hint=f"one of: {', '.join(known)}")
    if name not in known:
        raise ShipyardError(f"no service or accessory '{name}' in environment '{target.env_name}'"
                            f" ({', '.join(known)})")
    accessory = target.env.accessories.get(name)
    placed = {h.label for h in hosts_of(target.env, accessory)} if accessory else None
    wanted = pick_hosts(target, host)
    for runner in target.runners():
        if runner.host not in wanted:
            continue
        if placed is not None and runner.host not in placed:
            say(f"[{runner.host}] accessory {name} does not run on this host")
            continue
        try:
            argv = (acc_cmd.logs(target.layout, name, tail=tail, follow=follow, since=since) if accessory else
                    docker_cmd.logs(live_container(target, VmHost(runner, target.layout), name).container,
                                    tail=tail, follow=follow, since=since))
        except NoLiveContainer as exc:
            say(exc.message)
            continue
        runner.run(argv, timeout=None if follow else 120, stream=True, check=False)


def exec_argv(target: Target, live: Live, service: str, command: Sequence[str], *, in_place: bool) -> list[str]:
    if in_place:
        return docker_cmd.exec_(live.container, list(command))
    return bgc.one_off(target.layout, live.image, command, env_file=target.layout.env_file(service), stdin=True)


def run_exec(target: Target, vm: VmHost, service: str, command: Sequence[str], *, in_place: bool) -> Result:
    if service not in target.services:
        raise ShipyardError(f"no service '{service}' in environment '{target.env_name}'"
                            f" ({', '.join(sorted(target.services))})")
    if not command:
        raise ShipyardError("no command given", hint="invoke deploy.exec --env E --service api --command '...'")
    live = live_container(target, vm, service)
    return vm.runner.run(exec_argv(target, live, service, command, in_place=in_place), timeout=3600, check=False)

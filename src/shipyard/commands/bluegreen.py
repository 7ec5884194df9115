"""Docker commands for the blue and green containers of a service on a VM. Pure argv builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shipyard.commands import docker
from shipyard.commands.layout import LABEL_PROJECT, Colour, HostLayout

Argv = list[str]
RELEASE_ENV = "SHIPYARD_RELEASE"


def start(layout: HostLayout, service: str, colour: Colour, image: str, release: str, *,
          env_file: str | None, env: Mapping[str, str] | None = None) -> Argv:
    """The new colour's container: on the project network, labelled with its release, restarted by Docker."""
    return docker.run(image, name=layout.container(service, colour), network=layout.network,
                      env={**(env or {}), RELEASE_ENV: release}, env_file=env_file,
                      labels=layout.labels(service, colour, release), restart="unless-stopped", init=True,
                      log_opts=docker.HOST_LOG_OPTS)


def one_off(layout: HostLayout, image: str, command: Sequence[str], *, env_file: str | None,
            name: str | None = None, release: str | None = None, stdin: bool = False) -> Argv:
    """A one-off container of a service's image with its env file, on the project network, removed on exit."""
    argv = ["docker", "run", "--rm", *(["-i"] if stdin else []), *(["--name", name] if name else []),
            "--network", layout.network, "--init", *docker.HOST_LOG_OPTS,
            *(["--env", f"{RELEASE_ENV}={release}"] if release else [])]
    if env_file:
        argv += ["--env-file", env_file]
    return [*argv, "--label", f"{LABEL_PROJECT}={layout.project}", image, *command]


def release(layout: HostLayout, service: str, image: str, release: str, command: str, *,
            env_file: str | None) -> Argv:
    """The release command (migrations) in a one-off container of the new image, on the project network."""
    return one_off(layout, image, ["sh", "-c", command], env_file=env_file, name=f"{layout.project}-{service}-release",
                   release=release)


def remove(layout: HostLayout, service: str, colour: Colour) -> Argv:
    return docker.rm(layout.container(service, colour), force=True)


def stop(layout: HostLayout, service: str, colour: Colour, grace: int = 10) -> Argv:
    return docker.stop(layout.container(service, colour), grace)


def restart(layout: HostLayout, service: str, colour: Colour) -> Argv:
    """Start a kept, stopped colour again (its container, image, labels and network alias are unchanged)."""
    return docker.start(layout.container(service, colour))


def ps(layout: HostLayout) -> Argv:
    """Every app container of the project (JSON lines)."""
    return docker.ps({"label": f"{LABEL_PROJECT}={layout.project}"})


def status(layout: HostLayout, service: str, colour: Colour) -> Argv:
    """`<state> <IPv4 on the project network>` of the container (the address is empty until it has one)."""
    fmt = ("{{.State.Status}} {{with index .NetworkSettings.Networks \"" + layout.network +
           "\"}}{{.IPAddress}}{{end}}")
    return ["docker", "inspect", "--type", "container", "--format", fmt, layout.container(service, colour)]


def logs_tail(layout: HostLayout, service: str, colour: Colour, lines: int = 20) -> Argv:
    return docker.logs(layout.container(service, colour), tail=lines)


def images(repository: str) -> Argv:
    """Local images of one repository (JSON lines: Repository, Tag, ID, CreatedAt)."""
    return ["docker", "image", "ls", "--no-trunc", "--format", "{{json .}}", repository]


def hook(layout: HostLayout, service: str, colour: Colour, command: str) -> Argv:
    """Run the pre-cutover command (a migration, say) inside the new, healthy container."""
    return docker.exec_(layout.container(service, colour), ["sh", "-c", command])


def network_exists(layout: HostLayout) -> Argv:
    return ["docker", "network", "inspect", "--format", "{{.Name}}", layout.network]


def network_create(layout: HostLayout) -> Argv:
    return [*docker.network_create(layout.network)[:3], "--label", f"{LABEL_PROJECT}={layout.project}",
            layout.network]


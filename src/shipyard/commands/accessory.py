"""Docker commands for accessories (a database, a cache) on a VM: long-lived, never blue/green. Pure argv."""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.commands import docker
from shipyard.commands.docker import HOST_LOG_OPTS
from shipyard.commands.layout import LABEL_PROJECT, LABEL_ROLE, HostLayout

Argv = list[str]
LABEL_ACCESSORY = "shipyard.accessory"
LABEL_SPEC = "shipyard.spec"  # a hash of everything the container was created from: a change recreates it


def container(layout: HostLayout, name: str) -> str:
    return f"{layout.project}-{name}"


def volume(layout: HostLayout, volume_name: str) -> str:
    return f"{layout.project}_{volume_name}"


def env_file(layout: HostLayout, name: str) -> str:
    return f"{layout.env_dir}/accessory-{name}.env"


def run(layout: HostLayout, name: str, image: str, *, spec: str, volumes: Mapping[str, str], publish: str | None,
        health: list[str], command: list[str], env_file_path: str | None) -> Argv:
    argv = ["docker", "run", "--detach", "--name", container(layout, name), "--network", layout.network,
            "--network-alias", name, "--restart", "unless-stopped", "--init", *HOST_LOG_OPTS,
            "--label", f"{LABEL_PROJECT}={layout.project}", "--label", f"{LABEL_ROLE}=accessory",
            "--label", f"{LABEL_ACCESSORY}={name}", "--label", f"{LABEL_SPEC}={spec}"]
    for vol, path in sorted(volumes.items()):
        argv += ["--volume", f"{volume(layout, vol)}:{path}"]
    if publish:
        argv += ["--publish", publish]
    if env_file_path:
        argv += ["--env-file", env_file_path]
    if health:
        argv += ["--health-cmd", " ".join(health), "--health-interval", "2s", "--health-timeout", "5s",
                 "--health-retries", "3", "--health-start-period", "60s"]
    return [*argv, image, *command]


def inspect(layout: HostLayout, name: str) -> Argv:
    """`<status> <health or -> <spec label>` of the accessory's container (fails when there is none)."""
    fmt = ('{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} '
           '{{index .Config.Labels "' + LABEL_SPEC + '"}}')
    return ["docker", "inspect", "--type", "container", "--format", fmt, container(layout, name)]


def remove(layout: HostLayout, name: str) -> Argv:
    return docker.rm(container(layout, name), force=True)


def restart(layout: HostLayout, name: str) -> Argv:
    return ["docker", "restart", container(layout, name)]


def logs(layout: HostLayout, name: str, *, tail: int = 100, follow: bool = False, since: str | None = None) -> Argv:
    return docker.logs(container(layout, name), tail=tail, follow=follow, since=since)


def remove_volume(layout: HostLayout, volume_name: str) -> Argv:
    return ["docker", "volume", "rm", volume(layout, volume_name)]



"""The reverse-proxy container on each VM: how it is started, reloaded and probed. Pure argv builders."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.commands.docker import HOST_LOG_OPTS
from shipyard.commands.haproxy import CONTAINER_CONF_DIR, CONTAINER_SOCKET_DIR, CONTAINER_TLS_DIR
from shipyard.commands.layout import LABEL_PROJECT, LABEL_ROLE, PROXY_PUBLIC_PORT, PROXY_TLS_PORT, HostLayout
from shipyard.commands.programs import program

Argv = list[str]


def publish(bind: str, http_port: int, container_port: int = PROXY_PUBLIC_PORT) -> str:
    host = f"[{bind}]" if ":" in bind else bind
    return f"{host}:{http_port}:{container_port}"


def run(layout: HostLayout, image: str, *, bind: str, http_port: int, aliases: Sequence[str],
        https_port: int | None = None, group: str | None = None) -> Argv:
    """Start HAProxy on the project network. Other containers reach each service through it by name.

    It runs as root inside its container only to bind ports 80/443; every capability except binding low ports
    is dropped, so it reads its files and creates its admin socket through `group` (the state directory's group,
    added to the container's process): the socket gets that group (the run directory is setgid) and mode 660,
    so the SSH user, not root, drives the switch.
    """
    argv = ["docker", "run", "--detach", "--name", layout.proxy_container, "--network", layout.network]
    for alias in sorted(aliases):
        argv += ["--network-alias", alias]
    argv += [
        "--restart", "unless-stopped", *HOST_LOG_OPTS, "--user", "0:0", *(["--group-add", group] if group else []),
        "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE",
        "--publish", publish(bind, http_port),
        *(["--publish", publish(bind, https_port, PROXY_TLS_PORT),
           "--volume", f"{layout.proxy_tls_dir}:{CONTAINER_TLS_DIR}:ro"] if https_port else []),
        "--volume", f"{layout.proxy_conf_dir}:{CONTAINER_CONF_DIR}:ro",
        "--volume", f"{layout.proxy_run_dir}:{CONTAINER_SOCKET_DIR}",
        "--label", f"{LABEL_PROJECT}={layout.project}", "--label", f"{LABEL_ROLE}=proxy",
        image,
        "haproxy", "-f", f"{CONTAINER_CONF_DIR}/haproxy.cfg",  # the image's entrypoint adds -W -db
    ]
    return argv


def inspect(layout: HostLayout) -> Argv:
    """One JSON object with what decides whether the running proxy matches the wanted one."""
    fmt = ('{"running": {{json .State.Running}}, "image": {{json .Config.Image}}, '
           '"ports": {{json .HostConfig.PortBindings}}, "groups": {{json .HostConfig.GroupAdd}}, '
           '"networks": {{json .NetworkSettings.Networks}}}')
    return ["docker", "inspect", "--type", "container", "--format", fmt, layout.proxy_container]


def reload(layout: HostLayout) -> Argv:
    """Master-worker reload: new workers read the file, old ones finish their requests (idle-close-on-response)."""
    return ["docker", "kill", "--signal", "HUP", layout.proxy_container]


def check_config(layout: HostLayout) -> Argv:
    return ["docker", "exec", layout.proxy_container, "haproxy", "-c", "-q", "-f",
            f"{CONTAINER_CONF_DIR}/haproxy.cfg"]


def remove(layout: HostLayout) -> Argv:
    return ["docker", "rm", "--force", layout.proxy_container]


def http_probe(url: str, timeout: float = 5.0) -> Argv:
    """GET through the proxy from the host itself (http_probe.py): prints the status code; fails unless it is
    2xx/3xx."""
    return ["python3", "-I", "-S", "-c", program("http_probe.py"), url, f"{timeout:g}"]

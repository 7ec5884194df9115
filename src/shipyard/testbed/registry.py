"""A Docker registry on 127.0.0.1 with deletion enabled: Debian's docker-registry with Shipyard's own config."""

from __future__ import annotations

import time
from pathlib import Path

from shipyard.commands import host as cmd
from shipyard.errors import ShipyardError
from shipyard.testbed.engine import apt_install
from shipyard.testbed.host import Host
from shipyard.util.poll import wait_until

REGISTRY_BINARY = "docker-registry"
MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))


def render_config(addr: str, storage: Path) -> str:
    """The registry's config: loopback only, deletes allowed, no blob cache (it goes stale after a GC)."""
    host, _, port = addr.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1") or not port.isdigit():
        raise ShipyardError(f"registry address {addr!r} must be 127.0.0.1:<port>",
                            hint="the test bed registry is never exposed beyond loopback")
    return (
        "# Written by `invoke testbed.up`; changes are overwritten.\n"
        "version: 0.1\n"
        "log:\n  level: info\n  formatter: text\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {storage}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        "http:\n"
        f"  addr: {addr}\n"
        "  headers:\n    X-Content-Type-Options: [nosniff]\n"
    )


def answering(addr: str, timeout: float = 2.0) -> bool:
    """True when a Docker registry (API v2) answers at addr."""
    import httpx

    try:
        response = httpx.get(f"http://{addr}/v2/", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "docker-distribution-api-version" in response.headers


def _port_taken(addr: str) -> bool:
    import socket

    host, _, port = addr.rpartition(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def ensure_registry(host: Host) -> tuple[bool, str]:
    s = host.settings
    config = render_config(s.registry_addr, s.registry_storage)
    up = answering(s.registry_addr)
    if up and s.registry_config.is_file() and s.registry_config.read_text(encoding="utf-8") == config:
        return False, f"registry answering on {s.registry_addr} (deletes enabled)"
    if up and not s.registry_pidfile.is_file():
        return False, f"a registry not started by shipyard answers on {s.registry_addr}; left alone"
    if not up and _port_taken(s.registry_addr):
        raise ShipyardError(f"{s.registry_addr} is taken by something that is not a Docker registry",
                            hint="free the port, then run `invoke testbed.up` again")
    notes = []
    if host.which(REGISTRY_BINARY) is None:
        apt_install(host, ["docker-registry"])
        notes.append("installed docker-registry")
    host.mkdir(s.registry_storage)
    host.mkdir(s.run_dir)
    host.mkdir(s.log_dir)
    host.write_text(s.registry_config, config)
    if up:
        stop_registry(host)
        notes.append("restarted with the new config")
    start_registry(host)
    notes.append(f"started on {s.registry_addr}")
    return True, "; ".join(notes)


def start_registry(host: Host, wait: float = 20.0) -> None:
    s = host.settings
    binary = host.which(REGISTRY_BINARY) or f"/usr/bin/{REGISTRY_BINARY}"
    serve = cmd.registry_serve(binary, str(s.registry_config))
    host.run(cmd.start_daemon(serve[0], serve[1:], pidfile=str(s.registry_pidfile), logfile=str(s.registry_log)))
    if host.dry_run:
        return
    error = ShipyardError(f"the registry did not answer on {s.registry_addr} within {wait:g}s",
                          hint=f"read {s.registry_log}")
    wait_until(lambda: answering(s.registry_addr), time.monotonic() + wait, error, interval=0.2)


def stop_registry(host: Host) -> tuple[bool, str]:
    pidfile = host.settings.registry_pidfile
    if not pidfile.is_file():
        return False, "registry not started by shipyard"
    host.run(cmd.stop_daemon(str(pidfile)), timeout=60)
    return True, "stopped the registry"


def garbage_collect(host: Host) -> None:
    """Free the blobs of deleted manifests: stop, collect, start (the running registry's caches go stale)."""
    s = host.settings
    binary = host.which(REGISTRY_BINARY) or f"/usr/bin/{REGISTRY_BINARY}"
    stop_registry(host)
    try:
        host.run(cmd.registry_garbage_collect(binary, str(s.registry_config)), timeout=600)
    finally:
        start_registry(host)


def delete_tag(addr: str, repository: str, tag: str) -> str:
    """Delete the manifest a tag points to; returns its digest. Blobs stay until `garbage_collect`."""
    import httpx

    base = f"http://{addr}/v2/{repository}/manifests"
    head = httpx.head(f"{base}/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=10)
    if head.status_code == 404:
        raise ShipyardError(f"{addr}/{repository}:{tag} does not exist in the registry")
    head.raise_for_status()
    digest = head.headers["docker-content-digest"]
    response = httpx.delete(f"{base}/{digest}", timeout=10)
    if response.status_code != 202:
        raise ShipyardError(f"deleting {addr}/{repository}:{tag} failed: HTTP {response.status_code}")
    return digest


def tags(addr: str, repository: str) -> list[str]:
    import httpx

    response = httpx.get(f"http://{addr}/v2/{repository}/tags/list", timeout=10)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return sorted(response.json().get("tags") or [])

"""A Docker registry on 127.0.0.1 with deletion enabled: Debian's docker-registry with Shipyard's own config."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from shipyard import imageref
from shipyard.commands import host as cmd
from shipyard.errors import ShipyardError
from shipyard.testbed.engine import apt_install
from shipyard.testbed.host import Host
from shipyard.util.poll import wait_until

REGISTRY_BINARY = "docker-registry"


@dataclass(frozen=True)
class TokenAuth:
    """distribution's `auth: token`: tokens from `realm`, signed by a key whose certificate is in `rootcertbundle`."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


def render_config(addr: str, storage: Path, *, tls: tuple[Path, Path] | None = None, htpasswd: Path | None = None,
                  token: TokenAuth | None = None) -> str:
    """The registry's config: loopback only, deletes allowed, no blob cache (it goes stale after a GC).

    `tls` (certificate chain, key) serves HTTPS; `htpasswd` (a file of bcrypt entries) or `token` require
    credentials, as a private registry (DOCR, GHCR) does."""
    host, _, port = addr.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1") or not port.isdigit():
        raise ShipyardError(f"registry address {addr!r} must be 127.0.0.1:<port>",
                            hint="the test bed registry is never exposed beyond loopback")
    if htpasswd is not None and token is not None:
        raise ValueError("one of htpasswd or token auth, not both")
    text = (
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
    if tls is not None:
        text += f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n"
    if htpasswd is not None:
        text += f"auth:\n  htpasswd:\n    realm: shipyard\n    path: {htpasswd}\n"
    if token is not None:
        text += (f"auth:\n  token:\n    realm: {token.realm}\n    service: {token.service}\n"
                 f"    issuer: {token.issuer}\n    rootcertbundle: {token.rootcertbundle}\n")
    return text


def htpasswd_entry(username: str, password: str) -> str:
    """One `user:bcrypt-hash` line, as `htpasswd -nbB` writes it (the registry accepts only bcrypt)."""
    import bcrypt

    if ":" in username or not username:
        raise ValueError("an htpasswd user name is non-empty and has no ':'")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return f"{username}:{hashed}\n"


def answering(addr: str, timeout: float = 2.0) -> bool:
    """True when a Docker registry (API v2) answers at addr."""
    from shipyard.run.registry import RegistryClient, RegistryError

    try:
        with RegistryClient(addr, timeout=timeout) as client:
            return client.check() == "registry/2.0"
    except RegistryError:
        return False


def port_taken(addr: str) -> bool:
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
    if not up and port_taken(s.registry_addr):
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
    from shipyard.run.registry import RegistryClient

    with RegistryClient(addr) as client:
        digest = client.digest(repository, tag)
        if digest is None:
            raise ShipyardError(f"{imageref.retagged(f'{addr}/{repository}', tag)} does not exist in the registry")
        client.delete(repository, digest)
    return digest


def tags(addr: str, repository: str) -> list[str]:
    from shipyard.run.registry import RegistryClient

    with RegistryClient(addr) as client:
        return client.tags(repository)

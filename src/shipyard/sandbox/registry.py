"""The sandbox's private registry, shaped like DOCR/GHCR: HTTPS with a certificate of the sandbox's own CA and
htpasswd (bcrypt) authentication, on this machine's 127.0.0.1:5443 (Debian's docker-registry).

Its credentials are made by `sandbox.up` and kept outside the repository, next to the sandbox CA:
`~/.config/shipyard/sandbox/<project>/registry-password` (mode 600; the generated environment names it as a
`file:` secret) and `registry-htpasswd` (mode 600). Its data, config, pid file and log live in the test bed's
state folder. VMs reach it through the deploy's SSH reverse tunnel (it is on the deployer's loopback) and trust
the CA in `/etc/docker/certs.d/127.0.0.1:5443/ca.crt`, which `sandbox.up` installs as cloud-init would.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.commands import host as cmd
from shipyard.errors import ShipyardError
from shipyard.run.redact import REDACTOR
from shipyard.run.registry import Credentials, RegistryClient, RegistryError
from shipyard.sandbox import tls
from shipyard.util.private import write_private

if TYPE_CHECKING:
    from shipyard.testbed.host import Host

ADDRESS = "127.0.0.1:5443"
USER = "sandbox"
PASSWORD_SECRET = "SANDBOX_REGISTRY_PASSWORD"  # noqa: S105 - a secret's name  # pragma: allowlist secret
CERTS_D = Path("/etc/docker/certs.d")


class _Password:
    """The generated password as a revealable secret (masked in every output once read)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Password('******')"


@dataclass(frozen=True)
class PrivateRegistry:
    address: str
    user: str
    password_file: Path
    ca: Path

    def credentials(self) -> Credentials:
        value = self.password_file.read_text(encoding="utf-8").strip()
        REDACTOR.add(value, PASSWORD_SECRET)
        return Credentials(self.user, _Password(value), secret_name=PASSWORD_SECRET)

    def client(self) -> RegistryClient:
        return RegistryClient(self.address, credentials=self.credentials(), ca=self.ca)


def password_file(project: str, home: Path | None = None) -> Path:
    return tls.folder(project, home) / "registry-password"


def credentials_files(project: str, home: Path | None = None) -> tuple[Path, Path, bool]:
    """(password file, htpasswd file, changed): a random password made once; the htpasswd entry follows it."""
    import bcrypt

    from shipyard.testbed.registry import htpasswd_entry

    secret, htpasswd = password_file(project, home), tls.folder(project, home) / "registry-htpasswd"
    if not secret.is_file() or not secret.read_text(encoding="utf-8").strip():
        write_private(secret, secrets.token_urlsafe(24) + "\n")
    password = secret.read_text(encoding="utf-8").strip()
    REDACTOR.add(password)
    entry = htpasswd.read_text(encoding="utf-8").strip() if htpasswd.is_file() else ""
    user, _, hashed = entry.partition(":")
    if user == USER and hashed and bcrypt.checkpw(password.encode(), hashed.encode()):
        return secret, htpasswd, False
    write_private(htpasswd, htpasswd_entry(USER, password))
    return secret, htpasswd, True


def ensure(project: str, *, printer: Callable[[str], None] = print, home: Path | None = None,
           address: str | None = None, wait: float = 20.0) -> PrivateRegistry:
    """The private registry up with this project's CA and credentials (started or restarted when needed).
    `address` (tests): another 127.0.0.1 port (each port has its own folder, `state_folder`)."""
    from shipyard.testbed.host import Host
    from shipyard.testbed.registry import REGISTRY_BINARY, port_taken, render_config

    address = address or ADDRESS
    certs = tls.ensure(project, home)
    secret, htpasswd, rotated = credentials_files(project, home)
    found = PrivateRegistry(address, USER, secret, certs.ca)
    host = Host.create(printer=printer)
    folder = state_folder(address)
    config, pidfile, log = folder / "config.yml", folder / "registry.pid", folder / "registry.log"
    text = render_config(address, folder / "storage", tls=(certs.cert, certs.key), htpasswd=htpasswd)
    changed = host.write_text(config, text, mode=0o600)
    if not (changed or rotated) and _answers(found):
        printer(f"sandbox: private registry https://{address} (htpasswd, the sandbox CA) answering")
        _trust_locally(found, printer)
        return found
    host.mkdir(folder / "storage", mode=0o700)
    if pidfile.is_file():
        host.run(cmd.stop_daemon(str(pidfile)), timeout=60)
    if port_taken(address):
        raise ShipyardError(f"{address} is taken by something shipyard did not start",
                            hint="free the port (another sandbox registry?), then run `invoke sandbox.up` again")
    binary = host.which(REGISTRY_BINARY) or f"/usr/bin/{REGISTRY_BINARY}"
    serve = cmd.registry_serve(binary, str(config))
    host.run(cmd.start_daemon(serve[0], serve[1:], pidfile=str(pidfile), logfile=str(log)))
    deadline = time.monotonic() + wait
    while not _answers(found):
        if time.monotonic() > deadline:
            raise ShipyardError(f"the sandbox's private registry did not answer on {address} within {wait:g}s",
                                hint=f"read {log}")
        time.sleep(0.2)
    printer(f"sandbox: private registry https://{address} started (htpasswd user {USER}, password in {secret})")
    _trust_locally(found, printer)
    return found


def state_folder(address: str) -> Path:
    """The registry's config, data, pid file and log, in the test bed's state (one folder per port)."""
    from shipyard.testbed.settings import Settings

    return Settings().state_dir / f"sandbox-registry-{address.rpartition(':')[2]}"


def _answers(registry: PrivateRegistry) -> bool:
    try:
        with registry.client() as client:
            return client.check() == "registry/2.0"
    except RegistryError:
        return False


def ca_file(address: str) -> str:
    """Where a Docker engine looks for the CA of the registry at `address`."""
    return f"{CERTS_D}/{address}/ca.crt"


def _trust_locally(registry: PrivateRegistry, printer: Callable[[str], None]) -> None:
    """This machine's engine trusts the sandbox CA for the registry (as every VM's does)."""
    target = Path(ca_file(registry.address))
    pem = registry.ca.read_text(encoding="utf-8")
    try:
        if not target.is_file() or target.read_text(encoding="utf-8") != pem:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pem, encoding="utf-8")
    except OSError as exc:
        printer(f"sandbox: warning: cannot write {target} ({exc.strerror}); this machine's Docker engine will not"
                " verify the private registry's certificate (it treats 127.0.0.1 as insecure anyway)")


def install_ca(host: Host, vm_name: str, registry: PrivateRegistry) -> None:
    """Install the CA into a VM's Docker engine (root, through `docker exec`, as cloud-init does on a droplet)."""
    target = ca_file(registry.address)
    host.run(["docker", "exec", "-i", vm_name, "sh", "-c",
                'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod 644 "$1"', "install-ca", target],
               input=registry.ca.read_text(encoding="utf-8"), timeout=60)

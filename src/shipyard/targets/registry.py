"""A project's registry for a run: its credentials (by reference), its API client, and `docker login` here and
on hosts into a per-project Docker config directory. The password travels on stdin only.

    locally  ~/.config/shipyard/docker/<project>/config.json   (directory mode 700; `docker --config DIR push`)
    on hosts /var/lib/shipyard/<project>/docker/config.json    (directory mode 700, owned by the SSH user)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.commands import docker as docker_cmd
from shipyard.config.loader import Config
from shipyard.config.schema import Registry
from shipyard.errors import ShipyardError
from shipyard.run.base import Runner
from shipyard.run.redact import REDACTOR
from shipyard.run.registry import Credentials, RegistryClient


def credentials(config: Config, registry: Registry, *,
                environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The registry's user and password (resolved from its secret), or None for an anonymous registry."""
    if registry.username is None or registry.password is None:
        return None
    from shipyard.config.secrets import resolve

    secret = resolve(config, [registry.password], environ=environ)[registry.password]
    return Credentials(registry.username, secret, secret_name=registry.password)


def ca_path(config: Config, registry: Registry) -> Path | None:
    """registry.ca, relative paths from shipyard.yaml's folder."""
    if registry.ca is None:
        return None
    path = Path(registry.ca).expanduser()
    return path if path.is_absolute() else config.root / path


def client(config: Config, registry: Registry, creds: Credentials | None) -> RegistryClient:
    return RegistryClient(registry.address, credentials=creds, ca=ca_path(config, registry),
                          insecure=registry.insecure)


def local_docker_config(project: str, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "shipyard" / "docker" / project


def login_local(runner: Runner, registry: Registry, creds: Credentials, folder: Path,
                say: Callable[[str], None] = print) -> None:
    """`docker --config FOLDER login --password-stdin` on this machine (FOLDER made mode 700)."""
    say(f"registry {registry.address}: {'would log in' if runner.dry_run else 'logging in'} as {creds.username}")
    if not runner.dry_run:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    result = runner.run(docker_cmd.login(registry.address, creds.username, str(folder)),
                        input=creds.password.reveal() + "\n", timeout=120, check=False)
    if not result.ok:
        raise ShipyardError(f"docker login to {registry.address} as {creds.username} failed on this machine: "
                            f"{_last_line(result.stderr or result.stdout)}",
                            hint=f"check that this machine's Docker engine trusts the registry"
                                 f" (/etc/docker/certs.d/{registry.address}/ca.crt)")


@dataclass(frozen=True)
class HostLogin:
    """What a host needs to log in before it pulls: the password is fetched only when a pull happens."""

    address: str
    username: str
    config_dir: str
    password: Callable[[], str]

    def __repr__(self) -> str:
        return f"HostLogin({self.address!r}, {self.username!r}, {self.config_dir!r})"


def login_host(runner: Runner, login: HostLogin) -> str | None:
    """Log a host in (directory mode 700 first); None when it worked, else the one-line reason."""
    made = runner.run(["install", "-d", "-m", "700", login.config_dir], timeout=30, check=False)
    if not made.ok:
        return f"cannot create {login.config_dir}: {_last_line(made.stderr)}"
    result = runner.run(docker_cmd.login(login.address, login.username, login.config_dir),
                        input=login.password() + "\n", timeout=120, check=False)
    if result.ok:
        return None
    return f"docker login to {login.address} as {login.username} failed: {_last_line(result.stderr or result.stdout)}"


def _last_line(text: str) -> str:
    lines = REDACTOR(text).strip().splitlines()
    return lines[-1] if lines else "no output"

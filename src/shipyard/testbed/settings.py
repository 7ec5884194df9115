"""Where the test bed keeps its state, cache and logs, and the choices a user can make (flags or env)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SUITE = "bookworm"
DEFAULT_CA_DIR = Path("/usr/local/share/ca-certificates")


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name) or default)


@dataclass(frozen=True)
class Settings:
    state_dir: Path = field(default_factory=lambda: _env_path("SHIPYARD_TESTBED_STATE", "/var/lib/shipyard/testbed"))
    cache_dir: Path = field(default_factory=lambda: _env_path("SHIPYARD_CACHE_DIR", "/var/cache/shipyard"))
    log_dir: Path = field(default_factory=lambda: _env_path("SHIPYARD_LOG_DIR", "/var/log/shipyard"))
    run_dir: Path = field(default_factory=lambda: _env_path("SHIPYARD_RUN_DIR", "/run/shipyard"))
    registry_addr: str = "127.0.0.1:5000"
    #: Extra CA certificates (*.crt) baked into every base image; None bakes none.
    ca_dir: Path | None = field(default_factory=lambda: _env_path("SHIPYARD_CA_DIR", str(DEFAULT_CA_DIR)))
    mirror: str = "http://deb.debian.org/debian"
    security_mirror: str = "http://deb.debian.org/debian-security"
    #: Try `docker pull` of the public Debian image before building one with debootstrap.
    try_public: bool = True
    pull_timeout: float = 20.0
    jobs: int = 3

    @property
    def dockerd_pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def dockerd_log(self) -> Path:
        return self.log_dir / "dockerd.log"

    @property
    def registry_dir(self) -> Path:
        return self.state_dir / "registry"

    @property
    def registry_config(self) -> Path:
        return self.registry_dir / "config.yml"

    @property
    def registry_storage(self) -> Path:
        return self.registry_dir / "storage"

    @property
    def registry_pidfile(self) -> Path:
        return self.run_dir / "registry.pid"

    @property
    def registry_log(self) -> Path:
        return self.log_dir / "registry.log"

    @property
    def ssh_key(self) -> Path:
        return self.state_dir / "ssh" / "id_ed25519"

    @property
    def vms_dir(self) -> Path:
        return self.state_dir / "vms"

    @property
    def build_dir(self) -> Path:
        return self.cache_dir / "build"

    @property
    def rootfs_dir(self) -> Path:
        return self.cache_dir / "rootfs"

    def ca_files(self) -> list[Path]:
        """The *.crt files under ca_dir (sorted), or none."""
        if self.ca_dir is None or not self.ca_dir.is_dir():
            return []
        return sorted(p for p in self.ca_dir.rglob("*.crt") if p.is_file())

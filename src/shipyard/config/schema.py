"""The typed model of shipyard.yaml. Pure data and validation; loading lives in loader.py."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipyard.config.workspace import WorkspaceConfig

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
SECRET_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# Numbers are strict everywhere: YAML `true` is not port 1, nor a retention of 1, nor a one-second timeout
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]


def is_host(value: str) -> bool:
    """True for an IPv4/IPv6 address or an RFC 1123 host name."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(HOSTNAME_RE.match(value)) and not value.replace(".", "").isdigit()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(value: str, what: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(f"{what} must be lowercase letters, digits and '-', starting with a letter")
    return value


def _check_names(value: dict[str, Any], what: str) -> dict[str, Any]:
    for name in value:
        _check_name(name, f"{what} '{name}'")
    return value


class Health(Strict):
    """HTTP paths probed inside the container network."""

    liveness: str = "/health"
    readiness: str = "/ready"

    @field_validator("liveness", "readiness")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute HTTP path starting with '/'")
        return value


class Service(Strict):
    """One deployable image built from the monorepo."""

    @field_validator("route")
    @classmethod
    def _route(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$", value):
            raise ValueError("must be a path prefix such as /api/v1 (starting with '/', no trailing '/')")
        return value

    context: str = "."
    dockerfile: str = "Dockerfile"
    port: Port
    health: Health = Health()
    package: str | None = None
    env: dict[str, str] = {}
    secrets: list[str] = []
    public: bool = False
    #: a path prefix on the proxy's public port routed to this service (the api's /api/v1, as the Ingress does);
    #: everything else goes to the public service
    route: str | None = None
    #: variables the service refuses to start without (config.check and deploy check each environment gives them)
    requires: list[str] = []
    #: on VMs: run once per deploy in a one-off container of the new image (schema migrations), before any host
    #: starts the new release; its failure aborts the deploy. Must stay compatible with the release still serving.
    #: A line `shipyard: schema-changed` on its stdout marks the release in the ledger (facts/release_command.py).
    release_command: str | None = None


class Registry(Strict):
    address: str
    namespace: str
    retain: Annotated[int, Field(ge=2, le=100, strict=True)] = 5
    insecure: bool = False
    #: who logs in (DOCR: a token as both name and password; GHCR: the GitHub user); none = anonymous
    username: str | None = None
    #: the name of a secret (under `secrets:`) holding the password or token, never the value itself
    password: str | None = None
    #: a PEM file of the CA that signed the registry's certificate (a private CA); HTTPS is then always used
    ca: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise ValueError("must be a non-empty user name without spaces")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        if value is not None and not SECRET_NAME_RE.match(value):
            raise ValueError("must name a secret of `secrets:` (UPPER_SNAKE_CASE), never the password itself")
        return value

    @field_validator("ca")
    @classmethod
    def _ca(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be the path of a PEM file")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> Registry:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password' (a secret's name), or neither (anonymous)")
        return self

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
        if not is_host(host) or (port and not port.isdigit()):
            raise ValueError("must be a registry host, optionally with :port (for example ghcr.io or 127.0.0.1:5000)")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]+([._/-][a-z0-9]+)*$", value):
            raise ValueError("must be a lowercase repository path such as acme or acme/shop")
        return value


class SecretRef(Strict):
    """Where a secret's value comes from. The value itself never appears in shipyard.yaml."""

    env: str | None = None
    file: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' (an environment variable) or 'file' (a path outside git)")
        return self


class Host(Strict):
    address: str
    port: Port | None = None
    name: str | None = None
    #: the address other hosts reach this one on (a droplet's VPC address); accessories publish on it
    private_address: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            address, port = value, None
            if value.count(":") == 1:
                address, _, raw = value.partition(":")
                if not raw.isdigit():
                    raise ValueError("not a host name or address (expected host or host:port)")
                port = int(raw)
            if not is_host(address):
                raise ValueError("not a host name or address")
            return {"address": address, "port": port}
        return value

    @field_validator("address", "private_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not is_host(value):
            raise ValueError("not a host name or address")
        return value

    @property
    def label(self) -> str:
        return self.name or (f"{self.address}:{self.port}" if self.port else self.address)


class SSH(Strict):
    user: str = "root"
    port: Port = 22
    key: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    connect_timeout: Annotated[float, Field(gt=0, le=300, strict=True)] = 10.0


class ProxyTLS(Strict):
    """HTTPS terminated by the proxy on the host (a single droplet with its own certificate)."""

    certificate: str  # the name of a secret holding the PEM certificate chain
    key: str  # the name of a secret holding the PEM private key
    https_port: Port = 443
    redirect: bool = True  # plain HTTP answers 301 to https
    hsts: bool = True  # Strict-Transport-Security on HTTPS answers


class Proxy(Strict):
    kind: Literal["haproxy"] = "haproxy"
    image: str = "haproxy:2.8"
    http_port: Port = 80
    bind: str = "0.0.0.0"  # noqa: S104 - a public entry point on a droplet is the point
    tls: ProxyTLS | None = None


class DeployPolicy(Strict):
    strategy: Literal["parallel", "rolling"] = "parallel"
    batch_size: Annotated[int, Field(ge=1, strict=True)] = 1
    health_timeout: Annotated[float, Field(gt=0, le=3600, strict=True)] = 60.0
    watch_window: Annotated[float, Field(ge=0, le=3600, strict=True)] = 10.0
    # Inside the watch window, the new colour's real traffic is judged too (HAProxy's response counters): more
    # than this share of 5xx answers or unanswered requests, over at least 20 requests, switches back.
    max_error_rate: Annotated[float, Field(ge=0, le=1, strict=True)] = 0.05
    # ... and their speed: an average response time above this many seconds (HAProxy's rtime, over at least 20
    # requests) switches back too. Off unless set: what is slow depends on the app.
    max_response_time: Annotated[float, Field(gt=0, le=600)] | None = None
    on_host_failure: Literal["abort", "continue"] = "abort"
    # What becomes of the previous release's colour after the watch window: removed; stopped (a rollback starts
    # it again: no pull, no new container); or kept running out of traffic as a standby, its health checks on (a
    # rollback to it is a switch in the proxy). Stopped and standby keep the container and its image on the host.
    previous_colour: Literal["remove", "stop", "standby"] = "remove"
    pre_cutover: dict[str, str] = {}
    require_approval: bool = False


class Accessory(Strict):
    """A long-lived supporting service on a VM environment's hosts (a database, a cache): never blue/green.

    It runs as `<project>-<name>` on the project network with the network alias `<name>`, so apps on its host
    reach it by name; with more than one host it also publishes `port` on its host's private address.
    """

    image: str
    host: str = "first"  # "first" (the environment's first host), "all", or a host's name/address
    port: Port
    env: dict[str, str] = {}
    secrets: list[str] = []
    volumes: dict[str, str] = {}  # volume name -> path in the container (named volumes, kept on remove)
    command: list[str] = []
    health: list[str] = []  # a command run in the container (exit 0 = healthy), e.g. [pg_isready, -U, app]

    @field_validator("volumes")
    @classmethod
    def _volumes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if not re.match(r"^[a-z0-9][a-z0-9_.-]*$", name):
                raise ValueError(f"volume name '{name}' must be lowercase letters, digits, '_', '.', '-'")
            if not path.startswith("/"):
                raise ValueError(f"volume '{name}': the path in the container must be absolute")
        return value


class Overrides(Strict):
    """Per-environment changes to the project's services and registry (deep-merged)."""

    services: dict[str, dict[str, Any]] = {}
    registry: dict[str, Any] = {}


class ComposeEnvironment(Strict):
    target: Literal["compose"]
    require_approval: bool = False  # every command that changes it needs --yes or CI's approval marker
    compose_files: list[str] = ["compose.yaml"]
    project_name: str | None = None
    # true: this environment runs release images (deploy, rollback and releases work here, with a local ledger)
    # instead of the working tree; its compose files must not bind-mount sources over the images
    releases: bool = False
    overrides: Overrides = Overrides()


class VmEnvironment(Strict):
    target: Literal["vm"]
    require_approval: bool = False  # (deploy.require_approval, its older place, is still honoured)
    hosts: Annotated[list[Host], Field(min_length=1)]
    ssh: SSH = SSH()
    proxy: Proxy = Proxy()
    deploy: DeployPolicy = DeployPolicy()
    accessories: dict[str, Accessory] = {}
    overrides: Overrides = Overrides()

    @model_validator(mode="after")
    def _unique_hosts(self) -> VmEnvironment:
        seen: set[tuple[str, int]] = set()
        for host in self.hosts:
            key = (host.address, host.port or self.ssh.port)
            if key in seen:
                raise ValueError(f"host {host.label} is listed twice")
            seen.add(key)
        return self

    @field_validator("accessories")
    @classmethod
    def _accessory_names(cls, value: dict[str, Accessory]) -> dict[str, Accessory]:
        return _check_names(value, "accessory name")

    @model_validator(mode="after")
    def _accessory_hosts(self) -> VmEnvironment:
        labels = {h.label for h in self.hosts} | {h.address for h in self.hosts}
        for name, accessory in self.accessories.items():
            if accessory.host not in ("first", "all") and accessory.host not in labels:
                raise ValueError(f"accessory '{name}': host '{accessory.host}' is not one of this environment's"
                                 " hosts (or 'first', 'all')")
            placed = self.hosts[0] if accessory.host == "first" else next(
                (h for h in self.hosts if accessory.host in (h.label, h.address)), None)
            if len(self.hosts) > 1 and placed is not None and placed.private_address is None:
                raise ValueError(f"accessory '{name}': its host {placed.label} needs a private_address (the"
                                 " address the other hosts reach it on, never a public one)")
        return self


class KubernetesEnvironment(Strict):
    target: Literal["kubernetes"]
    require_approval: bool = False  # production: also refused unless `context` is the current kube context
    context: str
    namespace: str = "default"
    overlay: str | None = None
    chart: str | None = None
    values: list[str] = []
    release: str | None = None
    overrides: Overrides = Overrides()

    @model_validator(mode="after")
    def _one_renderer(self) -> KubernetesEnvironment:
        if (self.overlay is None) == (self.chart is None):
            raise ValueError("give exactly one of 'overlay' (a Kustomize directory) or 'chart' (a Helm chart)")
        if self.values and self.chart is None:
            raise ValueError("'values' files only apply with 'chart'")
        return self


Environment = Annotated[
    ComposeEnvironment | VmEnvironment | KubernetesEnvironment, Field(discriminator="target")
]


PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")


class Build(Strict):
    """How release images are built (docker.build and deploy build the same way)."""

    # build args for every Dockerfile that declares them; .env/the environment and --build-arg override them
    args: dict[str, str] = {}
    # the image platform: droplets run linux/amd64; an image of another architecture is refused after the build
    platform: str = "linux/amd64"

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if not PLATFORM_RE.match(value):
            raise ValueError("must be os/architecture[/variant], for example linux/amd64 or linux/arm64")
        return value

    @field_validator("args")
    @classmethod
    def _args(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise ValueError(f"build arg name '{name}' must be a Dockerfile ARG name (letters, digits, _)")
        return value


class ProjectConfig(Strict):
    """The whole of shipyard.yaml."""

    project: str
    registry: Registry
    services: Annotated[dict[str, Service], Field(min_length=1)]
    secrets: dict[str, SecretRef] = {}
    environments: dict[str, Environment] = {}
    workspace: WorkspaceConfig = WorkspaceConfig()
    build: Build = Build()

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return _check_name(value, "project name")

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, Service]) -> dict[str, Service]:
        return _check_names(value, "service name")

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretRef]) -> dict[str, SecretRef]:
        for name in value:
            if not SECRET_NAME_RE.match(name):
                raise ValueError(f"secret name '{name}' must be UPPER_SNAKE_CASE")
        return value

    @field_validator("environments")
    @classmethod
    def _env_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_names(value, "environment name")

"""A `target: vm` environment resolved for a run: its hosts' runners, services, images and proxy backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.commands.haproxy import Backend, Tls
from shipyard.commands.layout import Colour, HostLayout
from shipyard.config.loader import Config
from shipyard.config.schema import VmEnvironment
from shipyard.errors import ShipyardError
from shipyard.plans.bluegreen import Desired
from shipyard.run.base import Runner
from shipyard.targets.shipping import Shipping

if TYPE_CHECKING:
    from shipyard.targets.registry import HostLogin


@dataclass(frozen=True, kw_only=True)
class Target(Shipping):
    """The registry side (Shipping: images, credentials, the registry client) plus the hosts and their proxy."""

    env: VmEnvironment
    secrets: dict[str, list[str]] = field(default_factory=dict)
    _pool: dict[str, Runner] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: Config, env_name: str) -> Target:
        env = config.environment(env_name)
        if not isinstance(env, VmEnvironment):
            raise ShipyardError(f"environment '{env_name}' has target {env.target}; deploy.* drives `target: vm`",
                                hint="use docker.* for compose, k8s.* for kubernetes")
        services = config.services(env_name)
        return cls(env_name=env_name, env=env, project=config.project.project, services=services,
                   registry=config.registry(env_name),
                   secrets={name: list(s.secrets) for name, s in services.items()}, config=config)

    @property
    def layout(self) -> HostLayout:
        return HostLayout(self.project)

    @property
    def public(self) -> str | None:
        public = [name for name, s in self.services.items() if s.public]
        if len(public) > 1:
            raise ShipyardError(f"environment '{self.env_name}': more than one public service ({', '.join(public)});"
                                " the proxy routes its public port to one service",
                                hint="set public: true on one service only")
        if public:
            return public[0]
        return next(iter(self.services)) if len(self.services) == 1 else None

    @property
    def tls(self) -> Tls | None:
        tls = self.env.proxy.tls
        return Tls(redirect=tls.redirect, hsts=tls.hsts) if tls is not None else None

    def host_login(self) -> HostLogin | None:
        """How hosts log in before a pull (None: an anonymous registry). The password is resolved lazily."""
        if self.registry.username is None:
            return None
        from shipyard.targets.registry import HostLogin

        def password() -> str:
            creds = self.registry_credentials()
            assert creds is not None
            return creds.password.reveal()

        return HostLogin(self.registry.address, self.registry.username, self.layout.docker_config, password)

    @property
    def docker_config(self) -> str | None:
        """The Docker config hosts pull with (the login's), None for an anonymous registry."""
        return self.layout.docker_config if self.registry.username is not None else None

    def backends(self, live: dict[str, Colour | None]) -> tuple[Backend, ...]:
        return tuple(Backend(name, s.port, s.health.readiness, live.get(name), s.route)
                     for name, s in sorted(self.services.items()))

    def desired(self, images: dict[str, str], release: str, *, hooks: bool) -> list[Desired]:
        public = self.public
        return [Desired(service=name, image=images[name], release=release, port=self.services[name].port,
                        readiness=self.services[name].health.readiness, public=name == public,
                        hook=self.env.deploy.pre_cutover.get(name) if hooks else None,
                        release_command=self.services[name].release_command if hooks else None)
                for name in sorted(images)]

    def host_names(self) -> list[str]:
        return [h.label for h in self.env.hosts]

    def runners(self, *, dry_run: bool = False) -> list[Runner]:
        from shipyard.run import DryRunRunner, SSHRunner

        """One runner per host. SSH runners are shared for the life of the Target: a connection opened to read
        the ledger is reused by the deploy that follows (closing one only means the next command reconnects)."""
        out: list[Runner] = []
        ssh = self.env.ssh
        for host in self.env.hosts:
            if dry_run:
                out.append(DryRunRunner(host=host.label))
                continue
            if host.label not in self._pool:
                self._pool[host.label] = SSHRunner(host.address, port=host.port or ssh.port, user=ssh.user,
                                                   key=ssh.key, known_hosts=ssh.known_hosts,
                                                   connect_timeout=ssh.connect_timeout, name=host.label)
            out.append(self._pool[host.label])
        return out

"""The registry side of an environment, the same for every target: where its release images live, under which
names, and how to reach the registry (credentials resolved on first use, one API client per run).

`targets.images.ensure` (build what is missing, push, record digests) takes one of these, so a VM deploy and a
Kubernetes deploy ship a release the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard import imageref
from shipyard.config.loader import Config
from shipyard.config.schema import Registry, Service

if TYPE_CHECKING:
    from shipyard.run.registry import Credentials, RegistryClient


@dataclass(frozen=True, kw_only=True)
class Shipping:
    env_name: str
    project: str
    services: dict[str, Service]
    registry: Registry
    #: the loaded config, for what is resolved only when needed (the registry's password)
    config: Config | None = field(default=None, compare=False, repr=False)
    _registry: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_environment(cls, config: Config, env_name: str) -> Shipping:
        return cls(env_name=env_name, project=config.project.project, services=config.services(env_name),
                   registry=config.registry(env_name), config=config)

    def registry_credentials(self) -> Credentials | None:
        if "credentials" not in self._registry:
            from shipyard.targets import registry as reg

            found = None if self.config is None else reg.credentials(self.config, self.registry)
            self._registry["credentials"] = found
        creds: Credentials | None = self._registry["credentials"]
        return creds

    def registry_client(self) -> RegistryClient:
        if "client" not in self._registry:
            from shipyard.run.registry import RegistryClient
            from shipyard.targets import registry as reg

            creds = self.registry_credentials()
            self._registry["client"] = (reg.client(self.config, self.registry, creds) if self.config is not None
                                        else RegistryClient(self.registry.address, insecure=self.registry.insecure))
        client: RegistryClient = self._registry["client"]
        return client

    def repository(self, service: str) -> str:
        return imageref.path(self.registry.namespace, service)

    def image(self, service: str, tag: str) -> str:
        return imageref.image(self.registry.address, self.registry.namespace, service, tag)

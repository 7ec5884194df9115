"""The `sandbox` environment that `sandbox.up` generates, merged into the loaded configuration.

It lives in .shipyard/sandbox.yaml next to shipyard.yaml (generated state, never committed), so shipyard.yaml
stays untouched. Every deploy task loads its configuration through `with_sandbox`, so `--env sandbox` works
like any environment written by hand. A hand-written `sandbox` environment in shipyard.yaml is left alone
unless the generated file exists, which then wins: its hosts and ports change on every `sandbox.up`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shipyard.config.loader import Config
from shipyard.config.schema import Registry, VmEnvironment
from shipyard.errors import ShipyardError

NAME = "sandbox"
STATE_DIR = ".shipyard"


def env_file(root: Path) -> Path:
    return root / STATE_DIR / "sandbox.yaml"


def state_file(root: Path) -> Path:
    return root / STATE_DIR / "sandbox.json"


def with_sandbox(config: Config) -> Config:
    path = env_file(config.root)
    if not path.is_file():
        return config
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        env = VmEnvironment.model_validate(raw)
        registry = Registry.model_validate({**config.project.registry.model_dump(), **env.overrides.registry})
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise ShipyardError(f"{path}: the generated sandbox environment is invalid ({first})",
                            hint="run `invoke sandbox.up` again to regenerate it") from None
    from shipyard.config.schema import SecretRef
    from shipyard.sandbox import registry as private
    from shipyard.sandbox import tls

    certs = tls.folder(config.project.project)
    secrets = {**config.project.secrets,  # the sandbox proxy's certificate, made by sandbox.up outside the repo
               tls.CERT_SECRET: SecretRef(file=str(certs / "cert.pem"), description="sandbox proxy certificate"),
               tls.KEY_SECRET: SecretRef(file=str(certs / "key.pem"), description="sandbox proxy key"),
               # the private registry's password, made by sandbox.up (mode 600)
               private.PASSWORD_SECRET: SecretRef(file=str(private.password_file(config.project.project)),
                                                  description="sandbox registry password")}
    project = config.project.model_copy(update={"environments": {**config.project.environments, NAME: env},
                                                "secrets": secrets})
    return Config(project=project, path=config.path,
                  env_services={**config.env_services, NAME: dict(config.project.services)},
                  env_registry={**config.env_registry, NAME: registry})

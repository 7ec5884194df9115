"""What the containers of a VM environment are given: env files of services and accessories, checked up front.

A deploy calls `env_files` before it builds or pushes anything, so a missing secret, a variable a service
requires but no one provides, or a reference to an accessory that the environment lacks stops it in a second.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.config.loader import Config
from shipyard.config.schema import Accessory, Service, VmEnvironment
from shipyard.config.secrets import resolve
from shipyard.errors import ShipyardError
from shipyard.targets.vm.accessories import env_text, resolve_refs


def missing_required(services: Mapping[str, Service], env_name: str) -> list[str]:
    """One line per service whose `requires` are not all given by its env or secrets in this environment."""
    out = []
    for name, service in sorted(services.items()):
        given = set(service.env) | set(service.secrets)
        missing = [var for var in service.requires if var not in given]
        if missing:
            out.append(f"environment '{env_name}': service {name} requires {', '.join(missing)}, which neither its"
                       " env nor its secrets provide")
    return out


def environment_problems(config: Config) -> list[str]:
    """What a VM environment lacks for its services, found without resolving a secret (for config.check)."""
    from shipyard.targets.vm.accessories import references

    problems = []
    for env_name, env in config.project.environments.items():
        if not isinstance(env, VmEnvironment):
            continue
        services = config.services(env_name)
        problems += missing_required(services, env_name)
        tls = env.proxy.tls
        problems += [f"environment '{env_name}': proxy.tls names secret {name}, which is not declared under"
                     " secrets" for name in ([tls.certificate, tls.key] if tls else [])
                     if name not in config.project.secrets]
        for name, service in sorted(services.items()):
            for key, value in sorted(service.env.items()):
                problems += [f"environment '{env_name}': service {name} {key} refers to accessory '{ref}', which"
                             " the environment does not define" for ref, _ in references(value)
                             if ref not in env.accessories]
    return problems


def _values(config: Config, env: VmEnvironment, env_name: str, plain: Mapping[str, str],
            secrets: list[str]) -> dict[str, str]:
    values = resolve_refs(plain, env, env_name)
    for name, secret in resolve(config, secrets).items():
        values[name] = secret.reveal()
    return values


def env_files(config: Config, env_name: str, env: VmEnvironment,
              services: Mapping[str, Service]) -> tuple[dict[str, str], dict[str, str]]:
    """(service -> env file text, accessory -> env file text); entries with nothing to say are left out."""
    problems = missing_required(services, env_name)
    if problems:
        raise ShipyardError(problems[0], hint=f"set it under the service's env (or environments.{env_name}."
                                              "overrides.services), or declare it as a secret")
    def files(kind: str, specs: Mapping[str, Service | Accessory]) -> dict[str, str]:
        out = {}
        for name, spec in sorted(specs.items()):
            try:
                values = _values(config, env, env_name, spec.env, list(spec.secrets))
            except ShipyardError as exc:
                raise ShipyardError(f"{kind} {name}: {exc.message}", hint=exc.hint) from None
            if values:
                out[name] = env_text(values)
        return out

    return files("service", services), files("accessory", env.accessories)


def tls_pem(config: Config, env: VmEnvironment) -> str | None:
    """The proxy's certificate chain and key, from their secrets, as one PEM (None without proxy.tls)."""
    tls = env.proxy.tls
    if tls is None:
        return None
    found = resolve(config, [tls.certificate, tls.key])
    cert, key = found[tls.certificate].reveal().strip(), found[tls.key].reveal().strip()
    if "BEGIN CERTIFICATE" not in cert or "PRIVATE KEY" not in key:
        raise ShipyardError(f"proxy.tls: secret {tls.certificate} must hold a PEM certificate (chain) and"
                            f" {tls.key} a PEM private key")
    return f"{cert}\n{key}\n"

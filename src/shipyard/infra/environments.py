"""Terraform environments (terraform/environments/<env>) and the hosts they hand to shipyard.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError

ENVIRONMENTS_DIR = Path("terraform") / "environments"
HOSTS_OUTPUT = "shipyard_hosts"
USER_OUTPUT = "deploy_user"
PRIVATE_OUTPUT = "private_hosts"
FORMATS = ("yaml", "json", "lines")


def environments(root: Path) -> list[str]:
    base = root / ENVIRONMENTS_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("*.tf")))


def env_dir(root: Path, env: str) -> Path:
    """terraform/environments/<env>, or a one-line error naming the environments that exist."""
    path = root / ENVIRONMENTS_DIR / env
    if not path.is_dir() or not any(path.glob("*.tf")):
        known = ", ".join(environments(root)) or "none"
        raise ShipyardError(f"no Terraform environment '{env}' in {ENVIRONMENTS_DIR} (environments: {known})",
                            hint="pass --env with one of them")
    return path


def output_value(stdout: str, name: str) -> Any:
    """The value from `terraform output -json NAME`, or from a saved `terraform output -json` document."""
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise ShipyardError(f"terraform output {name}: not JSON",
                            hint=f"run `terraform output -json {name}` in the environment to see why") from None
    if isinstance(data, dict) and name in data and isinstance(data[name], dict) and "value" in data[name]:
        return data[name]["value"]
    if isinstance(data, dict) and "value" in data and "type" in data:
        return data["value"]
    if isinstance(data, dict):
        known = ", ".join(sorted(data)) or "none"
        raise ShipyardError(f"terraform output has no '{name}' (outputs: {known})",
                            hint="run `invoke infra.apply` first, or check the environment's outputs.tf")
    return data


def parse_hosts(stdout: str, name: str = HOSTS_OUTPUT) -> list[str]:
    """The host list Terraform produced, validated as addresses or host names."""
    from shipyard.config.schema import is_host

    value = output_value(stdout, name)
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise ShipyardError(f"terraform output {name} must be a list of addresses, got {type(value).__name__}")
    if not value:
        raise ShipyardError(f"terraform output {name} is empty: the environment has no droplets yet",
                            hint="run `invoke infra.plan` and `invoke infra.apply` for it")
    bad = [h for h in value if not is_host(h)]
    if bad:
        raise ShipyardError(f"terraform output {name}: not a host name or address: {bad[0]}")
    return value


def parse_private(stdout: str, hosts: list[str]) -> list[str] | None:
    """The droplets' VPC addresses in the order of `hosts`, when the output has them (older states do not)."""
    try:
        value = output_value(stdout, PRIVATE_OUTPUT)
    except ShipyardError:
        return None
    if isinstance(value, list) and len(value) == len(hosts) and all(isinstance(v, str) and v for v in value):
        return value
    return None


def render_hosts(env: str, hosts: list[str], user: str | None, fmt: str,
                 private: list[str] | None = None) -> str:
    """The hosts as a shipyard.yaml snippet (yaml), a JSON list (json) or one per line (lines).

    With `private` (VPC addresses, one per host), the yaml gives each host its private_address: accessories
    publish there for the other hosts."""
    if fmt == "json":
        return json.dumps(hosts)
    if fmt == "lines":
        return "\n".join(hosts)
    if fmt != "yaml":
        raise ShipyardError(f"unknown format '{fmt}' (formats: {', '.join(FORMATS)})")
    lines = [f"# from terraform/environments/{env} (invoke infra.hosts --env {env}); paste into shipyard.yaml",
             "environments:", f"  {env}:", "    target: vm", "    hosts:"]
    if private:
        lines += [f"      - {{address: {host}, private_address: {vpc}}}"
                  for host, vpc in zip(hosts, private, strict=True)]
    else:
        lines += [f"      - {host}" for host in hosts]
    if user:
        lines += ["    ssh:", f"      user: {user}"]
    return "\n".join(lines)

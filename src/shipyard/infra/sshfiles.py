"""Materialise a vm environment's SSH key and known_hosts entries from environment variables (CI secrets).

Host key checking stays on: the known_hosts entries must come from a secret that was filled from a checked
fingerprint (`ssh-keyscan`, verified out of band), never from a scan at deploy time. The key's value is
registered with the redactor and never printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipyard.config.loader import Config
from shipyard.config.schema import VmEnvironment
from shipyard.errors import ShipyardError
from shipyard.util.private import write_private

KEY_VAR = "SHIPYARD_SSH_KEY"
KNOWN_HOSTS_VAR = "SHIPYARD_KNOWN_HOSTS"
KEY_TYPES = ("ssh-", "ecdsa-", "sk-")


def known_hosts_lines(text: str) -> list[str]:
    """Validated known_hosts entries (`host[,host] keytype base64`, hashed or not, @cert-authority allowed)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0].startswith("@"):
            fields = fields[1:]
        if len(fields) < 3 or not fields[1].startswith(KEY_TYPES):
            raise ShipyardError(f"${KNOWN_HOSTS_VAR} line {number} is not a known_hosts entry "
                                "(expected: host keytype key)", hint="fill it from `ssh-keyscan -H HOST` output "
                                "after checking the fingerprint")
        out.append(line)
    if not out:
        raise ShipyardError(f"${KNOWN_HOSTS_VAR} holds no known_hosts entry",
                            hint="fill it from `ssh-keyscan HOST` output after checking the fingerprint")
    return out


def install(config: Config, env: str, environ: Mapping[str, str], *, force: bool = False,
            dry_run: bool = False) -> list[str]:
    """Write ssh.key and append missing entries to ssh.known_hosts; return what was done, one line each."""
    from shipyard.run.redact import REDACTOR

    environment = config.environment(env)
    if not isinstance(environment, VmEnvironment):
        raise ShipyardError(f"environment {env} is not a vm environment: it has no SSH settings")
    if environment.ssh.key is None:
        raise ShipyardError(f"environments.{env}.ssh.key is not set in {config.path.name}",
                            hint="set it to the path the deploy key should live at, e.g. ~/.ssh/shipyard_" + env)
    key = environ.get(KEY_VAR, "")
    if not key.strip():
        raise ShipyardError(f"${KEY_VAR} is not set", hint="pass the deploy key's private half from a CI secret")
    REDACTOR.add(key.strip())
    entries = known_hosts_lines(environ.get(KNOWN_HOSTS_VAR, ""))
    key_path = Path(environment.ssh.key).expanduser()
    hosts_path = Path(environment.ssh.known_hosts).expanduser()
    body = key.strip() + "\n"
    existing = key_path.read_text(encoding="utf-8") if key_path.is_file() else None
    if existing is not None and existing != body and not force:
        raise ShipyardError(f"{key_path} exists and holds a different key; refusing to replace it",
                            hint="pass --force to replace it")
    known = set(hosts_path.read_text(encoding="utf-8").splitlines()) if hosts_path.is_file() else set()
    new = [line for line in entries if line not in known]
    prefix = "would write" if dry_run else "wrote"
    done = [f"{prefix} deploy key for {env} to {key_path} (mode 0600)",
            f"{'would add' if dry_run else 'added'} {len(new)} known_hosts entr{'y' if len(new) == 1 else 'ies'} "
            f"to {hosts_path} ({len(entries) - len(new)} already there)"]
    if dry_run:
        return done
    write_private(key_path, body)
    if new:
        current = hosts_path.read_text(encoding="utf-8") if hosts_path.is_file() else ""
        sep = "" if not current or current.endswith("\n") else "\n"
        write_private(hosts_path, current + sep + "\n".join(new) + "\n")
    return done

"""Pure helpers for SSH test hosts: known_hosts lines, `docker port` output, VM listings, names."""

from __future__ import annotations

import re

from shipyard.errors import ShipyardError

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_PORT_LINE = re.compile(r"^(?:0\.0\.0\.0|127\.0\.0\.1|\[?::\]?|\[?::1\]?):(\d+)$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ShipyardError(f"VM name {name!r} is not a valid container name",
                            hint="use letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


def host_key_entry(public_key: str) -> tuple[str, str]:
    """('ssh-ed25519', 'AAAA...') from the contents of an ssh_host_*_key.pub file."""
    parts = public_key.split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise ShipyardError(f"not an SSH public key: {public_key[:40]!r}")
    return parts[0], parts[1]


def known_hosts_line(address: str, port: int, public_key: str) -> str:
    """The line OpenSSH and paramiko expect for this host: `[addr]:port type key` unless the port is 22."""
    key_type, key = host_key_entry(public_key)
    target = address if port == 22 else f"[{address}]:{port}"
    return f"{target} {key_type} {key}\n"


def parse_docker_port(output: str) -> int:
    """The host port from `docker port NAME 22/tcp` (which may list an IPv4 and an IPv6 line)."""
    for line in output.split():
        match = _PORT_LINE.match(line.strip())
        if match:
            return int(match.group(1))
    raise ShipyardError(f"no published port in `docker port` output: {output.strip()!r}")


def parse_vm_rows(output: str) -> list[tuple[str, str, str]]:
    """(name, state, ports) rows from `docker ps --format '{{.Names}}\\t{{.State}}\\t{{.Ports}}'`."""
    rows = []
    for line in output.splitlines():
        if not line.strip():
            continue
        name, _, rest = line.partition("\t")
        state, _, ports = rest.partition("\t")
        rows.append((name, state, ports))
    return sorted(rows)

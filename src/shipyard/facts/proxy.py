"""What the proxy says: runtime server states (`show servers state`) and the live colours in haproxy.cfg. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from shipyard.commands.haproxy import HEALTH_FULL
from shipyard.commands.layout import COLOURS, Colour

# srv_admin_state bits (HAProxy's SRV_ADMF_*). CMAINT only remembers that the config said `disabled`.
FMAINT, IMAINT, CMAINT, FDRAIN, IDRAIN, RMAINT, HMAINT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
MAINT_BITS = FMAINT | IMAINT | RMAINT | HMAINT
DRAIN_BITS = FDRAIN | IDRAIN
OP_RUNNING = 2

Admin = Literal["ready", "drain", "maint"]


@dataclass(frozen=True)
class ServerState:
    backend: str
    server: str
    address: str | None
    port: int | None
    op_running: bool
    admin_bits: int
    check_health: int  # HAProxy's health counter: 0 .. rise + fall - 1

    @property
    def admin(self) -> Admin:
        if self.admin_bits & MAINT_BITS:
            return "maint"
        if self.admin_bits & DRAIN_BITS:
            return "drain"
        return "ready"

    @property
    def healthy(self) -> bool:
        """Up, with its health counter full: its last checks passed, none failed since. Not the check result alone:
        a check in progress shows "unknown" there, and leaving maintenance shows the result from before any new
        check (with the counter at `rise`, not full)."""
        return self.op_running and self.check_health == HEALTH_FULL

    @property
    def serving(self) -> bool:
        """Takes new requests right now."""
        return self.admin == "ready" and self.op_running


def parse_servers_state(text: str) -> dict[tuple[str, str], ServerState]:
    """Parse `show servers state [backend]` (format version 1)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {}
    if lines[0].strip() != "1":
        raise ValueError(f"unexpected servers-state format: {lines[0][:40]!r}")
    header: list[str] = []
    out: dict[tuple[str, str], ServerState] = {}
    for line in lines[1:]:
        if line.startswith("#"):
            header = line.lstrip("# ").split()
            continue
        fields = line.split()
        if not header or len(fields) < len(header):
            raise ValueError(f"malformed servers-state line: {line[:80]!r}")
        row = dict(zip(header, fields, strict=False))
        address = row["srv_addr"]
        port = row.get("srv_port", "0")
        state = ServerState(
            backend=row["be_name"], server=row["srv_name"],
            address=None if address in {"-", "0.0.0.0"} else address,  # noqa: S104 - a parsed value
            port=int(port) if port.isdigit() and port != "0" else None,
            op_running=int(row["srv_op_state"]) == OP_RUNNING,
            admin_bits=int(row["srv_admin_state"]),
            check_health=_health(row.get("srv_check_health", ""), line),
        )
        out[(state.backend, state.server)] = state
    return out


def _health(value: str, line: str) -> int:
    if not value.isdigit():
        raise ValueError(f"servers-state line without a health counter: {line[:80]!r}")
    return int(value)


def colours(states: dict[tuple[str, str], ServerState], service: str) -> dict[Colour, ServerState]:
    return {c: states[(service, c)] for c in COLOURS if (service, c) in states}


_BACKEND = re.compile(r"^backend\s+(\S+)")
_SERVER = re.compile(r"^\s+server\s+(blue|green)\s+\S+(.*)$")


def parse_config_live(text: str) -> dict[str, Colour | None]:
    """Backend -> the colour the rendered config enables (None when both are disabled)."""
    live: dict[str, Colour | None] = {}
    backend: str | None = None
    for line in text.splitlines():
        if match := _BACKEND.match(line):
            backend = match.group(1)
            live.setdefault(backend, None)
        elif backend and (match := _SERVER.match(line)) and "disabled" not in match.group(2).split():
            live[backend] = cast(Colour, match.group(1))
        elif line and not line[0].isspace() and not line.startswith("#"):
            backend = None
    return live


@dataclass(frozen=True)
class Counters:
    """One server's response counters since HAProxy started (`show stat`): what its real traffic got."""

    responses: int  # HTTP responses of any class, plus responses that never came (errors below)
    failed: int  # 5xx answers, plus requests the server never answered (eresp: reset, timeout)
    rtime_ms: int = 0  # average response time over the server's last 1024 answers (HAProxy's rtime)


def parse_stat(text: str) -> dict[tuple[str, str], Counters]:
    """Parse `show stat` CSV: (backend, server) -> counters, for server rows only (not FRONTEND/BACKEND)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        if not lines:
            return {}
        raise ValueError(f"unexpected `show stat` output: {lines[0][:40]!r}")
    header = lines[0][2:].split(",")
    try:
        px, sv = header.index("pxname"), header.index("svname")
        classes = [header.index(f"hrsp_{n}xx") for n in range(1, 6)]
        eresp = header.index("eresp")
        rtime = header.index("rtime")
    except ValueError as exc:
        raise ValueError(f"`show stat` lacks a column: {exc}") from None

    def number(fields: list[str], index: int) -> int:
        value = fields[index] if index < len(fields) else ""
        return int(value) if value.isdigit() else 0

    out: dict[tuple[str, str], Counters] = {}
    for line in lines[1:]:
        fields = line.split(",")
        if len(fields) <= max(px, sv) or fields[sv] in ("FRONTEND", "BACKEND"):
            continue
        answered = sum(number(fields, i) for i in classes)
        errors = number(fields, eresp)
        out[(fields[px], fields[sv])] = Counters(answered + errors, number(fields, classes[4]) + errors,
                                                 number(fields, rtime))
    return out


def proxy_differs(state: dict[str, object], *, image: str, publish: str, https_port: int | None, group: str,
                  network: str, aliases: Sequence[str]) -> list[str]:
    """What of the running proxy container (`commands.proxy.inspect`'s object) differs from the wanted one; empty:
    it matches. Its network aliases must include every service (one added after setup is reached through it);
    Docker's own extra aliases are fine."""
    ports = cast(dict[str, list[dict[str, str]]], state.get("ports") or {})
    bound = (ports.get("80/tcp") or [{}])[0]
    host_ip, host_port = bound.get("HostIp", ""), bound.get("HostPort", "")
    https = (ports.get("443/tcp") or [{}])[0].get("HostPort", "")
    networks = cast(dict[str, dict[str, list[str] | None]], state.get("networks") or {})
    has = set((networks.get(network) or {}).get("Aliases") or [])
    differs = []
    if state.get("image") != image:
        differs.append("image")
    if not publish.startswith(f"{host_ip}:{host_port}" if ":" not in host_ip else f"[{host_ip}]:{host_port}") \
            or https != (str(https_port) if https_port else ""):
        differs.append("ports")
    if (state.get("groups") or []) != [group]:
        differs.append("group")
    if missing := sorted(set(aliases) - has):
        differs.append(f"no network alias for {', '.join(missing)}")
    return differs


def split_state_and_stat(text: str) -> tuple[str, str]:
    """The answer of one batch `show servers state; show stat` as its two parts (the stat CSV starts at its
    `# pxname` header line)."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("# pxname")), len(lines))
    return "".join(lines[:at]), "".join(lines[at:])

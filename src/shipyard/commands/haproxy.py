"""HAProxy: the rendered configuration and the runtime API (admin socket) commands. Pure.

The switch itself never reloads HAProxy: `set server <backend>/<colour> state ready|drain|maint` on the admin
socket moves traffic in-process without closing a client connection. The same live colours are written into the
configuration file after every switch, so a later restart or reload keeps traffic where the runtime API put it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shipyard.commands.layout import COLOURS, PROXY_PUBLIC_PORT, PROXY_TLS_PORT, Colour, HostLayout
from shipyard.commands.programs import program

Argv = list[str]
AdminState = Literal["ready", "drain", "maint"]
CONTAINER_SOCKET_DIR = "/var/run/shipyard"
CONTAINER_CONF_DIR = "/usr/local/etc/haproxy"
CONTAINER_TLS_DIR = "/etc/shipyard/tls"
HSTS = "max-age=31536000"
# Backup twins get a literal address, set at each switch to the old colour's container address: HAProxy's
# resolvers leave a disabled server that shares a name with another one unresolved (measured on 2.6).
STANDBY_PLACEHOLDER = "127.0.0.1"
RETRYABLE = "METH_GET || METH_HEAD || METH_OPTIONS"  # sent twice, they change nothing
# Health checks: every 250 ms on a steady server, every 100 ms while it goes up or down or is down (a restarted
# colour is seen up about 0.2 s after it listens). `rise` passes bring a server up, `fall` failures take it down.
# HAProxy's health counter runs from 0 to RISE + FALL - 1 (HEALTH_FULL, reached at `rise` passes); leaving
# maintenance sets it to RISE with no check made, and the first check after that moves it to HEALTH_FULL or to 0.
RISE, FALL = 2, 2
HEALTH_FULL = RISE + FALL - 1
CHECK_INTERVAL = 0.25
CHECK = f"check inter {int(CHECK_INTERVAL * 1000)}ms fastinter 100ms downinter 100ms rise {RISE} fall {FALL}"


@dataclass(frozen=True)
class Backend:
    """One service behind the proxy: its port, readiness path and which colour takes traffic."""

    service: str
    port: int
    readiness: str
    live: Colour | None = None
    route: str | None = None  # a path prefix of the public frontend that goes to this service


@dataclass(frozen=True)
class Tls:
    """HTTPS on the public frontend: the certificate file is written by deploy.setup (mode 600)."""

    redirect: bool = True
    hsts: bool = True


def render_config(layout: HostLayout, backends: Sequence[Backend], public: str | None,
                  tls: Tls | None = None) -> str:
    """The whole haproxy.cfg. Deterministic: the same inputs give byte-identical text."""
    ports = [b.port for b in backends]
    if PROXY_PUBLIC_PORT in ports or len(set(ports)) != len(ports):
        raise ValueError(f"service ports must be distinct and not {PROXY_PUBLIC_PORT} (the proxy's public port)")
    if public is not None and public not in {b.service for b in backends}:
        raise ValueError(f"public service {public!r} is not among the backends")
    lines = [
        f"# Rendered by Shipyard for project {layout.project}. Do not edit: `invoke deploy.setup` rewrites it,",
        "# and every blue/green switch records its live colour here (a server without `disabled` takes traffic).",
        "global",
        # mode 660: the socket takes the run directory's group (setgid), which the SSH user is in
        f"    stats socket {CONTAINER_SOCKET_DIR}/admin.sock mode 660 level admin",
        "    stats timeout 30s",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        "    option http-keep-alive",
        "    option idle-close-on-response",
        # An app closes an idle keep-alive connection when its own timeout fires (Node and uvicorn: 5 s); a request
        # HAProxy sends on that connection at the same moment gets no answer, and HAProxy would then close the
        # client's connection without one (http-reuse safe). Retry such a request on a new connection instead;
        # each backend limits these retries to methods that are safe to send twice.
        "    retry-on conn-failure empty-response",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 60s",
        "    timeout queue 10s",
        "    timeout check 2s",
        f"    default-server init-addr libc,none resolvers docker resolve-prefer ipv4 {CHECK}",
        "",
        "resolvers docker",
        "    parse-resolv-conf",
        "    hold valid 10s",
        "    hold nx 2s",
        "    timeout resolve 250ms",
        "",
    ]
    routed = sorted((b for b in backends if b.route), key=lambda b: (-len(b.route or ""), b.service))
    if routed and public is None:
        raise ValueError("a route needs a public service: the routes share its public port")
    if tls is not None and public is None:
        raise ValueError("TLS needs a public service: it is served on the public frontend")
    if public is not None:
        lines += ["frontend public", f"    bind :{PROXY_PUBLIC_PORT}"]
        if tls is not None:
            lines.append(f"    bind :{PROXY_TLS_PORT} ssl crt {CONTAINER_TLS_DIR}/site.pem")
            if tls.redirect:
                lines.append("    http-request redirect scheme https code 301 unless { ssl_fc }")
            if tls.hsts:
                lines.append(f'    http-response set-header Strict-Transport-Security "{HSTS}" if {{ ssl_fc }}')
        for backend in routed:  # longest prefix first; a prefix matches itself and what is below it
            lines.append(f"    use_backend {backend.service} if {{ path {backend.route} }} || "
                         f"{{ path_beg {backend.route}/ }}")
        lines += [f"    default_backend {public}", ""]
    for backend in sorted(backends, key=lambda b: b.service):
        lines += [f"frontend {backend.service}-internal", f"    bind :{backend.port}",
                  f"    default_backend {backend.service}", ""]
    for backend in sorted(backends, key=lambda b: b.service):
        lines += [
            f"backend {backend.service}",
            "    option httpchk",
            f"    http-check send meth GET uri {backend.readiness} ver HTTP/1.1 hdr Host localhost",
            "    http-check expect status 200-399",
            f"    http-request disable-l7-retry unless {RETRYABLE}",
        ]
        for colour in COLOURS:
            disabled = "" if backend.live == colour else " disabled"
            lines.append(f"    server {colour} {layout.container(backend.service, colour)}:{backend.port}{disabled}")
        for colour in COLOURS:  # the old colour as a backup during a watch window (address set at the switch)
            lines.append(f"    server {standby(colour)} {STANDBY_PLACEHOLDER}:{backend.port} backup disabled")
        lines.append("")
    return "\n".join(lines)


def admin(layout: HostLayout) -> Argv:
    """Talk to the admin socket (haproxy_admin.py); the runtime commands go on stdin (one line, `;`-separated)."""
    return ["python3", "-I", "-S", "-c", program("haproxy_admin.py"), layout.admin_socket]


def set_state(service: str, colour: Colour, state: AdminState) -> str:
    return f"set server {service}/{colour} state {state}"


def show_servers_state(service: str | None = None) -> str:
    return "show servers state" + (f" {service}" if service else "")


def show_stat() -> str:
    """Every server's counters as CSV (responses by class, errors): what real traffic got."""
    return "show stat -1 4 -1"


def batch(*commands: str) -> str:
    """Several runtime commands in one round trip, applied in order by one HAProxy process."""
    return "; ".join(commands) + "\n"


def standby(colour: Colour) -> str:
    """The backup server that points at the same container as `colour`."""
    return f"{colour}-standby"


def set_standby(service: str, colour: Colour, state: AdminState) -> str:
    return f"set server {service}/{standby(colour)} state {state}"


def switch(service: str, to: Colour, live: Colour | None) -> str:
    """Make `to` take new requests; `live` gets no new ones and finishes those in flight (no session is cut).

    `live` stays reachable as a backup server until it is retired: should `to` fail its health checks inside
    the watch window, HAProxy itself sends the next request to the old colour, before Shipyard switches back.
    (The old active server goes to maint, not drain: a draining server still counts as an active one that is
    up, and HAProxy then answers 503 rather than use a backup.)
    """
    commands = [set_state(service, to, "ready")]
    if live is not None and live != to:
        commands += [set_standby(service, live, "ready"), set_state(service, live, "maint")]
    return batch(*commands)


def switch_with_backup(layout: HostLayout, service: str, to: Colour, live: Colour, port: int) -> Argv:
    """One round trip (switch.sh): point `live`'s backup twin at the live container's address, then `switch`."""
    address = ('{{with index .NetworkSettings.Networks "' + layout.network + '"}}{{.IPAddress}}{{end}}')
    return ["sh", "-c", program("switch.sh"), "shipyard-switch", layout.container(service, live), address,
            f"{service}/{standby(live)}", str(port), switch(service, to, live), program("haproxy_admin.py"),
            layout.admin_socket]


def prepare(service: str, colour: Colour) -> str:
    """Before the new container starts: no new traffic to `colour` (drain), health checks on, backup twin off."""
    return batch(set_state(service, colour, "drain"), set_standby(service, colour, "maint"))


def switch_back(service: str, to: Colour, away: Colour) -> str:
    """Undo `switch`: `to` (the old colour) takes traffic again, its backup twin retires, `away` drains."""
    return batch(set_state(service, to, "ready"), set_standby(service, to, "maint"), set_state(service, away, "drain"))


def isolate(service: str, colour: Colour) -> str:
    """No traffic to `colour` at all: neither as the active server nor as the backup."""
    return batch(set_state(service, colour, "maint"), set_standby(service, colour, "maint"))

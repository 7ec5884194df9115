"""Compose state from `docker compose ps --all --format json` and `docker compose config --images`. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HEALTHY = "healthy"


@dataclass(frozen=True)
class Published:
    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"

    @property
    def url(self) -> str:
        host = self.host_ip if self.host_ip not in ("", "0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        return f"http://{host}:{self.host_port}"


@dataclass(frozen=True)
class ServiceState:
    """One container of a Compose project as `compose ps` reports it."""

    service: str
    name: str
    state: str  # created, running, restarting, paused, exited, dead
    health: str  # healthy, unhealthy, starting, or "" without a healthcheck
    exit_code: int
    status: str
    image: str
    published: tuple[Published, ...] = ()

    @property
    def ready(self) -> bool:
        """Running and, where a healthcheck exists, healthy."""
        return self.state == "running" and self.health in (HEALTHY, "")

    @property
    def condition(self) -> str:
        """One word for tables: healthy, starting, unhealthy, running, exited(1), restarting..."""
        if self.state == "running":
            return self.health or "running"
        if self.state == "exited":
            return f"exited({self.exit_code})"
        return self.state

    @property
    def url(self) -> str | None:
        ports = sorted((p for p in self.published if p.protocol == "tcp" and p.host_port),
                       key=lambda p: (p.container_port, p.host_port))
        return ports[0].url if ports else None


def _records(output: str) -> list[dict[str, Any]]:
    """Compose prints a JSON array (v2 before 2.21) or one JSON object per line (later versions)."""
    text = output.strip()
    if not text:
        return []
    if text.startswith("["):
        data = json.loads(text)
        return [item for item in data if isinstance(item, dict)]
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.strip().startswith("{"):
            raise ValueError(f"unexpected line in `docker compose ps` output: {line.strip()[:80]!r}")
        records.append(json.loads(line))
    return records


def _published(raw: Any) -> tuple[Published, ...]:
    out = []
    for item in raw or []:
        if not isinstance(item, dict) or not item.get("PublishedPort"):
            continue
        out.append(Published(host_ip=str(item.get("URL") or ""), host_port=int(item["PublishedPort"]),
                             container_port=int(item.get("TargetPort") or 0),
                             protocol=str(item.get("Protocol") or "tcp")))
    # IPv4 and IPv6 bindings of the same port appear twice; keep one of each port.
    unique: dict[tuple[int, int, str], Published] = {}
    for port in out:
        unique.setdefault((port.host_port, port.container_port, port.protocol), port)
    return tuple(unique.values())


def parse_ps(output: str) -> list[ServiceState]:
    states = []
    for record in _records(output):
        states.append(ServiceState(
            service=str(record.get("Service") or ""),
            name=str(record.get("Name") or record.get("Names") or ""),
            state=str(record.get("State") or "").lower(),
            health=str(record.get("Health") or "").lower(),
            exit_code=int(record.get("ExitCode") or 0),
            status=str(record.get("Status") or ""),
            image=str(record.get("Image") or ""),
            published=_published(record.get("Publishers")),
        ))
    return sorted(states, key=lambda s: (s.service, s.name))


def not_ready(states: list[ServiceState], expected: list[str]) -> list[str]:
    """Services that are missing or not ready, in the order expected."""
    by_service: dict[str, list[ServiceState]] = {}
    for state in states:
        by_service.setdefault(state.service, []).append(state)
    return [name for name in expected if not by_service.get(name) or not all(s.ready for s in by_service[name])]


def parse_images(output: str) -> list[str]:
    """`compose config --images`: one image name per line (build-only services get `<project>-<service>`)."""
    return [line.strip() for line in output.splitlines() if line.strip()]


def services(config: dict[str, Any]) -> list[str]:
    """Service names of a resolved project, sorted."""
    return sorted((config.get("services") or {}).keys())


def parse_config(output: str) -> dict[str, Any]:
    """`compose config --format json`: the fully resolved project."""
    data = json.loads(output)
    if not isinstance(data, dict):
        raise ValueError("compose config did not return a JSON object")
    return data


def built_images(config: dict[str, Any]) -> dict[str, str]:
    """Service -> image name, for services that Compose builds (image defaults to `<project>-<service>`)."""
    project = str(config.get("name") or "")
    out: dict[str, str] = {}
    for name, service in sorted((config.get("services") or {}).items()):
        if isinstance(service, dict) and service.get("build"):
            out[name] = str(service.get("image") or f"{project}-{name}")
    return out


def volume_names(config: dict[str, Any]) -> list[str]:
    """The engine-side names of a resolved project's named volumes (`<project>_<volume>` unless named)."""
    project = str(config.get("name") or "")
    out = []
    for key, volume in sorted((config.get("volumes") or {}).items()):
        external = isinstance(volume, dict) and volume.get("external")
        name = volume.get("name") if isinstance(volume, dict) else None
        if not external:
            out.append(str(name or f"{project}_{key}"))
    return out


#: What PostgreSQL (server side) and its clients (libpq, asyncpg, psycopg) print when a password is refused.
AUTH_FAILURE_MARKERS = ("password authentication failed", "InvalidPasswordError")


def auth_failure(logs: str) -> bool:
    """Whether a service's log shows the database refusing the configured password."""
    return any(marker in logs for marker in AUTH_FAILURE_MARKERS)

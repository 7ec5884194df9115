"""Shipyard's containers and images on a host, from `docker ps` / `docker image ls` JSON lines. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass

from shipyard.commands.layout import (
    COLOURS,
    LABEL_COLOUR,
    LABEL_RELEASE,
    LABEL_ROLE,
    LABEL_SERVICE,
    Colour,
)


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    state: str
    status: str
    service: str | None
    colour: Colour | None
    release: str | None
    role: str | None

    @property
    def running(self) -> bool:
        return self.state == "running"


def parse_labels(raw: str) -> dict[str, str]:
    """`docker ps` joins labels as k=v,k=v (values never contain commas in Shipyard's labels)."""
    labels: dict[str, str] = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        if sep:
            labels[key.strip()] = value
    return labels


def parse_ps(text: str) -> list[Container]:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        labels = parse_labels(row.get("Labels", ""))
        colour = labels.get(LABEL_COLOUR)
        out.append(Container(
            name=row["Names"].split(",")[0], image=row["Image"], state=row.get("State", ""),
            status=row.get("Status", ""), service=labels.get(LABEL_SERVICE),
            colour=colour if colour in COLOURS else None,
            release=labels.get(LABEL_RELEASE), role=labels.get(LABEL_ROLE),
        ))
    return out


def by_service(containers: list[Container]) -> dict[str, dict[Colour, Container]]:
    out: dict[str, dict[Colour, Container]] = {}
    for container in containers:
        if container.role == "app" and container.service and container.colour:
            out.setdefault(container.service, {})[container.colour] = container
    return out


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    id: str
    created: str


def parse_images(text: str) -> list[Image]:
    out = []
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Image(row["Repository"], row["Tag"], row["ID"], row.get("CreatedAt", "")))
    return out


def parse_status(text: str) -> tuple[str, str | None]:
    """(state, address) from commands.bluegreen.status output."""
    state, _, address = text.strip().partition(" ")
    return state, address.strip() or None

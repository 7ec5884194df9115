"""The local stack's status as a JSON document (`shipyard.compose-status/v1`, docs/JSON.md). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.facts.compose import ServiceState
from shipyard.facts.ledger import Entry
from shipyard.report import schema
from shipyard.report.vm import entry_doc


def status_doc(env: str, states: Sequence[ServiceState], live: Entry | None, releases: bool) -> dict[str, Any]:
    """Every container of the environment's Compose project; `release` is the ledger's live entry of an
    environment with releases (null for the working tree, or before its first deploy)."""
    services = [{"service": s.service, "container": s.name, "state": s.state, "health": s.health or None,
                 "condition": s.condition, "ready": s.ready, "image": s.image}
                for s in sorted(states, key=lambda s: (s.service, s.name))]
    return {"schema": schema("compose-status"), "environment": env, "releases": releases,
            "running": bool(states), "ready": bool(states) and all(s.ready for s in states),
            "release": entry_doc(live) if live is not None else None, "services": services}

"""The deploy ledger on a host: one JSON object per line (who, what release, which hosts, phase timings). Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    at: str  # ISO 8601, UTC
    action: str  # deploy | rollback | unlock | takeover | prune
    who: str
    outcome: str  # ok | failed | switched-back | switch-back-failed | aborted | converged | forced
    host: str
    release: str | None = None
    previous: str | None = None
    hosts: list[str] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)  # service -> image
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    error: str | None = None
    detail: str | None = None
    schema_changed: bool = False  # a release command of this deploy reported a schema change (facts/release_command)

    def to_json(self) -> str:
        """One line. Empty and false fields are left out: an entry without a schema change reads as before."""
        data = {k: v for k, v in asdict(self).items() if v not in (None, [], {}) and v is not False}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @property
    def live_changed(self) -> bool:
        """This entry put its release live on the host."""
        return self.action in {"deploy", "rollback"} and self.outcome in {"ok", "converged"}


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(
        at=str(raw["at"]), action=str(raw["action"]), who=str(raw.get("who", "")),
        outcome=str(raw.get("outcome", "")), host=str(raw.get("host", "")),
        release=raw.get("release"), previous=raw.get("previous"), hosts=list(raw.get("hosts", [])),
        services=dict(raw.get("services", {})), phases={k: float(v) for k, v in raw.get("phases", {}).items()},
        error=raw.get("error"), detail=raw.get("detail"), schema_changed=raw.get("schema_changed") is True,
    )


def parse_ledger(text: str) -> list[Entry]:
    """Oldest first. A torn last line (a deployer killed while writing) is skipped, not fatal."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(_entry(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return out


def deployed(entries: list[Entry]) -> list[str]:
    """Releases put live by a deploy, most recent deploy first, each once: a rollback does not reorder them, so
    rolling back twice goes two releases back instead of returning to where the first rollback came from."""
    seen: list[str] = []
    for entry in reversed(entries):
        if entry.live_changed and entry.action == "deploy" and entry.release and entry.release not in seen:
            seen.append(entry.release)
    return seen


def last_live(entries: list[Entry], release: str | None = None) -> Entry | None:
    """The entry that last put a release live (`release`: that release), None when none did."""
    return next((e for e in reversed(entries) if e.live_changed and (release is None or e.release == release)),
                None)


def releases(entries: list[Entry]) -> list[str]:
    """Releases that went live, most recent first, each once."""
    seen: list[str] = []
    for entry in reversed(entries):
        if entry.live_changed and entry.release and entry.release not in seen:
            seen.append(entry.release)
    return seen

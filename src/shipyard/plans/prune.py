"""Retention: keep the last N releases per service (by the ledger), never the live or the previous one. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    keep: list[str]
    remove: list[str]


def retain(tags: Sequence[str], recent_first: Sequence[str], *, retain: int, protected: Sequence[str] = (),
           created: dict[str, str] | None = None) -> Decision:
    """Split `tags` into keep/remove.

    Ranked by the ledger (most recent release first); tags the ledger never saw rank after those, newest
    `created` first. The top `retain` are kept, and every protected tag (live, previous) is kept on top.
    """
    order = {tag: i for i, tag in enumerate(recent_first)}
    created = created or {}
    unknown = sorted((t for t in tags if t not in order), key=lambda t: created.get(t, ""), reverse=True)
    ranked = sorted((t for t in tags if t in order), key=lambda t: order[t]) + unknown
    keep = ranked[:retain]
    keep += [t for t in ranked[retain:] if t in protected]
    return Decision(keep=keep, remove=[t for t in ranked if t not in keep])

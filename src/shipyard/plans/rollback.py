"""Which release a rollback goes back to. Pure: the ledger and the live release in, one release tag out."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry, deployed, releases

SHORT = 12


def normalise(sha: str) -> str:
    """A full SHA becomes its image tag (the short SHA); shorter input stays a prefix."""
    sha = sha.strip().lower()
    return sha[:SHORT] if len(sha) > SHORT else sha


def choose(entries: Sequence[Entry], live: str | None, requested: str | None = None) -> str:
    """The release to put back: `requested` (a SHA or prefix) or, without one, the one before the live release."""
    known = releases(list(entries))
    listing = ", ".join(known[:8]) or "none"
    if requested:
        prefix = normalise(requested)
        if len(prefix) < 4:
            raise ShipyardError(f"--sha {requested!r} is too short to name a release (give at least 4 characters)")
        matches = [r for r in known if r.startswith(prefix)]
        if len(matches) > 1:
            raise ShipyardError(f"--sha {requested} matches several releases: {', '.join(matches)}",
                                hint="give more characters of the SHA")
        if not matches:
            raise ShipyardError(f"no release {requested} in the ledger (releases, newest first: {listing})",
                                hint="run `invoke deploy.releases` to list them, or `invoke deploy --sha ...`")
        return matches[0]
    order = deployed(list(entries))
    if live in order:  # the release deployed before the live one, however often either went live again since
        older = order[order.index(live) + 1:]
        if older:
            return older[0]
        raise ShipyardError(f"nothing to roll back to: {live} is the oldest release deployed here",
                            hint="pass --sha with a release from `invoke deploy.releases` to go forward")
    for release in known:
        if release != live:
            return release
    raise ShipyardError(f"nothing to roll back to: the ledger has no release other than {live or 'none'}",
                        hint="pass --sha with a release from `invoke deploy.releases`")


def schema_changes(entries: Sequence[Entry], target: str) -> list[str]:
    """The releases whose release command changed the schema after `target` last went live (ledger order, oldest
    first, each once): going back to `target` runs its code against a schema it has never run against.

    Any outcome counts (a deploy aborted after its migrations ran changed the schema all the same); `target`'s
    own changes do not (its code was written for them).
    """
    entries = list(entries)
    last = max((i for i, e in enumerate(entries) if e.live_changed and e.release == target), default=-1)
    found: list[str] = []
    for entry in entries[last + 1:]:
        if entry.schema_changed and entry.release and entry.release != target and entry.release not in found:
            found.append(entry.release)
    return found


def schema_warning(target: str, changed: Sequence[str]) -> str | None:
    """One line for a rollback to `target` across `changed` (from schema_changes), or None when there are none."""
    if not changed:
        return None
    which = f"release {changed[0]}" if len(changed) == 1 else f"releases {', '.join(changed)}"
    return (f"{which} changed the database schema after {target} last ran: {target}'s code must work with the"
            " new schema (expand/contract, docs/DEPLOY.md)")

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

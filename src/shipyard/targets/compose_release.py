"""Releases on a compose environment with `releases: true`: the stack runs release images (built, pushed and
pinned by the one release step, targets/images.py) instead of the working tree, and remembers what went live.

The ledger is the VM ledger's format (facts/ledger.py), one file per environment under `.shipyard/releases/`
(git-ignored), so `rollback` picks a release with the same rules (plans/rollback.py) and `releases` prints it the
same way. A release whose services do not become healthy is replaced by the one that was live before it (when
there was one): the stack never stays on a broken release.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from shipyard.commands import compose as compose_cmd
from shipyard.errors import ShipyardError
from shipyard.facts.ledger import Entry, last_live, parse_ledger
from shipyard.targets.compose import ComposeTarget

HOST = "local"  # the ledger's host field: the stack runs on this machine


def ledger_path(target: ComposeTarget) -> Path:
    return target.root / ".shipyard" / "releases" / f"{target.env_name}.jsonl"


def read(target: ComposeTarget) -> list[Entry]:
    path = ledger_path(target)
    return parse_ledger(path.read_text(encoding="utf-8")) if path.is_file() else []


def _append(target: ComposeTarget, entry: Entry) -> None:
    path = ledger_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as ledger:  # one write of one line: a line is whole or absent
        ledger.write(entry.to_json() + "\n")


UP_TIMEOUT = 180  # seconds for the stack to become healthy on a release's images


def override_path(target: ComposeTarget) -> Path:
    """The Compose file that runs each built service from its release image (written by a real run only)."""
    return target.root / ".shipyard" / "compose" / f"{target.env_name}.release.yaml"


def up_argv(target: ComposeTarget) -> list[str]:
    """The command that puts a release live: `compose up --wait` over the environment's files and the override."""
    return compose_cmd.up([*target.files, str(override_path(target))], target.project, wait=True,
                          wait_timeout=UP_TIMEOUT)


def _override(target: ComposeTarget, images: Mapping[str, str]) -> str:
    path = override_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(compose_cmd.release_override(images), encoding="utf-8")
    return str(path)


def put_live(target: ComposeTarget, release: str, images: Mapping[str, str], *, action: str, who: str,
             now: Callable[[], str], timeout: int = UP_TIMEOUT) -> None:
    """Run the stack on `release`'s images, health-gated; on failure, back to the release that was live (said,
    and recorded as switched-back). Every outcome is appended to the ledger."""
    before = last_live(read(target))
    started = time.monotonic()

    def record(outcome: str, error: str | None = None) -> None:
        _append(target, Entry(at=now(), action=action, who=who, outcome=outcome, host=HOST, release=release,
                              previous=before.release if before else None, hosts=[HOST], services=dict(images),
                              phases={"up": round(time.monotonic() - started, 3)}, error=error))

    try:
        target.up_release(_override(target, images), timeout=timeout)
    except ShipyardError as exc:
        outcome = "failed"
        if before is not None and before.release != release and before.services:
            target.say(f"{release} did not become healthy: putting {before.release} back")
            try:
                target.up_release(_override(target, before.services), timeout=timeout)
                outcome = "switched-back"
            except ShipyardError as back:
                target.say(f"could not put {before.release} back either: {back}")
        record(outcome, str(exc))
        raise
    record("ok")

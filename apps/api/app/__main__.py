"""`python -m app [--reload]`: validate configuration, then serve.

`python -m app migrate`: apply the schema migrations and exit (the release command of a VM deploy, run once in a
one-off container before any new instance starts; serving instances still migrate at boot, a no-op by then).
When it applied at least one migration it also prints `shipyard: schema-changed`, Shipyard's release-command
convention: the deploy ledger marks the release, and a rollback to an older release asks for --yes.
"""

from __future__ import annotations

import sys

from app import settings

#: The line Shipyard reads from a release command that changed the schema (docs/DEPLOY.md, Migrations).
SCHEMA_CHANGED = "shipyard: schema-changed"


def main(argv: list[str]) -> int:
    try:
        config = settings.load()
    except settings.ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if argv[:1] == ["migrate"]:
        return migrate_and_exit(config)
    from app.server import serve

    serve(config, reload="--reload" in argv)
    return 0


def migrate_report(applied: list[str]) -> list[str]:
    """What `migrate` prints: the migrations it applied and the schema-changed marker, or that nothing was to do
    (no marker: the schema did not change). Never a setting's value."""
    if not applied:
        return ["migrate: schema up to date"]
    return [f"migrate: applied {', '.join(applied)}", SCHEMA_CHANGED]


def migrate_and_exit(config: settings.Settings) -> int:
    import asyncio

    from app import db

    try:
        applied = asyncio.run(db.wait_and_migrate(config))
    except RuntimeError as exc:  # the database did not answer in time
        sys.stderr.write(f"migrate: {exc}\n")
        return 1
    for line in migrate_report(applied):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

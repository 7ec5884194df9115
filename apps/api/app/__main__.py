"""`python -m app [--reload]`: validate configuration, then serve.

`python -m app migrate`: apply the schema migrations and exit (the release command of a VM deploy, run once in a
one-off container before any new instance starts; serving instances still migrate at boot, a no-op by then).
"""

from __future__ import annotations

import sys

from app import settings
from app.server import serve


def main(argv: list[str]) -> int:
    try:
        config = settings.load()
    except settings.ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if argv[:1] == ["migrate"]:
        return migrate_and_exit(config)
    serve(config, reload="--reload" in argv)
    return 0


def migrate_and_exit(config: settings.Settings) -> int:
    import asyncio

    from app import db

    try:
        applied = asyncio.run(db.wait_and_migrate(config))
    except RuntimeError as exc:  # the database did not answer in time
        sys.stderr.write(f"migrate: {exc}\n")
        return 1
    print(f"migrate: applied {', '.join(applied)}" if applied else "migrate: schema up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

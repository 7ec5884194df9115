"""`python -m app [--reload]`: validate configuration, then serve."""

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
    serve(config, reload="--reload" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

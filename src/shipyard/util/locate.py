"""Where shipyard.yaml is: $SHIPYARD_CONFIG, or the nearest one upwards. No config model imported (fast paths)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "shipyard.yaml"


def nearest_config(start: Path | None = None) -> Path | None:
    """$SHIPYARD_CONFIG, or the nearest shipyard.yaml from `start` upwards; None when there is none."""
    explicit = os.environ.get("SHIPYARD_CONFIG")
    if explicit:
        return Path(explicit).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None

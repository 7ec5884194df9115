"""Writing a first `.env` for the local stack from `.env.example` (pure text transformation)."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: The test bed's locally built stand-ins for the public images (same environment contract).
TESTBED_IMAGES = {
    "PYTHON_IMAGE": "shipyard-base/python:bookworm",
    "NODE_IMAGE": "shipyard-base/node:bookworm",
    "POSTGRES_IMAGE": "shipyard-base/postgres:bookworm",
    "REDIS_IMAGE": "shipyard-base/redis:bookworm",
}


def fill(example: str, values: Mapping[str, str]) -> str:
    """`.env.example` with the given keys set (uncommented if needed); keys it lacks are appended."""
    pending = dict(values)
    lines = []
    for line in example.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match and match.group(1) in pending:
            key = match.group(1)
            line = f"{key}={pending.pop(key)}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in pending.items()]
    return "\n".join(lines) + "\n"

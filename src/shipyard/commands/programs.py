"""The programs Shipyard runs on hosts, read once from the package's assets/host/ folder.

Each program is a file there (shell or Python), linted (shellcheck, ruff) and run by the unit tests on its own.
The builders pass a program's text whole as one argument (`sh -c PROGRAM NAME ARG...`,
`python3 -I -S -c PROGRAM ARG...`): nothing is copied to a host first, and no argument is ever spliced into
program text. A file's leading comment lines (the shebang, what the program does, its arguments and exit codes)
document it and are not sent.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable


def folder() -> Traversable:
    """shipyard/assets/host, wherever the package is installed."""
    return resources.files("shipyard") / "assets" / "host"


def body(text: str) -> str:
    """The text without its leading comment lines: what runs on the host."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return "".join(lines[start:])


@cache
def program(name: str) -> str:
    """The program in assets/host/`name`, as it is sent to a host."""
    return body(folder().joinpath(name).read_text(encoding="utf-8"))

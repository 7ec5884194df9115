"""The `shipyard` console script: Shipyard's collections, usable in any repository without a tasks.py."""

from __future__ import annotations

from invoke.program import Program

from shipyard import __version__
from shipyard.tasks import namespace


def main() -> None:
    Program(namespace=namespace(), version=__version__, name="Shipyard", binary="shipyard").run()

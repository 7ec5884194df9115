"""What a service's release command (its migrations) reports about the database schema. Pure.

The convention: a release command that changed the schema (applied at least one migration) prints, on its
standard output, a line that is exactly `shipyard: schema-changed` (spaces around it are ignored). The line may
come anywhere among the command's other output. A command that prints no such line reports nothing: existing
release commands keep working unchanged, and their releases are simply not marked.

A deploy records the mark in the ledger (`Entry.schema_changed`); a rollback to a release older than a marked
one asks for `--yes` (plans/rollback.py). Only the verdict leaves this module: the command's output, which may
hold anything its environment file holds, is never printed, logged or stored.
"""

from __future__ import annotations

#: The line a release command prints when it changed the schema.
SCHEMA_CHANGED = "shipyard: schema-changed"


def schema_changed(output: str) -> bool:
    """Whether the release command's standard output holds the marker on a line of its own."""
    return any(line.strip() == SCHEMA_CHANGED for line in output.splitlines())

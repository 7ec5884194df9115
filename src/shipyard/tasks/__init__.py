"""Shipyard's Invoke collections. `namespace()` composes them; tasks.py and the `shipyard` CLI use it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import import_module

from invoke.collection import Collection

# one module per collection, named like it; the order is the order of `invoke --list`
COLLECTIONS = ("config", "docker", "release", "monorepo", "testbed", "k8s", "infra", "secrets", "deploy",
               "rollback", "status", "releases", "logs", "exec", "sandbox")
# core flags that show every task (a listing, shell completion): with one of them, everything is loaded
_EVERYTHING = re.compile(r"--(list|complete|print-completion-script)(=.*)?|-[A-Za-z]*l[A-Za-z]*")


def wanted(argv: Sequence[str]) -> tuple[str, ...]:
    """The collections a command line can reach: those whose name starts one of its words (`monorepo` for
    `monorepo.affected`), or all of them when it names none or asks for a listing or completion.

    A superset is harmless (a flag's value that happens to be a collection's name only loads that one too); a
    task in a collection left out cannot be named by these words, so the answer is Invoke's either way.
    """
    names: set[str] = set()
    for word in argv:
        if _EVERYTHING.fullmatch(word):
            return COLLECTIONS
        if not word.startswith("-"):
            names.add(word.split(".", 1)[0])
    chosen = tuple(name for name in COLLECTIONS if name in names)
    return chosen or COLLECTIONS


def namespace(argv: Sequence[str] | None = None) -> Collection:
    """Every collection; with `argv` (the command line after the program's name, `sys.argv[1:]`), only those
    it names, so that `invoke monorepo.affected` does not import, copy and parse sixty tasks it never runs."""
    ns = Collection()
    for name in COLLECTIONS if argv is None else wanted(argv):
        ns.add_collection(import_module(f"shipyard.tasks.{name}").ns)
    if argv and argv[0] == "monorepo.affected":
        from shipyard.tasks.monorepo import start_early

        start_early(argv)  # git answers while Invoke parses the rest
    return ns

"""Shipyard's Invoke collections. `namespace()` composes them; tasks.py and the `shipyard` CLI use it."""

from __future__ import annotations

from invoke.collection import Collection


def namespace() -> Collection:
    from shipyard.tasks import config, release

    ns = Collection()
    for module in (config, release):
        ns.add_collection(module.ns)
    return ns

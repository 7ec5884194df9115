"""Shipyard's Invoke collections. `namespace()` composes them; tasks.py and the `shipyard` CLI use it."""

from __future__ import annotations

from invoke.collection import Collection


def namespace() -> Collection:
    from shipyard.tasks import config, k8s, monorepo, release, testbed

    ns = Collection()
    for module in (config, release, monorepo, testbed, k8s):
        ns.add_collection(module.ns)
    return ns

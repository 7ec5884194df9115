"""Shipyard's Invoke collections. `namespace()` composes them; tasks.py and the `shipyard` CLI use it."""

from __future__ import annotations

from invoke.collection import Collection


def namespace() -> Collection:
    from shipyard.tasks import (
        config,
        deploy,
        docker,
        infra,
        k8s,
        monorepo,
        release,
        rollback,
        sandbox,
        secrets,
        testbed,
    )

    ns = Collection()
    for module in (config, docker, release, monorepo, testbed, k8s, infra, secrets, deploy, rollback, sandbox):
        ns.add_collection(module.ns)
    return ns

"""`testbed`: install and run the real test bed (Docker engine, Compose, registry, base images, SSH VMs)."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import task


def _settings(ca_dir: str | None = None, offline: bool = False, mirror: str | None = None,
              jobs: int | None = None) -> Any:
    from dataclasses import replace
    from pathlib import Path

    from shipyard.errors import ShipyardError
    from shipyard.testbed.settings import Settings

    settings = Settings()
    if ca_dir is not None:
        if ca_dir.lower() == "none":
            settings = replace(settings, ca_dir=None)
        elif not Path(ca_dir).is_dir():
            raise ShipyardError(f"--ca-dir {ca_dir}: no such directory",
                                hint="point it at a directory of *.crt files, or pass --ca-dir none")
        else:
            settings = replace(settings, ca_dir=Path(ca_dir).resolve())
    if offline:
        settings = replace(settings, try_public=False)
    if mirror:
        settings = replace(settings, mirror=mirror)
    if jobs:
        settings = replace(settings, jobs=jobs)
    return settings


@task(default=True, help={
    "dry_run": "print the commands that would run and change nothing",
    "ca_dir": "directory of extra CA certificates (*.crt) baked into the base images"
              " (default /usr/local/share/ca-certificates; 'none' for no extra CAs)",
    "offline": "air-gapped mode: never try to pull public images, always build bases with debootstrap",
    "mirror": "Debian mirror for debootstrap and apt (default http://deb.debian.org/debian)",
    "only": "comma-separated base images to ensure (debian,python,node,postgres,redis,haproxy,vm; default all)",
    "jobs": "how many images to build at once (default 3)",
})
def up(c: Any, dry_run: bool = False, ca_dir: str | None = None, offline: bool = False, mirror: str | None = None,
       only: str | None = None, jobs: int = 0) -> None:
    """Install and start the test bed; a second run changes nothing and takes seconds."""
    from shipyard.testbed import bed

    keys = [k.strip() for k in only.split(",") if k.strip()] if only else None
    bed.up(_settings(ca_dir, offline, mirror, jobs), dry_run=dry_run, only=keys)


@task(help={"dry_run": "print the commands that would run and change nothing",
            "engine": "also stop dockerd (only if the test bed started it)"})
def down(c: Any, dry_run: bool = False, engine: bool = False) -> None:
    """Stop the VMs and the registry the test bed started (dockerd too with --engine); images stay cached."""
    from shipyard.testbed import bed

    bed.down(dry_run=dry_run, stop_engine=engine)


@task
def status(c: Any) -> None:
    """Show what is up: engine and Compose versions, registry, base images, VMs."""
    from shipyard.testbed import bed

    for line in bed.status().lines():
        print(line)


@task(name="vm-start", iterable=["publish"], help={
    "name": "container name of the VM (e.g. staging-1)",
    "port": "SSH port on 127.0.0.1 (default: a free one)",
    "docker": "also start the VM's own Docker engine and wait for it",
    "publish": "extra port to publish, docker syntax, e.g. 127.0.0.1:8080:80 (repeatable)",
    "network": "docker network to attach the VM to",
    "dry_run": "print the commands that would run and change nothing",
})
def vm_start(c: Any, name: str, port: int = 0, docker: bool = False, publish: list[str] | None = None,
             network: str | None = None, dry_run: bool = False) -> None:
    """Start an SSH host ("VM") on 127.0.0.1 and print how to reach it with its pinned host key."""
    from shipyard.testbed import vm

    host = vm.host_for(dry_run=dry_run)
    machine = vm.start_vm(host, name, port=port or None, docker=docker, ports=publish or (), network=network)
    if not dry_run:
        for line in machine.describe():
            print(line)


@task(name="vm-stop", help={"name": "container name of the VM",
                            "dry_run": "print the commands that would run and change nothing"})
def vm_stop(c: Any, name: str, dry_run: bool = False) -> None:
    """Remove a VM, its inner Docker volume and its known_hosts entry."""
    from shipyard.testbed import vm

    _changed, detail = vm.stop_vm(vm.host_for(dry_run=dry_run), name)
    print(detail)


ns = Collection("testbed", up, down, status, vm_start, vm_stop)

"""The whole test bed: `up` (idempotent, cached), `down` and `status`."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from shipyard.testbed import engine, images, registry, rootfs
from shipyard.testbed.host import Host
from shipyard.testbed.report import Report
from shipyard.testbed.settings import Settings


@contextlib.contextmanager
def locked(host: Host) -> Iterator[None]:
    """One `up` at a time on a machine (parallel test sessions, CI and a developer may all call it)."""
    run_dir = host.settings.run_dir
    if host.dry_run and not run_dir.is_dir():
        yield
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        handle = (run_dir / "testbed.lock").open("a")
    except PermissionError:  # not root: nothing will be started by us anyway
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            host.say(f"waiting for another `testbed.up` to finish (lock {run_dir / 'testbed.lock'})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def up(settings: Settings | None = None, *, dry_run: bool = False, only: Iterable[str] | None = None,
       printer: Callable[[str], None] | None = None) -> Report:
    """Bring up engine, Compose, registry and base images; each step says whether it changed anything."""
    host = Host.create(settings, dry_run=dry_run, printer=printer)
    specs = images.select(only)
    with locked(host):
        return _up(host, specs)


def _up(host: Host, specs: list[images.ImageSpec]) -> Report:
    start = time.monotonic()
    step = host.report.step
    step("host tools", lambda: engine.ensure_host_tools(host))
    step("docker engine", lambda: engine.ensure_engine(host))
    step("compose plugin", lambda: engine.ensure_compose(host))
    step("registry", lambda: registry.ensure_registry(host))
    root: list[str] = []

    def ensure_root() -> tuple[bool, str]:
        ref, outcome = rootfs.ensure_root(host)
        root.append(ref)
        return outcome

    step("root image", ensure_root)
    images.ensure_images(host, specs, root[0])
    host.say(host.report.summary(time.monotonic() - start))
    return host.report


def down(settings: Settings | None = None, *, dry_run: bool = False, stop_engine: bool = False,
         printer: Callable[[str], None] | None = None) -> Report:
    """Stop what `up` started: the VMs, the registry and (only when asked) dockerd. Images stay cached."""
    from shipyard.testbed import vm

    host = Host.create(settings, dry_run=dry_run, printer=printer)
    start = time.monotonic()
    if engine.engine_version(host):
        host.report.step("VMs", lambda: vm.stop_all(host))
    host.report.step("registry", lambda: registry.stop_registry(host))
    if stop_engine:
        host.report.step("docker engine", lambda: engine.stop_engine(host))
    host.say(host.report.summary(time.monotonic() - start))
    return host.report


@dataclass(frozen=True)
class Status:
    engine: str | None
    compose: str | None
    registry: bool
    registry_addr: str
    images: dict[str, str | None]
    vms: list[tuple[str, str, str]]

    def lines(self) -> list[str]:
        out = [f"docker engine   {self.engine or 'not reachable'}",
               f"compose plugin  {self.compose or 'missing'}",
               f"registry        {self.registry_addr if self.registry else 'down'}"]
        for ref, size in self.images.items():
            out.append(f"image           {ref:<36} {size or 'missing'}")
        for name, state, ports in self.vms:
            out.append(f"vm              {name:<36} {state} {ports}")
        return out


def status(settings: Settings | None = None) -> Status:
    from shipyard.commands import testbed as dcmd
    from shipyard.testbed import vm

    host = Host.create(settings)
    version = engine.engine_version(host)
    sizes: dict[str, str | None] = {}
    for spec in images.IMAGES:
        result = host.check(dcmd.image_summary(spec.ref)) if version else None
        sizes[spec.ref] = None
        if result is not None and result.ok:
            sizes[spec.ref] = f"{int(result.stdout.split()[1]) / 1e6:.0f} MB"
    return Status(engine=version, compose=engine.compose_version(host) if version else None,
                  registry=registry.answering(host.settings.registry_addr),
                  registry_addr=host.settings.registry_addr, images=sizes,
                  vms=vm.list_vms(host) if version else [])

"""Session fixtures on the real test bed (Docker engine, registry, base images, SSH VMs).

`docker_engine` brings the test bed up through shipyard.testbed (cached: about a second when it is already up).
Where it cannot be brought up (not root and no daemon, no apt, a build failure), every test that needs it is
skipped with the reason, and the reason is repeated in the terminal summary. Set SHIPYARD_TESTBED_REQUIRED=1
(CI does) to turn such a skip into a failure.

Tests marked `docker`, `registry` or `ssh` get the matching fixture automatically.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

MARKER_FIXTURES = {"docker": "docker_engine", "registry": "registry", "ssh": "ssh_host"}


@dataclass
class BedState:
    """What the session learnt about the test bed: up (with its report lines) or why not."""

    tried: bool = False
    reason: str | None = None
    lines: list[str] = field(default_factory=list)
    engine: str | None = None


_BED = BedState()


def _preconditions() -> str | None:
    """Why the test bed cannot be brought up here, or None when it can be tried."""
    if os.environ.get("SHIPYARD_TESTBED", "").lower() in ("0", "off", "skip"):
        return "SHIPYARD_TESTBED=skip is set"
    if os.geteuid() == 0:
        return None
    from shipyard.testbed.engine import engine_version
    from shipyard.testbed.host import Host

    if engine_version(Host.create(printer=lambda _line: None)) is None:
        return "not root and no Docker daemon is reachable (run `invoke testbed.up` as root)"
    return None


def _bring_up() -> BedState:
    if _BED.tried:
        return _BED
    _BED.tried = True
    _BED.reason = _preconditions()
    if _BED.reason is None:
        from shipyard.errors import ShipyardError
        from shipyard.testbed import bed

        try:
            report = bed.up(printer=_BED.lines.append)
        except ShipyardError as exc:
            _BED.reason = f"the test bed could not be brought up: {exc}"
        else:
            _BED.engine = next((r.detail for r in report.results if r.name == "docker engine"), "up")
    return _BED


def _require_bed() -> BedState:
    state = _bring_up()
    if state.reason is not None:
        if os.environ.get("SHIPYARD_TESTBED_REQUIRED") == "1":
            pytest.fail(f"SHIPYARD_TESTBED_REQUIRED=1 but {state.reason}", pytrace=False)
        pytest.skip(state.reason)
    return state


@pytest.fixture(scope="session")
def docker_engine() -> BedState:
    """A reachable Docker engine with Compose, the registry and the base images (the whole test bed)."""
    return _require_bed()


@pytest.fixture(scope="session")
def registry(docker_engine: BedState) -> str:
    """The test bed registry's address: '127.0.0.1:5000' (deletes enabled)."""
    from shipyard.testbed import REGISTRY
    from shipyard.testbed.registry import answering

    if not answering(REGISTRY):
        pytest.fail(f"the test bed is up but no registry answers on {REGISTRY}", pytrace=False)
    return REGISTRY


@pytest.fixture(scope="session")
def base_images(docker_engine: BedState) -> dict[str, str]:
    """Base image names by key: debian, python, node, postgres, redis, haproxy, vm (all tag `bookworm`)."""
    from shipyard.testbed import BASE_IMAGES

    return dict(BASE_IMAGES)


@pytest.fixture
def vm_factory(docker_engine: BedState) -> Iterator[Callable[..., Any]]:
    """Start SSH "VMs" on free 127.0.0.1 ports: `vm_factory(docker=False, **start_vm_kwargs) -> VM`.

    Every VM started through the factory is removed (with its inner Docker volume) after the test.
    """
    from shipyard.testbed import vm

    host = vm.host_for()
    started: list[str] = []

    def start(name: str | None = None, **kwargs: Any) -> Any:
        name = name or f"pytest-vm-{uuid.uuid4().hex[:8]}"
        started.append(name)
        return vm.start_vm(host, name, **kwargs)

    yield start
    for name in started:
        vm.stop_vm(host, name)


@pytest.fixture
def ssh_host(vm_factory: Callable[..., Any]) -> Any:
    """One SSH host: `.address`, `.port`, `.user`, `.key`, `.known_hosts` (pinned host key), `.runner()`."""
    return vm_factory()


@pytest.fixture(scope="session")
def ssh_client() -> str:
    """Path of the OpenSSH client, for tests that drive `ssh` itself."""
    path = shutil.which("ssh")
    if path is None:
        pytest.skip("the OpenSSH client is not installed (invoke testbed.up installs openssh-client)")
    return path


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.tool("terraform", ...)`: the tools must be here (a failure under CI, a skip elsewhere)."""
    from tools import need_tool

    for marker in item.iter_markers("tool"):
        for tool in marker.args:
            need_tool(tool)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked docker/registry/ssh needs that part of the test bed, even without asking for the fixture."""
    for item in items:
        for marker, fixture in MARKER_FIXTURES.items():
            if item.get_closest_marker(marker) and fixture not in getattr(item, "fixturenames", []):
                item.fixturenames.append(fixture)  # type: ignore[attr-defined]


def pytest_configure(config: pytest.Config) -> None:
    """Skip reasons always appear in the short summary (as with -ra)."""
    chars = config.option.reportchars or ""
    if "s" not in chars and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from tools import in_ci, summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("tool-gated tests" + (" (CI: a missing tool fails)" if in_ci() else ""))
        for line in lines:
            terminalreporter.write_line(line)
    if not _BED.tried:
        return
    terminalreporter.section("shipyard test bed")
    if _BED.reason is not None:
        skipped = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(f"NOT AVAILABLE: {_BED.reason} ({skipped} test(s) skipped)")
        return
    for line in _BED.lines:
        terminalreporter.write_line(line)

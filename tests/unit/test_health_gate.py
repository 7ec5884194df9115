"""The health gate before a switch (`VmHost.wait_healthy`), on scripted proxy answers in the shape HAProxy gives.

Leaving maintenance, HAProxy says "up, last check passed" with its health counter at `rise` before any new check
(measured on the sandbox's HAProxy: op 2, check result 3, health 2 right after `set server ... state drain`). The
gate must never take that for a pass, must pass as soon as `rise` fresh checks passed after the server was seen
down, and must see a failed check inside its settle time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shipyard.commands import haproxy
from shipyard.commands.layout import Colour, HostLayout
from shipyard.facts.proxy import FDRAIN, ServerState
from shipyard.run import DryRunRunner
from shipyard.targets.vm import host as host_mod
from shipyard.targets.vm.host import StepFailed, VmHost

ADDRESS = "172.18.0.9"
FULL = haproxy.HEALTH_FULL


def state(op: bool, health: int, address: str = ADDRESS) -> ServerState:
    return ServerState("app", "blue", address, 8000, op, FDRAIN, health)


class Scripted(VmHost):
    """A host whose proxy answers from a script (one answer per poll; the last one repeats)."""

    def __init__(self, answers: list[ServerState]) -> None:
        super().__init__(DryRunRunner(host="h1"), HostLayout("demo"))
        self.answers: Iterator[ServerState] = iter(answers)
        self.last = answers[-1]
        self.polls = 0

    def container_status(self, service: str, colour: Colour) -> tuple[str, str | None]:
        return "running", ADDRESS

    def logs_tail(self, service: str, colour: Colour, lines: int = 20) -> str:
        return ""

    def servers(self, service: str | None = None) -> dict[tuple[str, str], ServerState]:
        self.polls += 1
        self.last = next(self.answers, self.last)
        return {("app", "blue"): self.last}


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_mod, "POLL", 0.01)
    monkeypatch.setattr(host_mod, "SETTLE", 0.05)


def test_the_stale_up_left_by_maintenance_never_passes() -> None:
    """Up, check result "passed", counter at `rise`: what leaving maintenance shows before any new check."""
    host = Scripted([state(True, haproxy.RISE)])
    with pytest.raises(StepFailed, match="never passed its readiness check"):
        host.wait_healthy("app", "blue", 0.3, "wait")


def test_rise_fresh_passes_after_a_failure_pass_at_once() -> None:
    host = Scripted([state(True, haproxy.RISE), state(False, 0), state(False, 1), state(True, FULL)])
    host.wait_healthy("app", "blue", 5, "wait")
    assert host.polls == 4  # no settle time: the passes that filled the counter all followed the failure


def test_never_seen_down_it_must_stay_full_for_the_settle_time() -> None:
    """A kept container that was up all along: one fresh pass fills the counter; a failed check inside the settle
    time (the counter drops back to `rise`, still "up") starts the wait again."""
    answers = [state(True, FULL), state(True, FULL), state(True, haproxy.RISE)] + [state(True, FULL)] * 3
    host = Scripted(answers)
    host.wait_healthy("app", "blue", 5, "wait")
    assert host.polls >= len(answers)  # not before the failed check had been seen and settled again


def test_a_pass_at_another_address_is_not_this_container() -> None:
    host = Scripted([state(False, 0), state(True, FULL, address="172.18.0.7")])
    with pytest.raises(StepFailed, match="never passed"):
        host.wait_healthy("app", "blue", 0.3, "wait")


def test_healthy_is_read_from_the_counter_not_the_last_result() -> None:
    """Lines as HAProxy wrote them on the sandbox: a steady server mid-check (result 0, "unknown", while the
    check runs) is healthy; the stale "passed" right after leaving maintenance (counter at rise) is not."""
    from shipyard.facts.proxy import parse_servers_state

    header = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight"
              " srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state"
              " srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl"
              " srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n")

    def line(result: int, health: int, check_state: int) -> str:
        return (f"3 app 1 blue {ADDRESS} 2 8 1 1 40 15 {result} {health} {check_state} 0 0 0 app-blue 8000 -"
                " 0 0 - - 0\n")

    mid_check = parse_servers_state(header + line(0, FULL, 7))[("app", "blue")]
    steady = parse_servers_state(header + line(3, FULL, 6))[("app", "blue")]
    left_maintenance = parse_servers_state(header + line(3, haproxy.RISE, 6))[("app", "blue")]
    assert (mid_check.healthy, steady.healthy, left_maintenance.healthy) == (True, True, False)

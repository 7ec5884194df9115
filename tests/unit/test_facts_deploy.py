"""Parsers of what hosts report: proxy runtime state, rendered config, containers, ledger, lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.commands.haproxy import Backend, render_config
from shipyard.commands.layout import HostLayout
from shipyard.facts import containers, ledger, lock, proxy

RECORDED = Path(__file__).parent / "recorded"


def test_servers_state_decodes_admin_bits_and_checks() -> None:
    # Health counters as the proxy keeps them with `rise 2 fall 2` (full at 3; leaving maintenance sets 2).
    states = proxy.parse_servers_state((RECORDED / "servers_state_switch.txt").read_text())
    blue, green = states[("app", "blue")], states[("app", "green")]
    assert (blue.admin, blue.healthy, blue.serving) == ("ready", True, True)
    assert (blue.address, blue.port) == ("127.0.0.1", 19001)
    assert (green.admin, green.healthy, green.serving) == ("drain", True, False)
    unresolved = states[("api", "blue")]
    assert (unresolved.admin, unresolved.address, unresolved.op_running) == ("maint", None, False)
    fresh = states[("api", "green")]
    # Just out of maintenance: HAProxy calls it running before any check has passed.
    assert (fresh.admin, fresh.op_running, fresh.healthy, fresh.serving) == ("ready", True, False, True)
    assert set(proxy.colours(states, "api")) == {"blue", "green"}


@pytest.mark.parametrize("text", ["", "\n"])
def test_servers_state_empty(text: str) -> None:
    assert proxy.parse_servers_state(text) == {}


@pytest.mark.parametrize("text", ["2\n# be_id\n", "1\n3 app 1 blue\n", "Unknown command\n"])
def test_servers_state_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        proxy.parse_servers_state(text)


@pytest.mark.parametrize(("live", "expected"), [
    ({"api": "blue", "web": None}, {"api": "blue", "web": None}),
    ({"api": "green", "web": "blue"}, {"api": "green", "web": "blue"}),
])
def test_config_live_round_trip(live: dict, expected: dict) -> None:  # type: ignore[type-arg]
    backends = [Backend("api", 8000, "/ready", live["api"]), Backend("web", 3000, "/api/health", live["web"])]
    text = render_config(HostLayout("demo"), backends, "web")
    assert proxy.parse_config_live(text) == expected


def test_containers_from_docker_ps_json() -> None:
    lines = [
        {"Names": "demo-api-blue", "Image": "127.0.0.1:5000/demo/api:aaaaaaaaaaaa", "State": "running",
         "Status": "Up 3 minutes", "Labels": "shipyard.colour=blue,shipyard.project=demo,shipyard.release="
         "aaaaaaaaaaaa,shipyard.role=app,shipyard.service=api"},
        {"Names": "demo-api-green", "Image": "127.0.0.1:5000/demo/api:bbbbbbbbbbbb", "State": "exited",
         "Status": "Exited (1) 2 seconds ago", "Labels": "shipyard.colour=green,shipyard.project=demo,"
         "shipyard.release=bbbbbbbbbbbb,shipyard.role=app,shipyard.service=api"},
        {"Names": "demo-proxy", "Image": "haproxy:2.8", "State": "running", "Status": "Up",
         "Labels": "shipyard.project=demo,shipyard.role=proxy"},
    ]
    parsed = containers.parse_ps("\n".join(json.dumps(x) for x in lines) + "\n")
    grouped = containers.by_service(parsed)
    assert set(grouped) == {"api"}
    assert grouped["api"]["blue"].running and grouped["api"]["blue"].release == "aaaaaaaaaaaa"
    assert not grouped["api"]["green"].running
    assert parsed[2].role == "proxy" and parsed[2].colour is None


def test_images_and_address() -> None:
    text = json.dumps({"Repository": "127.0.0.1:5000/demo/api", "Tag": "aaaaaaaaaaaa", "ID": "sha256:1",
                       "CreatedAt": "2025-01-01 10:00:00 +0000 UTC"})
    assert containers.parse_images(text) == [containers.Image("127.0.0.1:5000/demo/api", "aaaaaaaaaaaa",
                                                              "sha256:1", "2025-01-01 10:00:00 +0000 UTC")]
    assert containers.parse_status("running 172.18.0.4\n") == ("running", "172.18.0.4")
    assert containers.parse_status("created \n") == ("created", None)


def test_ledger_round_trip_skips_torn_line() -> None:
    first = ledger.Entry(at="2025-01-01T10:00:00Z", action="deploy", who="ana@ci", outcome="ok", host="h1",
                         release="aaaaaaaaaaaa", hosts=["h1", "h2"], services={"api": "r/api:aaaaaaaaaaaa"},
                         phases={"pull": 1.5, "switch": 0.01})
    second = ledger.Entry(at="2025-01-01T11:00:00Z", action="deploy", who="ana@ci", outcome="failed", host="h1",
                          release="bbbbbbbbbbbb", error="never healthy")
    third = ledger.Entry(at="2025-01-01T12:00:00Z", action="rollback", who="bo@laptop", outcome="ok", host="h1",
                         release="cccccccccccc")
    text = "\n".join(e.to_json() for e in (first, second, third)) + '\n{"at": "2025-01-01T13:00'
    parsed = ledger.parse_ledger(text)
    assert parsed == [first, second, third]
    assert ledger.releases(parsed) == ["cccccccccccc", "aaaaaaaaaaaa"]


def test_lease_round_trip_and_corruption() -> None:
    lease = lock.Lease(id="abc", holder="ana@ci", machine="ci", pid=42, reason="deploy staging",
                       started=1000.0, expires=1120.0)
    assert lock.parse_lease(lease.to_json()) == lease
    assert '"id": "abc"' in lease.to_json()  # what the host-side script matches
    assert lock.parse_lease("") is None
    corrupt = lock.parse_lease("{not json")
    assert corrupt is not None and corrupt.expires == float("inf")
    assert "held by ana@ci (pid 42)" in lease.describe(1060.0) and "expires in 60s" in lease.describe(1060.0)
    assert "expired 30s ago" in lease.describe(1150.0)


def test_the_hosts_age_line_is_parsed_and_judges_expiry() -> None:
    """What lock.sh answers: the lease, then `age=<seconds>` by the host's clock. With a ttl, that age alone says
    whether it expired: the recorded expiry (the holder's clock) and ours are not compared."""
    lease = lock.Lease(id="abc", holder="ana@ci", machine="ci", pid=42, reason="deploy staging",
                       started=1000.0, expires=1120.0, ttl=120.0, machine_id="0123456789abcdef", pid_start=777)
    seen = lock.parse_lease(lease.to_json() + "\nage=130\n")
    assert seen is not None and seen.age == 130.0
    assert (seen.ttl, seen.machine_id, seen.pid_start) == (120.0, "0123456789abcdef", 777)
    assert seen.expired(1060.0) and "expired 10s ago" in seen.describe(1060.0)  # our clock says 60s are left
    fresh = lock.parse_lease(lease.to_json() + "\nage=30\n")
    assert fresh is not None and not fresh.expired(99999.0) and "expires in 90s" in fresh.describe(99999.0)
    assert "age" not in json.loads(seen.to_json())  # the host's answer is never written back
    assert lock.parse_lease("age=12\n") is None  # lock.sh never prints an age without a lease; tolerated
    unread = lock.parse_lease("{not json\nage=5")
    assert unread is not None and unread.expires == float("inf") and not unread.expired(1e12)


def test_a_lease_of_an_older_shipyard_parses_and_falls_back_to_its_expiry() -> None:
    old = ('{"expires": 1120.0, "holder": "ana@ci", "id": "abc", "machine": "ci", "pid": 42, '
           '"reason": "deploy staging", "started": 1000.0}')
    seen = lock.parse_lease(old + "\nage=500\n")
    assert seen is not None and (seen.ttl, seen.machine_id, seen.pid_start, seen.age) == (None, None, None, 500.0)
    assert not seen.expired(1119.0) and seen.expired(1120.0)  # no ttl: only the recorded expiry can be judged
    assert "expires in 20s" in seen.describe(1100.0)


@pytest.mark.parametrize(("stat", "start"), [
    ("4242 (python3) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 10000 200", 98765),
    ("4242 (a) b (c d) R 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 555 10000 200", 555),  # ')' in the name
    ("4242 (short) S 1 2 3", None),
    ("garbage", None),
    ("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 0 0", None),
])
def test_process_start_from_proc_stat(stat: str, start: int | None) -> None:
    assert lock.parse_process_start(stat) == start


def test_process_start_of_this_process_is_read_from_proc() -> None:
    import os

    from shipyard.targets.vm.lock import process_start

    text = Path(f"/proc/{os.getpid()}/stat")
    if not text.exists():
        pytest.skip("no /proc here: the start time is None, and only a dead pid allows a takeover")
    assert process_start(os.getpid()) == lock.parse_process_start(text.read_text()) and process_start(os.getpid())
    assert process_start(2**22 + 1) is None  # above pid_max: no such process

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

"""Parsers of `docker compose` output, on outputs recorded from the real Compose v5 plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.facts import compose as facts

RECORDED = Path(__file__).parent / "compose_recorded"


def test_ps_lines_while_starting() -> None:
    states = facts.parse_ps((RECORDED / "ps_starting.jsonl").read_text())
    assert [(s.service, s.state, s.health, s.ready) for s in states] == [
        ("postgres", "running", "starting", False), ("redis", "running", "healthy", True)]
    assert facts.not_ready(states, ["postgres", "redis", "api"]) == ["postgres", "api"]


def test_ps_with_a_killed_container_and_published_ports() -> None:
    states = {s.service: s for s in facts.parse_ps((RECORDED / "ps_redis_killed.jsonl").read_text())}
    assert states["redis"].condition == "exited(137)"
    assert not states["redis"].ready
    assert states["postgres"].condition == "healthy"
    assert states["postgres"].url == "http://127.0.0.1:15432"
    assert states["redis"].url is None


def test_ps_json_array_of_older_compose_and_empty_output() -> None:
    lines = (RECORDED / "ps_redis_killed.jsonl").read_text().splitlines()
    as_array = json.dumps([json.loads(line) for line in lines])
    assert facts.parse_ps(as_array) == facts.parse_ps("\n".join(lines))
    assert facts.parse_ps("") == []
    assert facts.parse_ps("[]") == []


def test_duplicate_ipv4_ipv6_bindings_collapse_and_any_address_maps_to_loopback() -> None:
    line = json.dumps({"Service": "web", "Name": "p-web-1", "State": "running", "Health": "", "ExitCode": 0,
                       "Publishers": [{"URL": "0.0.0.0", "TargetPort": 3000, "PublishedPort": 3000, "Protocol": "tcp"},
                                      {"URL": "::", "TargetPort": 3000, "PublishedPort": 3000, "Protocol": "tcp"},
                                      {"URL": "", "TargetPort": 9229, "PublishedPort": 0, "Protocol": "tcp"}]})
    (state,) = facts.parse_ps(line)
    assert len(state.published) == 1
    assert state.url == "http://127.0.0.1:3000"
    assert state.ready and state.condition == "running"  # no healthcheck: running is ready


def test_built_images_follow_compose_naming() -> None:
    config = {"name": "demo", "services": {
        "api": {"build": {"context": "."}},
        "web": {"build": {"context": "."}, "image": "acme/web:dev"},
        "postgres": {"image": "postgres:16"}}}
    assert facts.built_images(config) == {"api": "demo-api", "web": "acme/web:dev"}
    assert facts.services(config) == ["api", "postgres", "web"]


@pytest.mark.parametrize("bad", ["not json", "[1, 2"])
def test_garbage_is_an_error_not_an_empty_stack(bad: str) -> None:
    with pytest.raises(ValueError):
        facts.parse_ps(bad)

"""Valid configurations load into typed objects; overrides merge per environment."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from shipyard.config import load, parse
from shipyard.config.schema import KubernetesEnvironment, VmEnvironment
from shipyard.errors import ShipyardError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = textwrap.dedent("""\
    project: demo
    registry: {address: 127.0.0.1:5000, namespace: demo}
    services:
      api: {port: 8000}
""")


def test_repository_config_is_valid() -> None:
    config = load(ROOT / "shipyard.yaml")
    assert config.project.project == "shipyard-demo"
    assert set(config.project.services) >= {"api", "web"}
    assert config.registry().retain == 5


def test_example_config_is_valid_and_covers_every_target() -> None:
    config = load(ROOT / "docs" / "shipyard.example.yaml")
    targets = {env.target for env in config.project.environments.values()}
    assert targets == {"compose", "vm", "kubernetes"}


def test_defaults_applied() -> None:
    config = parse(MINIMAL)
    api = config.services()["api"]
    assert api.health.liveness == "/health" and api.health.readiness == "/ready"
    assert api.dockerfile == "Dockerfile" and api.context == "."
    assert config.registry().retain == 5


def test_host_strings_and_mappings() -> None:
    config = parse(MINIMAL + textwrap.dedent("""\
        environments:
          staging:
            target: vm
            hosts: [10.0.0.5, "web-1.example.com:2222", {address: "::1", name: local6}]
    """))
    env = config.environment("staging")
    assert isinstance(env, VmEnvironment)
    assert [(h.address, h.port) for h in env.hosts] == [("10.0.0.5", None), ("web-1.example.com", 2222),
                                                        ("::1", None)]
    assert env.hosts[2].label == "local6"
    assert env.ssh.user == "root" and env.deploy.strategy == "parallel"


def test_per_environment_overrides_merge_deeply() -> None:
    config = parse(MINIMAL + textwrap.dedent("""\
        environments:
          prod:
            target: kubernetes
            context: do-prod
            chart: helm/app
            overrides:
              services:
                api: {env: {LOG_LEVEL: warning}, health: {readiness: /ready/deep}}
              registry: {address: registry.digitalocean.com, retain: 10}
    """))
    assert isinstance(config.environment("prod"), KubernetesEnvironment)
    api = config.services("prod")["api"]
    assert api.env == {"LOG_LEVEL": "warning"}
    assert api.health.readiness == "/ready/deep" and api.health.liveness == "/health"
    assert api.port == 8000
    assert config.registry("prod").address == "registry.digitalocean.com"
    assert config.registry("prod").namespace == "demo"
    assert config.services()["api"].env == {}


def test_unknown_environment_is_one_line_error() -> None:
    config = parse(MINIMAL)
    with pytest.raises(ShipyardError, match=r"unknown environment 'nope' \(defined in shipyard.yaml: none\)"):
        config.environment("nope")

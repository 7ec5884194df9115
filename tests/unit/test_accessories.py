"""Accessories and the environment of VM services: placement, references, env files, argv. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.commands import accessory as acc_cmd
from shipyard.commands.layout import HostLayout
from shipyard.config import load, parse
from shipyard.config.schema import VmEnvironment
from shipyard.errors import ShipyardError
from shipyard.sandbox.vms import sandbox_accessories, stand_in
from shipyard.targets.vm import accessories as acc
from shipyard.targets.vm.env import env_files, environment_problems, missing_required

ROOT = Path(__file__).resolve().parents[2]

TWO_HOSTS = {"target": "vm", "hosts": [{"address": "a.example.com", "private_address": "10.0.0.2"},
                                       {"address": "b.example.com", "private_address": "10.0.0.3"}],
             "accessories": {"postgres": {"image": "postgres:16", "port": 5432},
                             "cache": {"image": "redis:7", "port": 6379, "host": "all"}}}


def env(**changes: object) -> VmEnvironment:
    return VmEnvironment.model_validate({**TWO_HOSTS, **changes})


def test_an_accessory_on_one_of_several_hosts_is_reached_on_its_private_address() -> None:
    e = env()
    assert acc.endpoint(e, "postgres") == ("10.0.0.2", 5432)
    assert acc.publish(e, "postgres") == "10.0.0.2:5432:5432"  # never 0.0.0.0, never a public address
    assert [h.address for h in acc.hosts_of(e, e.accessories["postgres"])] == ["a.example.com"]


def test_an_accessory_on_every_host_or_a_single_host_is_reached_by_name_and_not_published() -> None:
    e = env()
    assert acc.endpoint(e, "cache") == ("cache", 6379) and acc.publish(e, "cache") is None
    single = VmEnvironment.model_validate({**TWO_HOSTS, "hosts": ["a.example.com"]})
    assert acc.endpoint(single, "postgres") == ("postgres", 5432) and acc.publish(single, "postgres") is None


def test_references_resolve_per_environment_and_an_unknown_one_is_named() -> None:
    values = {"DB": "${accessories.postgres.host}:${accessories.postgres.port}",
              "URL": "redis://${accessories.cache.host}:${accessories.cache.port}/0", "PLAIN": "x"}
    assert acc.resolve_refs(values, env(), "staging") == {"DB": "10.0.0.2:5432", "URL": "redis://cache:6379/0",
                                                          "PLAIN": "x"}
    with pytest.raises(ShipyardError, match="X: refers to accessory 'mysql', which environment 'staging' does not"
                                            r" define \(accessories: postgres, cache\)"):
        acc.resolve_refs({"X": "${accessories.mysql.host}"}, env(), "staging")


def test_spec_hash_changes_with_what_the_container_is_created_from() -> None:
    e = env()
    base = acc.spec_hash(e.accessories["postgres"], None, "A=1\n")
    assert base == acc.spec_hash(e.accessories["postgres"], None, "A=1\n")
    assert base != acc.spec_hash(e.accessories["postgres"], None, "A=2\n")  # a new secret value recreates it
    assert base != acc.spec_hash(e.accessories["cache"], None, "A=1\n")
    assert base != acc.spec_hash(e.accessories["postgres"], "10.0.0.2:5432:5432", "A=1\n")


def test_run_argv_keeps_volumes_named_rotates_logs_and_takes_the_env_from_a_file() -> None:
    layout = HostLayout("shop")
    argv = acc_cmd.run(layout, "postgres", "postgres:16", spec="abc", volumes={"pgdata": "/var/lib/postgresql/data"},
                       publish="10.0.0.2:5432:5432", health=["pg_isready", "-U", "shop"], command=[],
                       env_file_path="/var/lib/shipyard/shop/env/accessory-postgres.env")
    assert argv[:6] == ["docker", "run", "--detach", "--name", "shop-postgres", "--network"]
    assert argv[argv.index("--network-alias"):argv.index("--network-alias") + 2] == ["--network-alias", "postgres"]
    assert "shop_pgdata:/var/lib/postgresql/data" in argv and "10.0.0.2:5432:5432" in argv
    assert argv[argv.index("--log-opt"):argv.index("--log-opt") + 2] == ["--log-opt", "max-size=10m"]
    assert argv[argv.index("--health-cmd") + 1] == "pg_isready -U shop"
    assert argv[argv.index("--env-file") + 1].endswith("accessory-postgres.env")
    assert argv[-1] == "postgres:16" and "--env" not in argv  # values only in the mode-600 file, never in argv
    assert acc_cmd.remove(layout, "postgres") == ["docker", "rm", "--force", "shop-postgres"]


def test_parse_inspect() -> None:
    assert acc.parse_inspect("h", "db", "running healthy abc\n", True).ready
    assert not acc.parse_inspect("h", "db", "running starting abc\n", True).ready
    assert acc.parse_inspect("h", "db", "running - abc", True).ready  # no health command: running is ready
    assert acc.parse_inspect("h", "db", "", False).status == "missing"


def test_env_text_refuses_a_newline() -> None:
    assert acc.env_text({"B": "2", "A": "1"}) == "A=1\nB=2\n"
    with pytest.raises(ShipyardError, match="X: a value with a newline"):
        acc.env_text({"X": "a\nb"})


def test_the_reference_environments_give_the_api_everything_it_requires() -> None:
    config = load(ROOT / "shipyard.yaml")
    assert environment_problems(config) == []
    assert config.services("staging")["api"].requires  # the check has something to check


def test_a_missing_required_variable_is_named_per_environment() -> None:
    config = load(ROOT / "shipyard.yaml")
    services = {name: s.model_copy(update={"env": {k: v for k, v in s.env.items() if k != "REDIS_URL"}})
                for name, s in config.services("staging").items()}
    assert missing_required(services, "staging") == [
        "environment 'staging': service api requires REDIS_URL, which neither its env nor its secrets provide"]


def test_env_files_resolve_secrets_and_references(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load(ROOT / "shipyard.yaml")
    staging = config.environment("staging")
    assert isinstance(staging, VmEnvironment)
    monkeypatch.setenv("POSTGRES_PASSWORD", "canary-accessory-7f1")
    apps, extras = env_files(config, "staging", staging, config.services("staging"))
    assert "POSTGRES_HOST=10.10.0.2\n" in apps["api"] and "REDIS_URL=redis://10.10.0.2:6379/0\n" in apps["api"]
    assert "POSTGRES_PASSWORD=canary-accessory-7f1\n" in apps["api"]
    expected = "POSTGRES_DB=shipyard\nPOSTGRES_PASSWORD=canary-accessory-7f1\n"  # pragma: allowlist secret
    assert extras["postgres"] == expected + "POSTGRES_USER=shipyard\n"
    assert "redis" not in extras  # nothing to say: no env file
    monkeypatch.delenv("POSTGRES_PASSWORD")
    with pytest.raises(ShipyardError, match="service api: secret POSTGRES_PASSWORD: environment variable"):
        env_files(config, "staging", staging, config.services("staging"))


def test_the_sandbox_swaps_official_images_for_the_test_beds_stand_ins() -> None:
    assert stand_in("postgres:16") == "127.0.0.1:5000/shipyard-base/postgres:bookworm"
    assert stand_in("docker.io/library/redis:7@sha256:abc") == "127.0.0.1:5000/shipyard-base/redis:bookworm"
    assert stand_in("ghcr.io/acme/search:1") == "ghcr.io/acme/search:1"
    assert sandbox_accessories({"db": {"image": "postgres:16", "port": 5432}}) == {
        "db": {"image": "127.0.0.1:5000/shipyard-base/postgres:bookworm", "port": 5432}}


def test_config_with_an_unknown_accessory_reference_is_reported() -> None:
    text = (ROOT / "shipyard.yaml").read_text().replace("${accessories.redis.host}", "${accessories.valkey.host}")
    problems = environment_problems(parse(text))
    assert "environment 'staging': service api REDIS_URL refers to accessory 'valkey', which the environment" \
           " does not define" in problems

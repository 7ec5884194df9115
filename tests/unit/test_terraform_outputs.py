"""Terraform outputs -> shipyard.yaml hosts, and terraform fmt / linter output -> one-line problems."""

from __future__ import annotations

import json

import pytest

from shipyard.config import parse
from shipyard.errors import ShipyardError
from shipyard.infra.checks import fmt_problems, lint_lines
from shipyard.infra.environments import output_value, parse_hosts, render_hosts

FULL = {
    "shipyard_hosts": {"sensitive": False, "type": ["list", "string"], "value": ["203.0.113.10", "203.0.113.11"]},
    "deploy_user": {"sensitive": False, "type": "string", "value": "deploy"},
    "database_password": {"sensitive": True, "type": "string", "value": "not-printed-anywhere"},
}


def test_hosts_from_a_single_output() -> None:
    assert parse_hosts('["203.0.113.10","203.0.113.11"]\n') == ["203.0.113.10", "203.0.113.11"]


def test_hosts_from_a_saved_full_document() -> None:
    assert parse_hosts(json.dumps(FULL)) == ["203.0.113.10", "203.0.113.11"]
    assert output_value(json.dumps(FULL), "deploy_user") == "deploy"


@pytest.mark.parametrize(("stdout", "message"), [
    ("[]", "terraform output shipyard_hosts is empty: the environment has no droplets yet (next: run "
           "`invoke infra.plan` and `invoke infra.apply` for it)"),
    ('"10.0.0.1"', "terraform output shipyard_hosts must be a list of addresses, got str"),
    ('["10.0.0.1", "not a host!"]', "terraform output shipyard_hosts: not a host name or address: not a host!"),
    ("{oops", "terraform output shipyard_hosts: not JSON (next: run `terraform output -json shipyard_hosts` in the "
              "environment to see why)"),
    ('{"vpc_id": {"type": "string", "value": "x"}}', "terraform output has no 'shipyard_hosts' (outputs: vpc_id) "
     "(next: run `invoke infra.apply` first, or check the environment's outputs.tf)"),
])
def test_bad_outputs_are_one_line(stdout: str, message: str) -> None:
    with pytest.raises(ShipyardError) as err:
        parse_hosts(stdout)
    assert str(err.value) == message


def test_yaml_snippet_is_valid_shipyard_config() -> None:
    snippet = render_hosts("staging", ["203.0.113.10", "203.0.113.11"], "deploy", "yaml")
    assert snippet.splitlines()[1:] == ["environments:", "  staging:", "    target: vm", "    hosts:",
                                        "      - 203.0.113.10", "      - 203.0.113.11",
                                        "    ssh:", "      user: deploy"]
    config = parse("project: shop\nregistry: {address: registry.digitalocean.com, namespace: acme}\n"
                   "services: {api: {port: 8000}}\n" + snippet + "\n")
    env = config.environment("staging")
    assert [h.address for h in env.hosts] == ["203.0.113.10", "203.0.113.11"]  # type: ignore[union-attr]
    assert env.ssh.user == "deploy"  # type: ignore[union-attr]


def test_json_and_lines_formats() -> None:
    assert render_hosts("dev", ["10.0.0.1"], None, "json") == '["10.0.0.1"]'
    assert render_hosts("dev", ["10.0.0.1", "10.0.0.2"], None, "lines") == "10.0.0.1\n10.0.0.2"
    with pytest.raises(ShipyardError, match="unknown format 'toml'"):
        render_hosts("dev", ["10.0.0.1"], None, "toml")


def test_fmt_check_lists_unformatted_files() -> None:
    problems = fmt_problems(3, "terraform/modules/network/main.tf\n", "")
    assert [str(p) for p in problems] == ["terraform/modules/network/main.tf: not in canonical format "
                                          "(run `invoke infra.fmt`)"]


def test_fmt_diagnostics_become_file_line_problems() -> None:
    stderr = ("╷\n│ Error: Invalid expression\n│ \n│   on terraform/modules/network/main.tf line 7, in resource:\n"
              "│    7:   a = \n╵\n")
    assert [str(p) for p in fmt_problems(2, "", stderr)] == [
        "terraform/modules/network/main.tf:7: terraform fmt: Invalid expression"]


def test_fmt_clean() -> None:
    assert fmt_problems(0, "", "") == []


def test_lint_lines() -> None:
    out = ".github/workflows/ci.yml:12:5: property \"foo\" is not defined [syntax-check]\n"
    assert [str(p) for p in lint_lines(out)] == [
        '.github/workflows/ci.yml:12: property "foo" is not defined [syntax-check] (col 5)']


def test_private_addresses_from_terraform_become_private_address() -> None:
    from shipyard.infra.environments import parse_private

    hosts = ["203.0.113.10", "203.0.113.11"]
    outputs = json.dumps({"shipyard_hosts": {"value": hosts}, "private_hosts": {"value": ["10.10.0.2", "10.10.0.3"]}})
    private = parse_private(outputs, hosts)
    assert private == ["10.10.0.2", "10.10.0.3"]
    snippet = render_hosts("staging", hosts, "deploy", "yaml", private)
    config = parse("project: shop\nregistry: {address: registry.digitalocean.com, namespace: acme}\n"
                   "services: {api: {port: 8000}}\n" + snippet + "\n"
                   "    accessories: {db: {image: 'postgres:16', port: 5432}}\n")
    env = config.environment("staging")
    assert [h.private_address for h in env.hosts] == private  # type: ignore[union-attr]
    # an older state without the output, or one that does not line up, gives plain hosts
    assert parse_private(json.dumps({"shipyard_hosts": {"value": hosts}}), hosts) is None
    assert parse_private(json.dumps({"private_hosts": {"value": ["10.10.0.2"]}}), hosts) is None

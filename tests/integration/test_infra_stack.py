"""The environments are thin roots over modules/shipyard-stack: one module call each, no resources of their own,
outputs passed through, and (with the real terraform, offline) every environment's committed values and its
terraform.tfvars.example pass the stack's validation blocks while bad values fail on the line that passes them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "terraform"
STACK = TERRAFORM_DIR / "modules" / "shipyard-stack"
ENVS = ["dev", "staging", "production"]
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
needs_terraform = pytest.mark.tool("terraform")  # the HCL checks run without it


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = hcl2.load(path.open())
    return data


def named(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    return {name.strip('"'): body for block in load(path).get(kind, []) for name, body in block.items()}


def stack_call(env: str) -> dict[str, Any]:
    calls = named(TERRAFORM_DIR / "environments" / env / "main.tf", "module")
    assert list(calls) == ["stack"], f"{env}: one module call, named stack"
    return calls["stack"]


def terraform(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TERRAFORM, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
                          check=False, env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin",
                                            "TF_IN_AUTOMATION": "1"})


@pytest.mark.parametrize("env", ENVS)
def test_environment_is_one_stack_call_and_pass_through_outputs(env: str) -> None:
    folder = TERRAFORM_DIR / "environments" / env
    call = stack_call(env)
    assert call["source"] == '"../../modules/shipyard-stack"'
    assert call["environment"] == f'"{env}"'
    for path in folder.glob("*.tf"):
        data = load(path)
        assert not data.get("resource") and not data.get("data") and not data.get("locals"), \
            f"{path.name}: an environment root builds nothing itself; add it to modules/shipyard-stack"
    outputs = named(folder / "outputs.tf", "output")
    assert set(outputs) == set(named(STACK / "outputs.tf", "output"))
    for name, body in outputs.items():
        assert body["value"] == f"${{module.stack.{name}}}", f"{env}: output {name} is not a pass-through"
        assert body.get("sensitive", False) is ("password" in name), name


def test_environments_keep_their_documented_shape() -> None:
    """The table in docs/INFRA.md, from the committed values (drift between environments shows up here)."""
    shape = {env: {k: v for k, v in stack_call(env).items() if not k.startswith("__")
                   and not (isinstance(v, str) and v.startswith("${var."))} for env in ENVS}
    assert shape["dev"] == {"source": '"../../modules/shipyard-stack"', "environment": '"dev"',
                            "vpc_ip_range": '"10.10.0.0/20"', "droplet_count": 1, "droplet_size": '"s-1vcpu-1gb"'}
    assert {k: shape["staging"][k] for k in ("vpc_ip_range", "droplet_count", "droplet_size", "enable_load_balancer",
                                             "enable_database", "database_node_count")} == {
        "vpc_ip_range": '"10.20.0.0/20"', "droplet_count": 2, "droplet_size": '"s-1vcpu-2gb"',
        "enable_load_balancer": True, "enable_database": True, "database_node_count": 1}
    assert {k: shape["production"][k] for k in ("vpc_ip_range", "droplet_count", "droplet_size", "backups",
                                                "reserved_ips", "enable_load_balancer", "enable_database",
                                                "database_node_count")} == {
        "vpc_ip_range": '"10.30.0.0/20"', "droplet_count": 3, "droplet_size": '"s-2vcpu-4gb"', "backups": True,
        "reserved_ips": True, "enable_load_balancer": True, "enable_database": True, "database_node_count": 2}
    assert stack_call("staging")["create_registry"] == "${var.create_registry}"  # one registry per account
    assert "create_registry" not in stack_call("dev") and "create_registry" not in stack_call("production")


@needs_terraform
def test_web_ingress_is_the_load_balancer_only_when_there_is_one(tmp_path: Path) -> None:
    """The stack's firewall inputs, evaluated by the real terraform with and without a load balancer."""
    cluster = named(STACK / "main.tf", "module")["cluster"]
    values = []
    for enabled in ("true", "false"):
        for key in ("web_source_addresses", "web_source_load_balancer_uids"):
            expression = cluster[key].removeprefix("${").removesuffix("}")
            expression = expression.replace("var.enable_load_balancer", enabled)
            expression = expression.replace("module.loadbalancer.id", '"lb-uid"')
            result = terraform("console", cwd=tmp_path, stdin=f"jsonencode({expression})\n")
            assert result.returncode == 0, result.stderr
            values.append(json.loads(json.loads(result.stdout)))
    assert values == [[], ["lb-uid"], ["0.0.0.0/0", "::/0"], []]


def root_over_stack_variables(tmp_path: Path, env: str) -> Path:
    """The environment's main.tf, variables.tf and tfvars example over the stack's variables.tf alone: what
    terraform can plan without the DigitalOcean provider, so the stack's validation blocks really run."""
    stack = tmp_path / "modules" / "shipyard-stack"
    stack.mkdir(parents=True)
    shutil.copy(STACK / "variables.tf", stack)
    folder = tmp_path / "environments" / env
    folder.mkdir(parents=True)
    for name in ("main.tf", "variables.tf"):
        shutil.copy(TERRAFORM_DIR / "environments" / env / name, folder)
    shutil.copy(TERRAFORM_DIR / "environments" / env / "terraform.tfvars.example", folder / "terraform.tfvars")
    init = terraform("init", "-input=false", "-no-color", "-backend=false", cwd=folder)
    assert init.returncode == 0, init.stdout + init.stderr
    return folder


@needs_terraform
@pytest.mark.parametrize("env", ENVS)
def test_committed_values_and_tfvars_example_pass_the_stack_validation(tmp_path: Path, env: str) -> None:
    folder = root_over_stack_variables(tmp_path, env)
    result = terraform("plan", "-input=false", "-no-color", "-lock=false", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_terraform
@pytest.mark.parametrize(("var", "value", "message"), [
    ("project", '"Shop"', "project must be 3-22 lowercase letters, digits or '-', starting with a letter."),
    ("region", '"frankfurt"', "region must be a region slug such as fra1, ams3 or nyc3."),
    ("ssh_key_fingerprints", '["my-laptop"]', "ssh_key_fingerprints must hold at least one MD5 fingerprint"),
    ("deploy_public_keys", "[]", "give at least one public key for the deploy user."),
    ("ssh_source_addresses", "[]", "ssh_source_addresses must be a non-empty list of CIDRs"),
    ("ssh_source_addresses", '["203.0.113.0/33"]', "ssh_source_addresses must be a non-empty list of CIDRs"),
    ("alert_emails", '["ops"]', "alert_emails must be e-mail addresses."),
    ("certificate_name", '"my cert"', "certificate_name must be null or the name of a certificate"),
])
def test_bad_values_fail_on_the_line_that_passes_them(tmp_path: Path, var: str, value: str, message: str) -> None:
    folder = root_over_stack_variables(tmp_path, "production")
    result = terraform("plan", "-input=false", "-no-color", "-lock=false", f"-var={var}={value}", cwd=folder)
    assert result.returncode == 1
    text = re.sub(r"\s+", " ", result.stderr)
    line = next(n for n, text_line in enumerate((folder / "main.tf").read_text().splitlines(), 1)
                if text_line.strip().startswith(f"{var} "))
    assert f'on main.tf line {line}, in module "stack":' in text, text
    assert message in text, text
    assert text.count("Invalid value for variable") == 1, text

"""infra.plan -> infra.apply -> infra.hosts with the real terraform binary, on a provider-less environment
with a local state backend (what can run offline), canary credentials planted in the environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.config import parse

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")
pytestmark = pytest.mark.tool("terraform")

MAIN_TF = """\
terraform {
  backend "local" {}
}

variable "hosts" {
  type    = list(string)
  default = ["127.0.0.1", "127.0.0.2"]
}

output "shipyard_hosts" {
  value = var.hosts
}

output "deploy_user" {
  value = "deploy"
}

output "database_password" {
  value     = "PASSWORD"
  sensitive = true
}
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    env = tmp_path / "terraform" / "environments" / "sandbox"
    env.mkdir(parents=True)
    (env / "main.tf").write_text(MAIN_TF.replace("PASSWORD", "db-" + secrets.token_hex(8)))
    (env / "backend.hcl").write_text('path = "state/terraform.tfstate"\n')
    return tmp_path


@pytest.fixture
def creds() -> dict[str, str]:
    return {"DIGITALOCEAN_TOKEN": "canary-do-" + secrets.token_hex(12),
            "AWS_ACCESS_KEY_ID": "canary-id-" + secrets.token_hex(6),
            "AWS_SECRET_ACCESS_KEY": "canary-key-" + secrets.token_hex(12)}  # pragma: allowlist secret


def invoke(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("SHIPYARD_CONFIG", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID",
                         "AWS_SECRET_ACCESS_KEY")}
    return subprocess.run([INVOKE, "--search-root", str(ROOT), *args], cwd=cwd,
                          env={**base, "TF_CLI_CONFIG_FILE": "/dev/null", **env}, capture_output=True, text=True,
                          timeout=300, check=False)


def test_dry_runs_print_the_exact_commands(workdir: Path) -> None:
    plan = invoke("infra.plan", "--env", "sandbox", "--dry-run", cwd=workdir, env={})
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines() == [
        "[local] would run: terraform -chdir=terraform/environments/sandbox init -input=false "
        "-backend-config=backend.hcl",
        "[local] would run: terraform -chdir=terraform/environments/sandbox plan -input=false -out=tfplan",
    ]
    apply = invoke("infra.apply", "--env", "sandbox", "--dry-run", cwd=workdir, env={})
    assert apply.stdout.splitlines() == [
        "[local] would run: terraform -chdir=terraform/environments/sandbox apply -input=false tfplan"]
    assert not (workdir / "terraform/environments/sandbox/.terraform").exists()


def test_user_errors_are_one_line(workdir: Path, creds: dict[str, str]) -> None:
    cases = [
        (("infra.plan", "--env", "qa"), {}, "error: no Terraform environment 'qa' in terraform/environments "
                                            "(environments: sandbox) (next: pass --env with one of them)"),
        (("infra.plan", "--env", "sandbox"), {}, "error: DIGITALOCEAN_TOKEN is not set (next: export "
                                                 "DIGITALOCEAN_TOKEN=... (a DigitalOcean API token; in CI a GitHub "
                                                 "secret))"),
        (("infra.plan", "--env", "sandbox"), {"DIGITALOCEAN_TOKEN": creds["DIGITALOCEAN_TOKEN"]},
         "error: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set: the state backend (Spaces) needs them (next: "
         "export a Spaces access key pair as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"),
        (("infra.apply", "--env", "sandbox"), creds, "error: infra.apply changes real infrastructure of 'sandbox' "
                                                     "and needs --yes (next: review `invoke infra.plan --env "
                                                     "sandbox`, then add --yes)"),
        (("infra.apply", "--env", "sandbox", "--yes"), creds, "error: no saved plan in terraform/environments/"
                                                              "sandbox (next: run `invoke infra.plan --env sandbox` "
                                                              "first)"),
    ]
    for args, env, message in cases:
        result = invoke(*args, cwd=workdir, env=env)
        assert result.returncode == 1, args
        assert result.stderr.strip() == message


def test_missing_backend_config_says_what_to_copy(workdir: Path, creds: dict[str, str]) -> None:
    (workdir / "terraform/environments/sandbox/backend.hcl").unlink()
    result = invoke("infra.plan", "--env", "sandbox", cwd=workdir, env=creds)
    assert result.stderr.strip() == ("error: terraform/environments/sandbox/backend.hcl not found: the state backend "
                                     "is not configured (next: cp terraform/environments/sandbox/backend.hcl.example "
                                     "terraform/environments/sandbox/backend.hcl and edit it)")


def test_plan_apply_hosts_with_real_terraform(workdir: Path, creds: dict[str, str]) -> None:
    folder = workdir / "terraform/environments/sandbox"
    plan = invoke("infra.plan", "--env", "sandbox", cwd=workdir, env=creds)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert (folder / "tfplan").is_file()
    assert plan.stdout.strip().splitlines()[-1] == ("plan saved to terraform/environments/sandbox/tfplan; review it, "
                                                    "then: invoke infra.apply --env sandbox --yes")
    apply = invoke("infra.apply", "--env", "sandbox", "--yes", cwd=workdir, env=creds)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert not (folder / "tfplan").exists(), "a plan is applied once"
    assert (folder / "state/terraform.tfstate").is_file()
    hosts = invoke("infra.hosts", "--env", "sandbox", cwd=workdir, env={})
    assert hosts.returncode == 0, hosts.stderr
    snippet = hosts.stdout
    assert snippet.splitlines()[1:] == ["environments:", "  sandbox:", "    target: vm", "    hosts:",
                                        "      - 127.0.0.1", "      - 127.0.0.2", "    ssh:", "      user: deploy"]
    config = parse("project: shop\nregistry: {address: 127.0.0.1:5000, namespace: shop}\n"
                   "services: {api: {port: 8000}}\n" + snippet)
    assert [h.address for h in config.environment("sandbox").hosts] == ["127.0.0.1", "127.0.0.2"]  # type: ignore
    lines = invoke("infra.hosts", "--env", "sandbox", "--format", "lines", "--out", "hosts.txt", cwd=workdir, env={})
    assert lines.stdout.strip() == "wrote 2 host(s) to hosts.txt"
    assert (workdir / "hosts.txt").read_text() == "127.0.0.1\n127.0.0.2\n"
    password = next(line for line in MAIN_TF.splitlines() if "PASSWORD" in line)  # the template line, not a value
    state = (folder / "state/terraform.tfstate").read_text()
    secret = state.split('"database_password"', 1)[1].split('"value": "', 1)[1].split('"', 1)[0]
    assert secret.startswith("db-") and password
    for result in (plan, apply, hosts, lines):
        out = result.stdout + result.stderr
        assert secret not in out, "a sensitive output was printed"
        for value in creds.values():
            assert value not in out


def test_hosts_before_any_apply_is_one_line(workdir: Path) -> None:
    result = invoke("infra.hosts", "--env", "sandbox", cwd=workdir, env={})
    assert result.returncode == 1
    assert result.stderr.startswith("error: terraform output shipyard_hosts failed in terraform/environments/sandbox: "
                                    'Backend initialization required, please run "terraform init" (next: ')
    assert result.stderr.strip().endswith("(next: run `invoke infra.plan --env sandbox` (it initialises the state) "
                                          "and apply)")
    assert len(result.stderr.strip().splitlines()) == 1

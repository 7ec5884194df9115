"""The Terraform code follows the standard module structure, documents itself, commits no secret, and its
cloud-init renders (with the real terraform, offline) to a config that makes a Docker host with a deploy user."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from shipyard.commands import testbed as testbed_cmd

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "terraform" / "modules"
ENVIRONMENTS = ROOT / "terraform" / "environments"
NAMES = ["database", "droplet-cluster", "loadbalancer", "network", "registry", "shipyard-stack"]
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = hcl2.load(path.open())
    return data


def blocks(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for block in load(path).get(kind, []):
        for name, body in block.items():
            out[name.strip('"')] = body
    return out


def test_the_six_modules_and_three_environments() -> None:
    assert sorted(p.name for p in MODULES.iterdir() if p.is_dir()) == NAMES
    assert sorted(p.name for p in ENVIRONMENTS.iterdir() if p.is_dir()) == ["dev", "production", "staging"]


@pytest.mark.parametrize("name", NAMES)
def test_standard_module_structure(name: str) -> None:
    module = MODULES / name
    for file in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / file).is_file(), f"{name}/{file}"
    examples = list((module / "examples").glob("*/main.tf"))
    assert examples, f"{name} has no example"
    for example in examples:
        sources = [b["source"].strip('"') for b in blocks(example, "module").values()]
        assert "../.." in sources


@pytest.mark.parametrize("name", NAMES)
def test_provider_pinned_to_major_version_two(name: str) -> None:
    terraform = load(MODULES / name / "versions.tf")["terraform"][0]
    provider = terraform["required_providers"][0]["digitalocean"]
    assert provider["source"] == '"digitalocean/digitalocean"' if provider["source"].startswith('"') else True
    assert re.fullmatch(r'"?~> 2\.\d+"?', provider["version"]), provider["version"]


@pytest.mark.parametrize("name", NAMES)
def test_every_input_is_described_typed_and_validated(name: str) -> None:
    variables = blocks(MODULES / name / "variables.tf", "variable")
    assert variables
    for var, body in variables.items():
        assert body.get("description"), f"{name}.{var} has no description"
        assert body.get("type"), f"{name}.{var} has no type"
        if body["type"] != "bool":
            assert body.get("validation"), f"{name}.{var} has no validation block"


@pytest.mark.parametrize("name", NAMES)
def test_readme_documents_every_input_and_output(name: str) -> None:
    readme = (MODULES / name / "README.md").read_text()
    for var in blocks(MODULES / name / "variables.tf", "variable"):
        assert f"| `{var}` |" in readme, f"{name}/README.md misses input {var}"
    for out in blocks(MODULES / name / "outputs.tf", "output"):
        assert f"| `{out}` |" in readme, f"{name}/README.md misses output {out}"


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_environment_layout_and_no_committed_secret(env: str) -> None:
    folder = ENVIRONMENTS / env
    for file in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "terraform.tfvars.example",
                 "backend.hcl.example"):
        assert (folder / file).is_file(), f"{env}/{file}"
    versions = load(folder / "versions.tf")
    assert versions["terraform"][0]["backend"] == [{'"s3"': {"__is_block__": True}}]  # partial configuration
    assert versions["provider"] == [{'"digitalocean"': {"__is_block__": True}}]  # token from DIGITALOCEAN_TOKEN
    assert "shipyard_hosts" in blocks(folder / "outputs.tf", "output")
    example = {k: v for k, v in load(folder / "terraform.tfvars.example").items() if not k.startswith("__")}
    declared = blocks(folder / "variables.tf", "variable")
    assert set(example) <= set(declared), set(example) - set(declared)
    assert not [k for k in example if re.search(r"token|secret|password|access_key", k)]
    required = {name for name, body in declared.items() if "default" not in body}
    assert required <= set(example), f"{env}: the example misses required {required - set(example)}"
    tracked = subprocess.run(["git", "ls-files", str(folder)], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert not [f for f in tracked if f.endswith((".tfstate", "terraform.tfvars", "backend.hcl", "tfplan"))]


def test_sensitive_outputs_are_marked() -> None:
    for path in [*MODULES.glob("*/outputs.tf"), *ENVIRONMENTS.glob("*/outputs.tf")]:
        for name, body in blocks(path, "output").items():
            if "password" in name:
                assert body.get("sensitive") is True, f"{path}: {name}"


def render_cloud_init(tmp_path: Path, keys: list[str], user: str = "deploy") -> dict[str, Any]:
    """The module's user data, rendered by the real terraform (offline) exactly as main.tf renders it."""
    module = MODULES / "droplet-cluster"
    expression = (f'templatefile("{module}/cloud-init.yaml.tftpl", {{ deploy_user = "{user}", '
                  f'deploy_public_keys = {json.dumps(keys)}, host_setup = file("{module}/host-setup.sh") }})')
    result = subprocess.run([TERRAFORM, "console"], input=expression + "\n", cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, check=True, env={"TF_CLI_CONFIG_FILE": "/dev/null",
                                                                     "PATH": "/usr/bin:/bin"})
    text = result.stdout.strip()
    body = text.split("<<EOT\n", 1)[1].rsplit("\nEOT", 1)[0] if "<<EOT" in text else text
    assert body.startswith("#cloud-config")
    config: dict[str, Any] = yaml.safe_load(body)
    return config


@pytest.mark.tool("terraform")
def test_cloud_init_renders_a_docker_host_with_a_deploy_user(tmp_path: Path) -> None:
    from shipyard.sandbox import hostsetup

    keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1r3hV0b1n9u6dD2aW8xPq0o2H6Kk1tq9Yc1u3Gx2zA ci@shipyard",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 second@shipyard"]
    config = render_cloud_init(tmp_path, keys)
    assert {"docker.io", "python3", "util-linux"} <= set(config["packages"])  # what `deploy.setup` checks for
    assert config["ssh_pwauth"] is False
    assert "users" not in config and "groups" not in config  # host-setup.sh makes them, the same way everywhere
    files = {f["path"]: f for f in config["write_files"]}
    # The script cloud-init installs is byte for byte the one the sandbox runs in its VMs, at the same path ...
    script = files[hostsetup.INSTALLED]
    assert base64.b64decode(script["content"]) == hostsetup.SCRIPT.read_bytes()
    assert script["encoding"] == "b64" and script["permissions"] == "0755"
    assert hostsetup.SCRIPT.resolve() == MODULES / "droplet-cluster" / "host-setup.sh"  # one file, not a copy
    # ... with the keys where the sandbox mounts its own, and run with the arguments the sandbox gives it.
    assert files[hostsetup.AUTHORIZED_KEYS]["content"] == "".join(f"{k}\n" for k in keys)
    assert files[hostsetup.AUTHORIZED_KEYS]["permissions"] == "0600"
    argv = testbed_cmd.host_setup("vm", hostsetup.INSTALLED, user="deploy", authorized_keys=hostsetup.AUTHORIZED_KEYS)
    assert config["runcmd"] == [argv[argv.index(hostsetup.INSTALLED):]]
    assert render_cloud_init(tmp_path, keys, "shipper")["runcmd"][0][:3] == [hostsetup.INSTALLED, "--user", "shipper"]

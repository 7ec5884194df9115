"""Exact argv of the terraform and checker builders, with the repository's real environment folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.commands import checks, git
from shipyard.commands import terraform as tf
from shipyard.errors import ShipyardError
from shipyard.infra.environments import ENVIRONMENTS_DIR, env_dir, environments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def staging() -> str:
    return str(env_dir(ROOT, "staging").relative_to(ROOT))


def test_the_repository_has_three_environments() -> None:
    assert environments(ROOT) == ["dev", "production", "staging"]


def test_unknown_environment_is_one_line_naming_the_known_ones() -> None:
    with pytest.raises(ShipyardError) as err:
        env_dir(ROOT, "qa")
    assert str(err.value) == (f"no Terraform environment 'qa' in {ENVIRONMENTS_DIR} (environments: dev, production,"
                              " staging) (next: pass --env with one of them)")


def test_init_without_backend(staging: str) -> None:
    assert tf.init(staging) == ["terraform", "-chdir=terraform/environments/staging", "init", "-input=false",
                                "-backend=false"]


def test_init_with_backend_config(staging: str) -> None:
    assert tf.init(staging, backend_config="backend.hcl", upgrade=True) == [
        "terraform", "-chdir=terraform/environments/staging", "init", "-input=false",
        "-backend-config=backend.hcl", "-upgrade"]


def test_init_with_configured_backend(staging: str) -> None:
    assert tf.init(staging, backend=True) == ["terraform", "-chdir=terraform/environments/staging", "init",
                                              "-input=false"]


def test_fmt_check_recursive() -> None:
    assert tf.fmt("terraform") == ["terraform", "fmt", "-check", "-recursive", "-no-color", "terraform"]


def test_fmt_rewrite_with_diff() -> None:
    assert tf.fmt("terraform", check=False, diff=True) == ["terraform", "fmt", "-recursive", "-diff", "-no-color",
                                                           "terraform"]


def test_validate(staging: str) -> None:
    assert tf.validate(staging) == ["terraform", "-chdir=terraform/environments/staging", "validate", "-no-color"]


def test_plan_to_a_file(staging: str) -> None:
    assert tf.plan(staging) == ["terraform", "-chdir=terraform/environments/staging", "plan", "-input=false",
                                "-out=tfplan"]


def test_plan_with_var_files_and_destroy(staging: str) -> None:
    assert tf.plan(staging, out="destroy.tfplan", var_files=["a.tfvars", "b.tfvars"], destroy=True) == [
        "terraform", "-chdir=terraform/environments/staging", "plan", "-input=false", "-out=destroy.tfplan",
        "-var-file=a.tfvars", "-var-file=b.tfvars", "-destroy"]


def test_apply_applies_the_saved_plan_only(staging: str) -> None:
    assert tf.apply(staging) == ["terraform", "-chdir=terraform/environments/staging", "apply", "-input=false",
                                 "tfplan"]


def test_output_of_one_name_only(staging: str) -> None:
    assert tf.output(staging, "shipyard_hosts") == ["terraform", "-chdir=terraform/environments/staging", "output",
                                                    "-no-color", "-json", "shipyard_hosts"]
    assert tf.output(staging) == ["terraform", "-chdir=terraform/environments/staging", "output", "-no-color",
                                  "-json"]


def test_checkov_terraform_offline() -> None:
    assert checks.checkov_terraform(".venv-checkov/bin/checkov", "terraform") == [
        ".venv-checkov/bin/checkov", "--directory", "terraform", "--framework", "terraform", "--skip-download",
        "--output", "json", "--quiet", "--compact"]


def test_actionlint_always_gets_shellcheck() -> None:
    assert checks.actionlint("actionlint", [".github/workflows/ci.yml"], shellcheck="/v/bin/shellcheck") == [
        "actionlint", "-no-color", "-oneline", "-shellcheck=/v/bin/shellcheck", ".github/workflows/ci.yml"]


def test_yamllint_strict_parsable() -> None:
    assert checks.yamllint("yamllint", ["a.yml"], config=".github/yamllint.yml") == [
        "yamllint", "--strict", "--format", "parsable", "--config-file", ".github/yamllint.yml", "a.yml"]


def test_detect_secrets_scan_with_scratch_baseline() -> None:
    assert checks.detect_secrets_scan("detect-secrets", ["a.py", "b.tf"], baseline="/tmp/x/.secrets.baseline") == [
        "detect-secrets", "scan", "--baseline", "/tmp/x/.secrets.baseline", "a.py", "b.tf"]


def test_git_ls_files_tracked_and_unignored() -> None:
    assert git.ls_files() == ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]

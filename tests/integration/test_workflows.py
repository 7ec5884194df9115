"""The GitHub workflows: actionlint (with shellcheck) and yamllint clean, Shipyard's CI rules hold, and the
rules catch what they are for on broken copies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.infra.workflows import allowed, check_workflow, commands, workflow_files

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
INVOKE = str(Path(sys.executable).parent / "invoke")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_CONFIG"}
    return subprocess.run([INVOKE, "--search-root", str(ROOT), "infra.workflows", "--dir", str(folder)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_actionlint_yamllint_and_policy_are_clean() -> None:
    result = lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "actionlint no problem(s)",
        "yamllint  no problem(s)",
        "policy    4 workflow(s), run steps call only nox/invoke/scripts, actions pinned: no problem(s)",
        "infra.workflows: .github/workflows ok",
    ]


def test_the_four_workflows_exist() -> None:
    assert [p.name for p in workflow_files(WORKFLOWS)] == ["ci.yml", "deploy-production.yml", "deploy-staging.yml",
                                                           "rollback.yml"]


def test_every_run_step_calls_only_nox_invoke_or_scripts() -> None:
    seen = []
    for path in workflow_files(WORKFLOWS):
        for job in load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                for command in commands(step.get("run", "")):
                    assert allowed(command), f"{path.name}: {command}"
                    seen.append(command.split()[0])
    assert set(seen) == {"./scripts/bootstrap", "./scripts/ci", ".venv/bin/nox", ".venv/bin/invoke"}


def test_secrets_reach_steps_only_through_env() -> None:
    for path in workflow_files(WORKFLOWS):
        for job in load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: an expression is expanded inside a script"


def test_pull_requests_run_the_gates() -> None:
    ci = load("ci.yml")
    assert set(ci[True]) == {"pull_request", "workflow_call"}  # PyYAML reads the `on` key as True
    runs = [s.get("run", "") for job in ci["jobs"].values() for s in job["steps"]]
    assert "./scripts/ci" in runs  # .ci/run: the test bed required, README's test command
    ci_run = (ROOT / ".ci/run").read_text()
    assert "SHIPYARD_TESTBED_REQUIRED=1" in ci_run and 'CI="${CI:-true}"' in ci_run
    assert any(r.startswith(".venv/bin/nox -t iac") for r in runs)
    assert '.venv/bin/invoke docker.build --affected --base "$BASE"' in runs
    base = ci["jobs"]["images"]["steps"][-1]["env"]["BASE"]
    assert "format('origin/{0}', github.base_ref)" in base
    scan = ci["jobs"]["vulnerabilities"]["steps"][-1]
    assert scan["uses"].startswith("aquasecurity/trivy-action@") and scan["with"]["exit-code"] == "1"


def test_staging_deploys_after_ci_on_push_to_main() -> None:
    staging = load("deploy-staging.yml")
    assert staging[True] == {"push": {"branches": ["main"]}}
    assert staging["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    deploy = staging["jobs"]["deploy"]
    assert deploy["needs"] == "ci" and deploy["environment"]["name"] == "staging"
    assert deploy["concurrency"] == {"group": "deploy-staging", "cancel-in-progress": False}
    assert deploy["steps"][-1]["run"] == ".venv/bin/invoke deploy.staging"


def test_production_waits_for_the_environment_reviewers() -> None:
    prod = load("deploy-production.yml")
    assert set(prod[True]) == {"workflow_dispatch"}
    assert prod[True]["workflow_dispatch"]["inputs"]["sha"]["required"] is True
    job = prod["jobs"]["deploy"]
    assert job["environment"] == {"name": "production"}
    assert job["env"]["SHIPYARD_APPROVED"] == "1" and job["env"]["SHA"] == "${{ inputs.sha }}"
    assert job["concurrency"]["group"] == "deploy-production"
    assert job["steps"][-1]["run"] == '.venv/bin/invoke deploy --env production --sha "$SHA"'


def test_rollback_by_sha_shares_the_deploy_lock() -> None:
    rollback = load("rollback.yml")
    inputs = rollback[True]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["staging", "production"] and inputs["sha"]["required"] is True
    job = rollback["jobs"]["rollback"]
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["concurrency"]["group"] == "deploy-${{ inputs.environment }}"
    # across a schema change only a person's explicit input passes --yes (the environment's approval does not)
    assert inputs["across_schema_change"] == {"description": inputs["across_schema_change"]["description"],
                                              "required": False, "type": "boolean", "default": False}
    assert job["env"]["ACROSS_SCHEMA_CHANGE"] == "${{ inputs.across_schema_change && 'yes' || '' }}"
    assert job["steps"][-1]["run"] == ('.venv/bin/invoke rollback --env "$TARGET_ENV" --sha "$SHA"'
                                       " ${ACROSS_SCHEMA_CHANGE:+--yes}")


def test_minimal_permissions_and_known_hosts_from_a_secret() -> None:
    for path in workflow_files(WORKFLOWS):
        data = load(path.name)
        assert data["permissions"] == {"contents": "read"}, path.name
        text = path.read_text()
        assert "StrictHostKeyChecking" not in text
        if "install-ssh" in text:
            assert "SHIPYARD_KNOWN_HOSTS: ${{ secrets.SSH_KNOWN_HOSTS }}" in text


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    return folder


def test_shellcheck_runs_inside_actionlint(broken: Path) -> None:
    path = broken / "rollback.yml"
    path.write_text(path.read_text().replace('--sha "$SHA"', "--sha $SHA"))
    result = lint(broken)
    assert result.returncode == 1
    assert any(line.startswith(f"{path}:") and "SC2086" in line for line in result.stdout.splitlines()), result.stdout


@pytest.mark.parametrize(("old", "new", "expected"), [
    (".venv/bin/invoke deploy.staging", "curl -fsS https://example.com/deploy.sh | bash",
     "job deploy: run step calls `curl`; CI steps may only call nox, invoke or ./scripts/"),
    ("docker/login-action@9780b0c442fbb1117ed29e0efdff1e18412f7567", "docker/login-action@main",
     "job deploy: action docker/login-action@main is not pinned to a commit SHA or a version tag"),
    ("    environment:\n      name: staging\n", "",
     "job deploy deploys without environment: (GitHub's reviewers and environment secrets only apply"),
    (".venv/bin/invoke deploy.staging", ".venv/bin/invoke deploy.staging  # ssh -o StrictHostKeyChecking=no",
     "SSH host key checking must stay on (use a known_hosts secret)"),
    ("permissions:\n  contents: read\n", "", "no top-level permissions: (give the token the least it needs)"),
    (".venv/bin/invoke deploy.staging", ".venv/bin/invoke deploy.staging --sha ${{ github.event.after }}",
     "job deploy: run step expands ${{ github.event.after }} inside the script; pass it through env:"),
])
def test_policy_catches(broken: Path, old: str, new: str, expected: str) -> None:
    path = broken / "deploy-staging.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    messages = [p.message for p in check_workflow(path)]
    assert any(m.startswith(expected) for m in messages), messages

"""Wiring of the deploy tasks: refusals a user can cause end in one line, before any host is contacted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shipyard.config import load
from shipyard.sandbox import overlay, vms

ROOT = Path(__file__).resolve().parents[2]
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHIPYARD, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **(env or {})})


@pytest.mark.parametrize(("args", "message"), [
    (["deploy.production", "--sha", "abcd1234"],
     "deploy changes 'production', which requires approval, and none was given"),
    (["deploy", "--sha", "abcd1234"], "--env is required (next: pass one of: dev, local, staging, production, k8s-"),
    (["deploy", "--env", "staging", "--sha", "NOT-A-SHA"], "is not a git SHA (4 to 40 lowercase hex characters)"),
    (["deploy", "--env", "dev", "--sha", "abcd1234"], "`deploy` does not apply to 'dev' (target: compose)"),
    (["rollback", "--env", "nope"], "unknown environment 'nope'"),
])
def test_user_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    # a copy of shipyard.yaml alone: a developer's running sandbox (.shipyard/) must not change the messages
    (tmp_path / "shipyard.yaml").write_text((ROOT / "shipyard.yaml").read_text())
    result = run(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sandbox_environment_is_merged_from_generated_state(tmp_path: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text((ROOT / "shipyard.yaml").read_text())
    state = vms.SandboxState(project="shipyard-demo", vms=[vms.SandboxVm("shipyard-demo-sandbox-1", 32001, 32002)],
                             key="/keys/id", known_hosts="/keys/known_hosts", created="2025-01-01T00:00:00Z")
    vms.write_environment(tmp_path, state, health_timeout=30, watch_window=3)
    config = overlay.with_sandbox(load(tmp_path / "shipyard.yaml"))
    env = config.environment("sandbox")
    assert env.target == "vm" and [h.port for h in env.hosts] == [32001]  # type: ignore[union-attr]
    assert env.deploy.watch_window == 3 and env.proxy.image == vms.PROXY_IMAGE  # type: ignore[union-attr]
    assert config.registry("sandbox").address == "127.0.0.1:5000" and config.registry("sandbox").insecure
    assert set(config.services("sandbox")) == {"api", "web"}
    assert "staging" in config.project.environments  # the hand-written ones are untouched
    assert (tmp_path / ".shipyard" / ".gitignore").read_text().strip().endswith("*")
    assert vms.SandboxState.load(tmp_path) == state
    raw = yaml.safe_load(overlay.env_file(tmp_path).read_text())
    assert raw["ssh"] == {"user": "deploy", "key": "/keys/id", "known_hosts": "/keys/known_hosts"}  # never root


def test_invalid_generated_sandbox_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text((ROOT / "shipyard.yaml").read_text())
    overlay.env_file(tmp_path).parent.mkdir()
    overlay.env_file(tmp_path).write_text("target: vm\nhosts: []\n")
    result = run("deploy.status", "--env", "sandbox", cwd=tmp_path)
    assert result.returncode != 0 and "run `invoke sandbox.up` again" in result.stderr


@pytest.mark.parametrize("task", [["deploy.status"], ["deploy.releases"]])
def test_unreachable_hosts_are_a_non_zero_exit(task: list[str], tmp_path: Path) -> None:
    from ports import free_port

    dead = free_port()  # nothing listens there: every connection is refused
    known = tmp_path / "known_hosts"
    known.write_text("")
    text = (ROOT / "shipyard.yaml").read_text().replace("\nenvironments:\n", (
        f"\nenvironments:\n  nowhere:\n    target: vm\n    hosts: ['127.0.0.1:{dead}']\n"
        f"    ssh: {{known_hosts: {known}, connect_timeout: 2}}\n"
        "    accessories: {postgres: {image: 'postgres:16', port: 5432}, redis: {image: 'redis:7', port: 6379}}\n"),
        1)
    (tmp_path / "shipyard.yaml").write_text(text)
    result = run(*task, "--env", "nowhere", cwd=tmp_path, env={"POSTGRES_PASSWORD": "pw-not-used-here"})
    assert result.returncode == 1, result.stdout + result.stderr
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1 and error.startswith("error: 1 of 1 host(s) could not be read"), error

"""The same verbs for every target: `deploy`, `rollback`, `status`, `releases` and `logs` take `--env` of any
environment and hand it to that target's tasks; what a target does not have is one line with what to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verbs")
    (root / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    (root / "tasks.py").write_text("import sys\n\nfrom shipyard.tasks import namespace\n\n"
                                   "ns = namespace(sys.argv[1:])\n")
    for folder in ("k8s", "helm"):  # the overlays and the chart, as committed
        (root / folder).symlink_to(ROOT / folder)
    bin_dir = root / "bin"  # a kubectl that knows no context: the Kubernetes tasks stop at their preflight
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "kubectl").chmod(0o755)
    return root


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["PATH"] = f"{project / 'bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run([INVOKE, *args], cwd=project, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize(("args", "line"), [
    # Kubernetes: handed to k8s.*, which checks its cluster (here: the context is unknown)
    (["status", "--env", "k8s-staging"], "error: kube context 'do-staging' (environment k8s-staging) is not in"),
    (["releases", "--env", "k8s-staging"], "error: kube context 'do-staging' (environment k8s-staging) is not in"),
    (["logs", "--env", "k8s-staging", "--service", "api"], "error: kube context 'do-staging' (environment"),
    (["rollback", "--env", "k8s-staging"], "error: kube context 'do-staging' (environment k8s-staging) is not in"),
    (["deploy", "--env", "k8s-production", "--sha", "0123456789abcdef"],
     "error: k8s.deploy changes 'k8s-production', which requires approval"),
    # what a target does not have
    (["deploy", "--env", "dev"], "error: `deploy` does not apply to 'dev' (target: compose) (next: a compose"
                                 " environment runs your working tree: `invoke docker.up --env dev` (or set"
                                 " environments.dev.releases: true to run release images there))"),
    (["rollback", "--env", "dev"], "error: `rollback` does not apply to 'dev' (target: compose)"),
    (["releases", "--env", "dev"], "error: `releases` does not apply to 'dev' (target: compose)"),
    (["deploy", "--env", "k8s-staging", "--wait", "5"], "error: `deploy --wait` does not apply to 'k8s-staging'"),
    (["logs", "--env", "k8s-staging"], "error: `logs without --service` does not apply to 'k8s-staging'"),
    # no environment, or an unknown one: never guessed
    (["status"], "error: --env is required (next: pass one of: dev, local, staging, production, k8s-staging,"),
    (["releases", "--env", "nowhere"], "error: unknown environment 'nowhere' (defined in shipyard.yaml: dev,"),
])
def test_one_verb_any_target(project: Path, args: list[str], line: str) -> None:
    proc = run(project, *args)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_verbs_are_listed(project: Path) -> None:
    listing = run(project, "--list").stdout
    for verb in ("deploy", "rollback", "status", "releases", "logs"):  # `invoke <verb>` runs the default task
        assert f"  {verb}.{verb} ({verb}) " in listing or f"  {verb}.deploy ({verb}) " in listing, listing

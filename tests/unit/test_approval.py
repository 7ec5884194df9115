"""One approval policy: every command that changes an approval-gated environment refuses without --yes or CI's
marker, on every target (compose, VM, Kubernetes), in one line and before it reads or changes anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from shipyard.errors import ShipyardError
from shipyard.plans import approval

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")

GATED = SimpleNamespace(require_approval=True)
OLD_PLACE = SimpleNamespace(require_approval=False, deploy=SimpleNamespace(require_approval=True))
OPEN = SimpleNamespace(require_approval=False, deploy=SimpleNamespace(require_approval=False))


@pytest.mark.parametrize(("env", "yes", "dry_run", "environ", "refused"), [
    (GATED, False, False, {}, True),
    (OLD_PLACE, False, False, {}, True),  # deploy.require_approval, the VM environments' older place
    (GATED, True, False, {}, False),
    (GATED, False, True, {}, False),  # a dry run changes nothing
    (GATED, False, False, {"SHIPYARD_APPROVED": "1"}, False),
    (GATED, False, False, {"SHIPYARD_APPROVED": "yes"}, True),  # only the exact marker counts
    (GATED, False, False, {"SHIPYARD_APPROVED": ""}, True),
    (OPEN, False, False, {}, False),
    (None, False, False, {}, False),  # an unknown environment is refused later, by the target, by name
])
def test_the_policy(env: object, yes: bool, dry_run: bool, environ: dict[str, str], refused: bool) -> None:
    if refused:
        with pytest.raises(ShipyardError, match=r"^deploy changes 'prod', which requires approval") as info:
            approval.check("prod", env, "deploy", yes=yes, dry_run=dry_run, environ=environ)
        assert "\n" not in str(info.value) and "--yes" in (info.value.hint or "")
    else:
        approval.check("prod", env, "deploy", yes=yes, dry_run=dry_run, environ=environ)


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own shipyard.yaml with every target's environment gated: dev and local (compose),
    production (VM, gated already) and k8s-production (Kubernetes, gated already)."""
    root = tmp_path_factory.mktemp("gated")
    text = (ROOT / "shipyard.yaml").read_text()
    assert "  dev:\n    target: compose\n" in text and "require_approval: true" in text
    assert "  local:" in text and "    releases: true\n" in text
    text = text.replace("  dev:\n    target: compose\n", "  dev:\n    target: compose\n    require_approval: true\n")
    (root / "shipyard.yaml").write_text(text.replace("    releases: true\n",
                                                     "    releases: true\n    require_approval: true\n"))
    return root


CHANGES = [
    ("docker.up", ["docker.up", "--env", "dev"]),
    ("docker.down", ["docker.down", "--env", "dev"]),
    ("docker.restart", ["docker.restart", "--env", "dev"]),
    ("docker.clean", ["docker.clean", "--env", "dev"]),
    ("deploy", ["deploy", "--env", "local"]),
    ("rollback", ["rollback", "--env", "local"]),
    ("deploy", ["deploy", "--env", "production"]),
    ("deploy", ["deploy.production"]),
    ("rollback", ["rollback", "--env", "production"]),
    ("deploy.setup", ["deploy.setup", "--env", "production"]),
    ("deploy.prune", ["deploy.prune", "--env", "production"]),
    ("deploy.unlock --force", ["deploy.unlock", "--env", "production", "--force"]),
    ("deploy.accessories.boot", ["deploy.accessories.boot", "--env", "production"]),
    ("deploy.accessories.restart", ["deploy.accessories.restart", "--env", "production", "--name", "postgres"]),
    ("k8s.deploy", ["k8s.deploy", "--env", "k8s-production", "--sha", "0123456789abcdef"]),
    ("k8s.rollback", ["k8s.rollback", "--env", "k8s-production"]),
    ("k8s.secrets", ["k8s.secrets", "--env", "k8s-production"]),
    # a one-off command can change the environment too (a migration, a restore)
    ("exec", ["exec", "--env", "dev", "--service", "api", "--command", "true"]),
    ("exec", ["exec", "--env", "production", "--service", "api", "--command", "true"]),
    ("exec", ["deploy.exec", "--env", "production", "--service", "api", "--command", "true"]),
    ("exec", ["exec", "--env", "k8s-production", "--service", "api", "--command", "true"]),
    ("deploy.accessories.exec", ["deploy.accessories.exec", "--env", "production", "--name", "postgres",
                                 "--command", "true"]),
]


@pytest.mark.parametrize(("action", "args"), CHANGES, ids=[" ".join(a) for _, a in CHANGES])
def test_every_change_on_every_target_needs_approval(gated: Path, action: str, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    proc = subprocess.run([INVOKE, "--search-root", str(ROOT), *args], cwd=gated, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"error: {action} changes '"), lines[0]
    assert "requires approval" in lines[0] and proc.stdout == ""

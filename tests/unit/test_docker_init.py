"""`docker.init`: a first .env from .env.example, with a random password that is never printed."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

from shipyard.targets.dotenv import TESTBED_IMAGES, fill, parse_dotenv

ROOT = Path(__file__).resolve().parents[2]


def test_fill_sets_uncomments_and_appends() -> None:
    example = "# header\nPOSTGRES_PASSWORD=change-me\n# GIT_SHA=\nLOG_LEVEL=info\n"
    out = fill(example, {"POSTGRES_PASSWORD": "s3cret-value", "GIT_SHA": "abc", "NEW": "1"})
    assert out == "# header\nPOSTGRES_PASSWORD=s3cret-value\nGIT_SHA=abc\nLOG_LEVEL=info\nNEW=1\n"


def run_init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", "docker.init", *args], cwd=root, capture_output=True,
                          text=True, timeout=60)


def test_init_writes_private_env_once(tmp_path: Path) -> None:
    for name in ("shipyard.yaml", ".env.example", "tasks.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = run_init(tmp_path, "--images", "testbed")
    assert proc.returncode == 0, proc.stderr
    env_file = tmp_path / ".env"
    values = parse_dotenv(env_file.read_text())
    password = values["POSTGRES_PASSWORD"]
    assert len(password) >= 24 and password != "change-me-locally"  # pragma: allowlist secret
    assert password not in proc.stdout + proc.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert all(values[key] == image for key, image in TESTBED_IMAGES.items())
    again = run_init(tmp_path)
    assert "left unchanged" in again.stdout
    assert parse_dotenv(env_file.read_text())["POSTGRES_PASSWORD"] == password


def test_init_rejects_unknown_images_choice(tmp_path: Path) -> None:
    for name in ("shipyard.yaml", ".env.example", "tasks.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = run_init(tmp_path, "--images", "dockerhub")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: --images must be auto, public or testbed, not 'dockerhub'"
    assert not (tmp_path / ".env").exists()


def test_invokes_own_dry_flag_is_a_dry_run(tmp_path: Path) -> None:
    for name in ("shipyard.yaml", ".env.example", "tasks.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = subprocess.run([sys.executable, "-m", "invoke", "--dry", "docker.init", "--images", "testbed"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "would write" in proc.stdout
    assert not (tmp_path / ".env").exists()  # `invoke --dry` never changes anything

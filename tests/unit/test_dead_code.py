"""The dead-code gate of `nox -s lint` (vulture, configured in pyproject.toml): clean on the package, and it
fails on a function nothing calls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def vulture(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vulture", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_the_package_has_no_dead_code() -> None:
    result = vulture()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gate_fails_on_an_unused_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "used.py").write_text("def helper() -> int:\n    return 1\n\n\nprint(helper())\n")
    clean = vulture(str(package), "--min-confidence", "60")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (package / "forgotten.py").write_text("def never_called() -> int:\n    return 1\n")
    result = vulture(str(package), "--min-confidence", "60")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "unused function 'never_called'" in result.stdout

"""README.md stays true: its test command is what CI runs, and every task it lists exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def top_commands() -> list[str]:
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_opens_with_two_commands() -> None:
    assert README.startswith("# Shipyard\n\n```bash\n")
    assert len(top_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert top_commands()[1] in ci


def test_every_listed_task_exists() -> None:
    table = README.split("<!-- tasks:start", 1)[1].split("<!-- tasks:end", 1)[0]
    listed = set()
    for cell in re.findall(r"^\| `([^`]+)`", table, flags=re.M):
        for part in cell.split(" / "):
            listed.add(part.strip("` ").split()[0])
    proc = subprocess.run([sys.executable, "-m", "invoke", "--list", "--list-format", "flat"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    available = set()
    for line in proc.stdout.splitlines()[1:]:
        names = re.match(r"^\s+(\S+)(?: \(([^)]*)\))?", line)
        if names:
            available.add(names.group(1))
            available.update(alias.strip() for alias in (names.group(2) or "").split(",") if alias.strip())
    assert listed, "the task table is empty"
    assert listed <= available, f"README lists tasks that do not exist: {sorted(listed - available)}"

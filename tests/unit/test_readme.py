"""README.md stays true: its test command is what CI runs, and every task it lists exists."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TABLE_START, TABLE_END = "<!-- tasks:start", "<!-- tasks:end -->"


def top_commands() -> list[str]:
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def listed_tasks(readme: str) -> list[str]:
    """Every task named in the first column of the task table, in order: `a.b [--flag]` / `a.c` / ...

    A first cell that holds anything but back-quoted task names joined by " / " is an error, so a row
    written another way cannot silently drop out of the check.
    """
    if readme.count(TABLE_START) != 1 or readme.count(TABLE_END) != 1:
        raise ValueError(f"the README needs exactly one {TABLE_START} ... {TABLE_END} block")
    table = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    if len(rows) < 3 or rows[0] != "| task | what it does |" or set(rows[1]) > {"|", "-", " ", ":"}:
        raise ValueError("the task table needs the header `| task | what it does |`, a rule and rows")
    names: list[str] = []
    for row in rows[2:]:
        cell = row.split("|")[1]
        tokens = re.findall(r"`([^`]+)`", cell)
        if not tokens or re.sub(r"`[^`]+`", "", cell).replace("/", "").strip():
            raise ValueError(f"a task cell is not `task` [/ `task` ...]: {row}")
        names += [token.split()[0] for token in tokens]
    return names


def _collection_names(collection: dict[str, Any], prefix: str = "") -> Iterator[str]:
    path = f"{prefix}{collection['name']}" if prefix or collection["name"] else ""
    dotted = f"{path}." if path else ""
    if path and collection.get("default"):
        yield path  # `invoke deploy` runs the collection's default task
    for task in collection["tasks"]:
        for name in (task["name"], *task["aliases"]):
            yield dotted + name
    for sub in collection["collections"]:
        yield from _collection_names(sub, dotted)


@pytest.fixture(scope="module")
def available() -> set[str]:
    """Every name `invoke` accepts in this repository (tasks, aliases, collections with a default task)."""
    proc = subprocess.run([sys.executable, "-m", "invoke", "--list", "--list-format", "json"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    root = json.loads(proc.stdout)
    root["name"] = ""  # the root collection (tasks.py) adds no prefix
    return set(_collection_names(root))


def missing_tasks(readme: str, available: Iterable[str]) -> list[str]:
    known = set(available)
    return [name for name in listed_tasks(readme) if name not in known]


def test_readme_opens_with_two_commands() -> None:
    assert README.startswith("# Shipyard\n\n```bash\n")
    assert len(top_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert top_commands()[1] in ci


def test_every_listed_task_exists(available: set[str]) -> None:
    assert missing_tasks(README, available) == []


def test_available_names_are_what_invoke_runs(available: set[str]) -> None:
    assert {"config.check", "deploy", "deploy.deploy", "deploy.staging", "rollback", "docker.up"} <= available
    assert "deploy.no-such-task" not in available


# The check proves it can fail: tables that name a task Invoke does not have.
BROKEN_TABLE = """intro
<!-- tasks:start -->
| task | what it does |
|---|---|
| `config.check` | fine |
| `docker.up` / `docker.no-such-task` | the second task of a row is checked too |
| `release.info [--allow-dirty]` / `release.nope [--flag]` | and one with flags |
| `no-such-collection.task` | a whole collection that does not exist |
<!-- tasks:end -->
"""


def test_a_table_naming_a_missing_task_fails_the_check(available: set[str]) -> None:
    assert listed_tasks(BROKEN_TABLE) == ["config.check", "docker.up", "docker.no-such-task", "release.info",
                                          "release.nope", "no-such-collection.task"]
    assert missing_tasks(BROKEN_TABLE, available) == ["docker.no-such-task", "release.nope",
                                                      "no-such-collection.task"]


@pytest.mark.parametrize("table", [
    "no markers at all",
    "<!-- tasks:start -->\n| task | what it does |\n|---|---|\n<!-- tasks:end -->\n",  # no rows
    "<!-- tasks:start -->\n| task | what it does |\n|---|---|\n| docker.up | bare name |\n<!-- tasks:end -->\n",
    "<!-- tasks:start -->\n| task | what it does |\n|---|---|\n| `docker.up` or docker.nope | prose |\n"
    "<!-- tasks:end -->\n",
], ids=["no-markers", "no-rows", "bare-name", "unquoted-second-name"])
def test_a_table_the_check_cannot_read_is_an_error(table: str) -> None:
    with pytest.raises(ValueError):
        listed_tasks(table)

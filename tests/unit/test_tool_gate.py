"""The tool gate of tests/tools.py: a missing tool skips on a laptop and fails under CI, and is counted."""

from __future__ import annotations

from collections import Counter

import pytest

import tools


@pytest.fixture(autouse=True)
def _own_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    """These fake tools must not show in the session's summary of real tool-gated tests."""
    monkeypatch.setattr(tools, "RAN", Counter())
    monkeypatch.setattr(tools, "MISSING", Counter())


def test_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"nosuchtool is missing \(CI must install it"):
        tools.need("nosuchtool", False, "nosuchtool is missing")
    assert tools.MISSING["nosuchtool"] == 1


def test_missing_tool_skips_with_its_reason_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nosuchtool is missing"):
        tools.need("nosuchtool", False, "nosuchtool is missing")


def test_present_tool_is_counted_as_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    tools.need("here", True, "unused")
    assert tools.RAN["here"] == 1
    assert any(line.startswith("here ") and "ran" in line for line in tools.summary_lines())


def test_unknown_tool_name_is_a_mistake_not_a_skip() -> None:
    with pytest.raises(KeyError, match="unknown tool 'terrafrom'"):
        tools.need_tool("terrafrom")

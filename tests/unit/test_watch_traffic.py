"""The watch window judges the new colour's real traffic (HAProxy's counters), not only its readiness probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.commands import haproxy
from shipyard.facts.proxy import Counters, parse_stat
from shipyard.plans.bluegreen import MIN_JUDGED_REQUESTS, traffic_problems

RECORDED = Path(__file__).parent / "recorded"


def test_show_stat_as_haproxy_prints_it() -> None:
    # Recorded from HAProxy 2.6 after 30 answers of 200 and 12 of 500 from `blue`; `green` in maintenance.
    stats = parse_stat((RECORDED / "show_stat.csv").read_text())
    assert stats == {("api", "blue"): Counters(responses=42, failed=12), ("api", "green"): Counters(0, 0)}
    assert haproxy.show_stat() == "show stat -1 4 -1"


@pytest.mark.parametrize("text", ["Unknown command\n", "# pxname,svname\napi,blue\n"])
def test_an_unexpected_answer_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stat(text)


BEFORE = {("api", "green"): Counters(100, 1)}


@pytest.mark.parametrize(("after", "problem"), [
    (Counters(140, 1), None),  # 40 more answers, none failed
    (Counters(140, 3), None),  # 2 of 40 (5%): not more than allowed
    (Counters(140, 4), "api/green failed 3 of 40 real requests inside the watch window (8%, more than the 5%"),
    (Counters(100 + MIN_JUDGED_REQUESTS - 1, 19), None),  # too few requests to judge
    (Counters(30, 20), "api/green failed 20 of 30"),  # counters went backwards (HAProxy restarted): from zero
])
def test_the_judgement(after: Counters, problem: str | None) -> None:
    found = traffic_problems(BEFORE, {("api", "green"): after}, [("api", "green")], 0.05)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(problem), found


def test_a_server_the_proxy_does_not_list_is_left_to_the_state_check() -> None:
    assert traffic_problems(BEFORE, {}, [("api", "green")], 0.05) == []

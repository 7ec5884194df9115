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
    assert stats == {("api", "blue"): Counters(responses=42, failed=12, rtime_ms=30), ("api", "green"): Counters(0, 0)}
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


@pytest.mark.parametrize(("rtime_ms", "limit", "problem"), [
    (180, 0.25, None),  # 180 ms on average, 250 allowed
    (400, 0.25, "api/green answered real requests in 400 ms on average inside the watch window (more than the"
                " 250 ms allowed by deploy.max_response_time)"),
    (400, None, None),  # off unless set
])
def test_the_response_time_judgement(rtime_ms: int, limit: float | None, problem: str | None) -> None:
    after = {("api", "green"): Counters(140, 1, rtime_ms)}
    found = traffic_problems(BEFORE, after, [("api", "green")], 0.05, limit)
    assert found == ([problem] if problem else [])
    too_few = {("api", "green"): Counters(100 + MIN_JUDGED_REQUESTS - 1, 1, rtime_ms)}
    assert traffic_problems(BEFORE, too_few, [("api", "green")], 0.05, limit) == []  # too few to judge


def test_one_round_trip_answers_both_questions() -> None:
    """The watch polls `show servers state; show stat` in one batch and splits the answer at the CSV header."""
    from shipyard.facts.proxy import parse_servers_state, split_state_and_stat

    state_text = (RECORDED / "show_stat.csv").read_text()
    servers = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight"
               " srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state"
               " srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n"
               "3 api 1 blue 172.18.0.5 2 0 1 1 15 6 3 4 6 0 0 0 - 8000 -\n")
    state, stat = split_state_and_stat(servers + state_text)
    assert parse_servers_state(state)[("api", "blue")].op_running
    assert parse_stat(stat)[("api", "blue")] == Counters(42, 12, 30)
    assert split_state_and_stat(servers) == (servers, "")


def test_a_server_the_proxy_does_not_list_is_left_to_the_state_check() -> None:
    assert traffic_problems(BEFORE, {}, [("api", "green")], 0.05) == []

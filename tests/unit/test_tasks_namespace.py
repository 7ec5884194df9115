"""`namespace(argv)`: only the collections a command line names are loaded, and every task stays reachable."""

from __future__ import annotations

import pytest

from shipyard.tasks import COLLECTIONS, namespace, wanted


@pytest.mark.parametrize(("argv", "expected"), [
    (["monorepo.affected", "--base", "main", "--json"], ("monorepo",)),
    (["docker.build", "--affected", "monorepo.build"], ("docker", "monorepo")),
    (["deploy.accessories.boot", "--env", "staging"], ("deploy",)),
    (["rollback", "--sha", "abc123"], ("rollback",)),
    (["--help", "k8s.deploy"], ("k8s",)),
    (["-e", "monorepo.affected", "--base", "deploy"], ("monorepo", "deploy")),  # a value may load one more
])
def test_a_command_line_loads_the_collections_it_names(argv: list[str], expected: tuple[str, ...]) -> None:
    assert set(wanted(argv)) == set(expected)


@pytest.mark.parametrize("argv", [[], ["--list"], ["-l"], ["--list=monorepo"], ["-lF", "json"],
                                  ["--complete", "--", "invoke", "mono"], ["--print-completion-script", "bash"],
                                  ["no-such-task"], ["--version"], ["monorepo.affected", "--list"]])
def test_a_listing_completion_or_no_task_loads_everything(argv: list[str]) -> None:
    assert wanted(argv) == COLLECTIONS


def test_every_task_is_reachable_from_a_command_line_that_names_it() -> None:
    full = namespace()
    assert namespace(None).task_names == full.task_names
    for name, aliases in full.task_names.items():
        for word in (name, *aliases):
            assert name in namespace([word, "--help"]).task_names, word
    assert list(namespace(["monorepo.affected"]).collections) == ["monorepo"]


def test_short_flags_mean_the_same_everywhere() -> None:
    """Only SHORT_FLAGS have a short form, and every task with one of those long flags has it (-s service,
    -f follow, -t tail): never -h for --hosts, -f for --affected or -r for --dry-run."""
    from shipyard.tasks import namespace
    from shipyard.tasks._base import SHORT_FLAGS

    seen: dict[str, set[str]] = {}
    for ctx in namespace([]).to_contexts():
        for arg in ctx.args.values():
            shorts = [n for n in arg.names if len(n) == 1]
            long = arg.names[0]
            seen.setdefault(long, set()).update(shorts or ["-"])
            assert shorts == ([SHORT_FLAGS[long]] if long in SHORT_FLAGS else []), (ctx.name, arg.names)
    assert {"service", "follow", "tail"} <= set(seen)  # the convention is used, not vacuous

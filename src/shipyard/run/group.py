"""Run one step on many hosts in threads; per-host results and one aggregate error, like Fabric's Group."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from shipyard.errors import ShipyardError
from shipyard.run.base import Runner

T = TypeVar("T")


class GroupError(ShipyardError, Generic[T]):
    def __init__(self, results: dict[str, T], failures: dict[str, BaseException]) -> None:
        self.results = results
        self.failures = failures
        names = ", ".join(sorted(failures))
        first = next(iter(failures.values()))
        super().__init__(f"{len(failures)} of {len(results) + len(failures)} host(s) failed ({names}): {first}")


def on_hosts(runners: Sequence[Runner], step: Callable[[Runner], T], *, max_workers: int | None = None,
             raise_on_failure: bool = True) -> dict[str, T | BaseException]:
    """Call `step(runner)` for every host concurrently. Returns host -> value (or exception)."""
    if not runners:
        return {}
    workers = max_workers or len(runners)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipyard-host") as pool:
        futures = {runner.host: pool.submit(step, runner) for runner in runners}
    results: dict[str, T] = {}
    failures: dict[str, BaseException] = {}
    for host, future in futures.items():
        exc = future.exception()
        if exc is None:
            results[host] = future.result()
        else:
            failures[host] = exc
    if failures and raise_on_failure:
        raise GroupError(results, failures)
    return {**results, **failures}

"""Run a DAG of jobs in dependency order on N threads. A failure skips its dependents and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

OK, CACHED, FAILED, SKIPPED = "ok", "cached", "failed", "skipped"


@dataclass(frozen=True)
class Outcome:
    id: str
    status: str  # ok | cached | failed | skipped
    duration: float = 0.0
    cache: str = "-"  # hit | miss | off | bypass | -
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status in (OK, CACHED)


def schedule(order: Sequence[str], deps: Mapping[str, Sequence[str]], work: Callable[[str], Outcome],
             parallel: int, on_done: Callable[[Outcome], None] | None = None,
             on_start: Callable[[str], None] | None = None) -> dict[str, Outcome]:
    """Call `work(id)` for each job once all its deps succeeded; at most `parallel` at a time.

    `order` lists every job, dependencies first; ready jobs start in that order. An exception from
    `work` counts as a failure of that job.
    """
    users: dict[str, list[str]] = {job: [] for job in order}
    pending = {job: len(deps[job]) for job in order}
    for job in order:
        for dep in deps[job]:
            users[dep].append(job)
    rank = {job: i for i, job in enumerate(order)}
    ready = [job for job in order if pending[job] == 0]
    results: dict[str, Outcome] = {}

    def finish(outcome: Outcome) -> None:
        results[outcome.id] = outcome
        if on_done is not None:
            on_done(outcome)

    def skip_dependents(job: str) -> None:
        stack = list(users[job])
        while stack:
            user = stack.pop()
            if user in results:
                continue
            finish(Outcome(user, SKIPPED, detail=f"dependency {job} failed"))
            stack.extend(users[user])

    def guarded(job: str) -> Outcome:
        try:
            return work(job)
        except Exception as exc:  # one job's crash must not take the others down
            return Outcome(job, FAILED, detail=f"{exc.__class__.__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="shipyard-task") as pool:
        running: dict[Future[Outcome], str] = {}
        while ready or running:
            while ready and len(running) < max(1, parallel):
                job = ready.pop(0)
                if job in results:  # skipped meanwhile
                    continue
                if on_start is not None:
                    on_start(job)
                running[pool.submit(guarded, job)] = job
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            newly: list[str] = []
            for future in done:
                job = running.pop(future)
                outcome = future.result()
                finish(outcome)
                if outcome.succeeded:
                    for user in users[job]:
                        pending[user] -= 1
                        if pending[user] == 0 and user not in results:
                            newly.append(user)
                else:
                    skip_dependents(job)
            ready = sorted([*ready, *newly], key=rank.__getitem__)
    return results

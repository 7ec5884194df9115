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
             on_start: Callable[[str], None] | None = None,
             inline: Callable[[str], Outcome | None] | None = None) -> dict[str, Outcome]:
    """Call `work(id)` for each job once all its deps succeeded; at most `parallel` at a time.

    `order` lists every job, dependencies first; ready jobs start in that order. An exception from
    `work` counts as a failure of that job. `inline(id)`, when given, is tried first on this thread
    (a cache hit): if it returns an outcome, the job is done without occupying a worker.
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

    def guarded(job: str, fn: Callable[[str], Outcome | None] = work) -> Outcome | None:
        try:
            return fn(job)
        except Exception as exc:  # one job's crash must not take the others down
            return Outcome(job, FAILED, detail=f"{exc.__class__.__name__}: {exc}")

    def settle(job: str, outcome: Outcome) -> list[str]:
        """Record an outcome; return the jobs it made ready."""
        finish(outcome)
        if not outcome.succeeded:
            skip_dependents(job)
            return []
        made_ready = []
        for user in users[job]:
            pending[user] -= 1
            if pending[user] == 0 and user not in results:
                made_ready.append(user)
        return made_ready

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="shipyard-task") as pool:
        running: dict[Future[Outcome | None], str] = {}
        while ready or running:
            newly: list[str] = []
            while ready and len(running) < max(1, parallel):
                job = ready.pop(0)
                if job in results:  # skipped meanwhile
                    continue
                quick = guarded(job, inline) if inline is not None else None
                if quick is not None:
                    newly += settle(job, quick)
                    continue
                if on_start is not None:
                    on_start(job)
                running[pool.submit(guarded, job)] = job
            if running and not newly:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    newly += settle(job, future.result() or Outcome(job, FAILED, detail="no outcome"))
            if newly:
                ready = sorted([*ready, *newly], key=rank.__getitem__)
    return results

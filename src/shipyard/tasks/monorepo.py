"""`monorepo`: the package graph, affected-only runs since a git ref, and a content-hash task cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection

from shipyard.tasks._base import load_config, runner, task

if TYPE_CHECKING:
    from shipyard.monorepo.changes import Changes

BASE_HELP = "git ref to compare with (default origin/main, falling back to main)"
HEAD_HELP = "compare up to this ref only (default: HEAD plus uncommitted changes)"
RUN_HELP = {
    "affected": "only packages changed since --base, and their dependents",
    "base": BASE_HELP,
    "head": HEAD_HELP,
    "parallel": "tasks to run at once (default: the number of CPUs)",
    "force": "ignore cache hits: run every task (results are still saved)",
    "dry": "print what would run, with hashes, inputs, dependencies and cache status; run nothing",
    "dry_run": "same as --dry",
    "json": "with --dry: print the plan as JSON",
    "logs": "task output to show: full (replay cache hits too), new, errors, none",
    "strict": "fail a task that changes one of its own inputs (by default it is reported and not cached)",
}


def _quick_exit() -> None:
    """At exit, move every object to the collector's permanent generation, so that the interpreter's shutdown
    skips traversing them: its collections cost ~20 ms with Invoke loaded, about this whole task's own work.
    (It only forgoes collecting cycles that are garbage anyway; these tasks close every file they write.)"""
    import atexit
    import gc

    atexit.register(gc.freeze)


def _emit_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2))


def _run(task_name: str, affected: bool, base: str | None, head: str | None, parallel: int, force: bool,
         dry: bool, json_: bool, logs: str, strict: bool = False) -> None:
    import os

    from rich.console import Console

    from shipyard.errors import ShipyardError
    from shipyard.monorepo import render, report, runs
    from shipyard.monorepo.execute import LOG_MODES
    from shipyard.monorepo.scheduler import FAILED, SKIPPED

    _quick_exit()
    if logs not in LOG_MODES:
        raise ShipyardError(f"--logs must be one of {', '.join(LOG_MODES)} (got '{logs}')")
    if json_ and not dry:
        raise ShipyardError("--json describes a plan: use it with --dry")
    if (base or head) and not affected:
        raise ShipyardError("--base/--head choose what is affected: add --affected")
    if parallel < 0:
        raise ShipyardError(f"--parallel must be 1 or more (got {parallel}); 0 means one per CPU")
    console = Console()
    # the stat-validated index gives the graph and the tasks without loading (and validating) shipyard.yaml
    setup = runs.indexed_setup() or runs.setup_of(load_config())
    prepared = runs.prepare(setup, task_name, runner(), affected_only=affected, base=base, head=head)
    if affected and prepared.affected is not None and not json_:
        console.print(render.affected_text(prepared.affected), highlight=False, markup=False)
    if dry:
        data = report.dry_json(prepared.tasks, prepared.planned, prepared.cache, force)
        if json_:
            scope = prepared.affected.to_json() if prepared.affected is not None else None
            _emit_json({"task": task_name, "affected": scope, **data})
        else:
            report.dry_text(console, data)
        return
    if not prepared.tasks.nodes:
        console.print(f"nothing to run: no affected package has a '{task_name}' task")
        return
    outcomes, elapsed = runs.execute(prepared, console, parallel=parallel or os.cpu_count() or 1,
                                     force=force, logs=logs, strict=strict)
    console.print()
    table, totals = report.summary(list(prepared.tasks.nodes), outcomes, elapsed)
    console.print(table)
    console.print(totals, soft_wrap=True, highlight=False)
    failed = [o.id for o in outcomes.values() if o.status == FAILED]
    skipped = [o.id for o in outcomes.values() if o.status == SKIPPED]
    if failed:
        raise ShipyardError(f"{len(failed)} task(s) failed: {', '.join(failed)}"
                            + (f"; {len(skipped)} dependent task(s) skipped" if skipped else ""),
                            hint="read the task's output above, fix it, and run again (passing tasks are cached)")


@task(help={"task": "the task to run in every package that defines it (build, test, lint, ...)", **RUN_HELP},
      positional=["task_"], auto_shortflags=False)
def run(c: Any, task_: str, affected: bool = False, base: str | None = None, head: str | None = None,
        parallel: int = 0, force: bool = False, dry: bool = False, dry_run: bool = False, json_: bool = False,
        logs: str = "full", strict: bool = False) -> None:
    """Run TASK in dependency order, in parallel, restoring unchanged results from the cache."""
    _run(task_, affected, base, head, parallel, force, dry or dry_run, json_, logs, strict)


def _shorthand(name: str) -> Any:
    def body(c: Any, affected: bool = False, base: str | None = None, head: str | None = None, parallel: int = 0,
             force: bool = False, dry: bool = False, dry_run: bool = False, json_: bool = False,
             logs: str = "full", strict: bool = False) -> None:
        _run(name, affected, base, head, parallel, force, dry or dry_run, json_, logs, strict)

    body.__name__ = name
    body.__doc__ = f"Run `{name}` in every package (shorthand for `monorepo.run {name}`)."
    return task(help=RUN_HELP, name=name, auto_shortflags=False)(body)


build = _shorthand("build")
test = _shorthand("test")
lint = _shorthand("lint")


# git's answers for `monorepo.affected`, asked before Invoke parsed the command line: (config, base, head) -> wait
_EARLY: dict[tuple[str, str | None, str | None], Callable[[], Changes]] = {}


def start_early(argv: Sequence[str]) -> None:
    """For `invoke monorepo.affected [--base REF] [--head REF] [--json]` (nothing else on the line), start the git
    calls now, while Invoke is still parsing and the task's modules are still to be imported.

    Only a plain command line is understood; anything else (another task, --help, an unknown flag) starts
    nothing. The task uses the answers only for the same configuration, base and head it was given, so a
    command line read differently from Invoke costs some idle git work, never a wrong answer.
    """
    if not argv or argv[0] != "monorepo.affected":
        return
    given: dict[str, str] = {}
    words = list(argv[1:])
    while words:
        word = words.pop(0)
        name, eq, value = word.partition("=")
        if name in ("--base", "--head") and name not in given:
            if not eq:
                if not words or words[0].startswith("-"):
                    return
                value = words.pop(0)
            given[name] = value
        elif word != "--json":
            return
    from shipyard.errors import ShipyardError
    from shipyard.monorepo import changes
    from shipyard.util.locate import nearest_config

    config_path = nearest_config()  # = index.find_config(), without importing the index before git starts
    if config_path is None:
        return
    base, head = given.get("--base"), given.get("--head")
    try:
        _EARLY[(str(config_path), base, head)] = changes.start_changes(runner(), config_path.parent, base, head)
    except ShipyardError:  # a ref that is no ref: the task says so
        return


@task(help={"base": BASE_HELP, "head": HEAD_HELP, "json": "print the result as JSON (for CI)"},
      auto_shortflags=False)
def affected(c: Any, base: str | None = None, head: str | None = None, json_: bool = False) -> None:
    """List the packages changed since the merge base with --base, plus every package that depends on them."""
    import gc

    _quick_exit()
    gc.disable()  # a short task: the collector's passes over the freshly read index (~3 ms) would find nothing
    try:
        _affected(base, head, json_)
    finally:
        gc.enable()


def _affected(base: str | None, head: str | None, json_: bool) -> None:
    from shipyard.monorepo import changes, index

    # git starts answering first (on threads, or already while Invoke parsed: `start_early`); meanwhile the
    # rest is imported and the stat-validated index is read, which answers without loading shipyard.yaml
    config_path = index.find_config()
    started = None
    if config_path is not None:
        wait = _EARLY.pop((str(config_path), base, head), None) \
            or changes.start_changes(runner(), config_path.parent, base, head)
        started = (config_path, wait)

    from shipyard.monorepo import render, session

    result = session.find_affected_indexed(runner(), base, head, started) if started is not None else None
    if result is None:  # no index, or a stale one: the full load, with git's answer already asked
        config = load_config()
        asked = started[1] if started is not None and config.path.resolve() == started[0] else None
        result = session.find_affected(config, runner(), base, head, changes=asked)
    if json_:
        _emit_json(result.to_json())
    else:
        print(render.affected_text(result))


@task(help={"mermaid": "print a Mermaid diagram (for docs) instead of text",
            "json": "print packages and edges as JSON",
            "highlight_affected": "in the Mermaid diagram, colour the packages affected since --base",
            "base": BASE_HELP}, default=True, auto_shortflags=False)
def graph(c: Any, mermaid: bool = False, json_: bool = False, highlight_affected: bool = False,
          base: str | None = None) -> None:
    """Show the package graph: each package, what it depends on and why, and what uses it."""
    from shipyard.monorepo import render, session

    config = load_config()
    ws = session.open_workspace(config)
    if json_:
        _emit_json({"packages": [{"name": p.name, "dir": p.dir, "language": p.language,
                                  "depends_on": list(ws.graph.deps[p.name])} for p in ws.packages.values()]})
    elif mermaid:
        marked = session.find_affected(config, runner(), base, None, ws).packages if highlight_affected else ()
        print(render.graph_mermaid(ws.graph, marked))
    else:
        print(render.graph_text(ws.graph))


ns = Collection("monorepo", graph, affected, run, build, test, lint)

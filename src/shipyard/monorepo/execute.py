"""Run one task: restore it from the cache when its key hits, else execute it and save what it made."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shipyard.monorepo.cache import LocalCache, collect_outputs
from shipyard.monorepo.hashing import FileHasher, Planned
from shipyard.monorepo.scheduler import CACHED, FAILED, OK, Outcome
from shipyard.monorepo.taskgraph import TaskGraph
from shipyard.run.base import CommandTimeout, Runner
from shipyard.run.redact import REDACTOR

LOG_MODES = ("full", "new", "errors", "none")


class Printer(Protocol):
    def line(self, text: str) -> None: ...


def shell_argv(command: str) -> list[str]:
    """Task commands are shell command lines, like package.json scripts."""
    return ["sh", "-c", command]


def task_env(environ: Mapping[str, str] | None = None, executable: str = sys.executable,
             in_venv: bool = sys.prefix != sys.base_prefix) -> dict[str, str]:
    """Extra environment for task commands.

    When Shipyard runs from a virtualenv that is not activated (`.venv/bin/invoke ...`), its bin
    directory goes first on PATH, as activation would do, so `python -m pytest` finds the project's
    packages. An activated environment (VIRTUAL_ENV set) is left alone.
    """
    environ = os.environ if environ is None else environ
    if not in_venv or environ.get("VIRTUAL_ENV"):
        return {}
    return {"PATH": os.pathsep.join([str(Path(executable).parent), environ.get("PATH", "")])}


def changed_inputs_line(task_id: str, changed: list[str], before: bool) -> str:
    """The one line that names a task whose inputs moved under it (its result is not cached).

    `before`: they changed between planning and the task's start (another task wrote them), else while it ran.
    """
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    noun = "input" if len(changed) == 1 else "inputs"
    if before:
        return f"{task_id}: its {noun} {shown} changed before it ran (another task wrote them), so it was not saved"
    return f"{task_id} changed its {noun} {shown}: its cache entry can never hit, so it was not saved"


@dataclass
class TaskExecutor:
    root: Path
    tasks: TaskGraph
    planned: Mapping[str, Planned]
    cache: LocalCache | None
    make_runner: Callable[[Callable[[str], None]], Runner]
    printer: Printer
    force: bool = False
    logs: str = "full"
    #: re-checks a task's inputs after it ran (None: no check); `strict` makes a changed input a failure
    hasher: FileHasher | None = None
    strict: bool = False

    def _echo(self, task_id: str) -> Callable[[str], None]:
        def echo(line: str) -> None:
            if self.logs in ("full", "new"):
                self.printer.line(f"{task_id} | {line.rstrip()}")
        return echo

    def _replay(self, task_id: str, log: str, failed: bool = False) -> None:
        """Print a saved log: a cache hit's (logs=full), or a failed task's that was not streamed (logs=errors)."""
        if (self.logs == "full" and not failed) or (failed and self.logs == "errors"):
            for line in log.splitlines():
                self.printer.line(f"{task_id} | {line}")

    def restore(self, task_id: str) -> Outcome | None:
        """A cache hit restored (outputs written, log replayed), or None when the task must run."""
        node = self.tasks.nodes[task_id]
        if self.cache is None or not node.task.cache or self.force:
            return None
        start = time.monotonic()
        entry = self.cache.fetch(self.planned[task_id].key)
        if entry is None:
            return None
        self.cache.restore(entry, self.root / node.package.dir)
        self._replay(task_id, entry.log)
        return Outcome(task_id, CACHED, time.monotonic() - start, "hit", f"saved {entry.duration:.1f}s")

    def run(self, task_id: str) -> Outcome:
        """Execute the task's command (no cache lookup) and save its outputs when it succeeds."""
        node = self.tasks.nodes[task_id]
        plan = self.planned[task_id]
        package_dir = self.root / node.package.dir
        cacheable = self.cache is not None and node.task.cache
        start = time.monotonic()
        runner = self.make_runner(self._echo(task_id))
        stale = plan.changed_inputs(self.hasher) if self.hasher is not None else []
        try:
            result = runner.run(shell_argv(node.task.command), cwd=str(package_dir), check=False,
                                timeout=node.task.timeout, stream=True, env=task_env())
        except CommandTimeout:
            return Outcome(task_id, FAILED, time.monotonic() - start, "miss" if cacheable else "off",
                           f"timed out after {node.task.timeout:g}s")
        duration = time.monotonic() - start
        log = REDACTOR(result.stdout)
        cache_state = "off" if not cacheable else ("bypass" if self.force else "miss")
        if not result.ok:
            self._replay(task_id, log, failed=True)
            return Outcome(task_id, FAILED, duration, cache_state, f"exit code {result.exit_code}")
        changed = stale or (plan.changed_inputs(self.hasher) if self.hasher is not None else [])
        if changed:
            detail = changed_inputs_line(task_id, changed, before=bool(stale))
            self.printer.line(f"{task_id} | warning: {detail}")
            return Outcome(task_id, FAILED if self.strict else OK, duration, cache_state,
                           detail + (" (--strict)" if self.strict else ""))
        detail = ""
        if cacheable and self.cache is not None:
            outputs = collect_outputs(package_dir, node.task.outputs) if node.task.outputs else []
            if node.task.outputs and not outputs:
                detail = f"no files matched outputs {', '.join(node.task.outputs)}"
            try:
                self.cache.store(plan.key, {"task": task_id, "package_dir": node.package.dir,
                                            "command": node.task.command},
                                 log, package_dir, outputs, duration)
            except OSError as exc:  # the task succeeded; only saving it failed
                detail = f"not cached: {exc.strerror or exc.__class__.__name__} ({exc.filename or self.cache.dir})"
        return Outcome(task_id, OK, duration, cache_state, detail)

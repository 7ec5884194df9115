"""Each test bed step ends as 'already in place', 'changed' (or 'would change' in a dry run), with its timing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

State = Literal["already in place", "changed", "would change"]


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class StepResult:
    name: str
    state: State
    detail: str
    seconds: float

    @property
    def changed(self) -> bool:
        return self.state != "already in place"


@dataclass
class Report:
    dry_run: bool = False
    printer: Callable[[str], None] = _print
    results: list[StepResult] = field(default_factory=list)

    def step(self, name: str, body: Callable[[], tuple[bool, str]]) -> StepResult:
        """Run `body` (returns (changed, detail)), time it, print one line, remember it."""
        start = time.monotonic()
        changed, detail = body()
        state: State = "already in place"
        if changed:
            state = "would change" if self.dry_run else "changed"
        result = StepResult(name, state, detail, time.monotonic() - start)
        self.results.append(result)
        self.printer(format_line(result))
        return result

    @property
    def changed(self) -> list[StepResult]:
        return [r for r in self.results if r.changed]

    def summary(self, total: float) -> str:
        changed = len(self.changed)
        verb = "would change" if self.dry_run else "changed"
        return (f"test bed: {changed} step(s) {verb}, {len(self.results) - changed} already in place"
                f" ({total:.1f}s)")


def format_line(result: StepResult) -> str:
    return f"  {result.name:<22} {result.state:<17} {result.seconds:6.1f}s  {result.detail}"

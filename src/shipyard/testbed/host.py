"""The machine the test bed is installed on: read-only probes always run; changes go to the acting runner.

In a dry run the acting runner only prints, and file writes are printed instead of made.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.run import DryRunRunner, LocalRunner, Result, Runner
from shipyard.testbed.report import Report
from shipyard.testbed.settings import Settings


@dataclass
class Host:
    settings: Settings = field(default_factory=Settings)
    dry_run: bool = False
    probe: Runner = field(default_factory=LocalRunner)
    act: Runner = field(default_factory=LocalRunner)
    report: Report = field(default_factory=Report)
    which: Callable[[str], str | None] = shutil.which

    @classmethod
    def create(cls, settings: Settings | None = None, *, dry_run: bool = False,
               printer: Callable[[str], None] | None = None) -> Host:
        report = Report(dry_run=dry_run) if printer is None else Report(dry_run=dry_run, printer=printer)
        act: Runner = DryRunRunner(printer=report.printer) if dry_run else LocalRunner()
        return cls(settings=settings or Settings(), dry_run=dry_run, act=act, report=report)

    def check(self, argv: list[str], timeout: float = 30.0) -> Result:
        """A read-only probe that may fail: never raises on a non-zero exit."""
        return self.probe.run(argv, timeout=timeout, check=False)

    def ok(self, argv: list[str], timeout: float = 30.0) -> bool:
        try:
            return self.check(argv, timeout).ok
        except Exception:  # a probe that cannot even start (missing binary, timeout) means "no"
            return False

    def run(self, argv: list[str], **kwargs: Any) -> Result:
        return self.act.run(argv, **kwargs)

    def say(self, line: str) -> None:
        self.report.printer(line)

    def mkdir(self, path: Path, mode: int = 0o755) -> None:
        if self.dry_run:
            if not path.is_dir():
                self.say(f"[local] would create directory {path}")
            return
        path.mkdir(parents=True, exist_ok=True, mode=mode)

    def write_text(self, path: Path, text: str, mode: int = 0o644) -> bool:
        """Write when the content differs. Returns True when it changed (or would)."""
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return False
        if self.dry_run:
            self.say(f"[local] would write {path}")
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(mode)
        tmp.replace(path)
        return True

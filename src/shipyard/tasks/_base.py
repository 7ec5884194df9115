"""Shared glue for Invoke tasks: user errors become one line and an exit code, never a traceback.

Keep imports here light: `invoke --list` imports every task module.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit
from invoke.tasks import task as invoke_task

from shipyard.errors import ShipyardError

F = TypeVar("F", bound=Callable[..., Any])


def _configure_logging() -> None:
    level = os.environ.get("SHIPYARD_LOG", "WARNING").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s")


def invoke_dry(context: Any) -> bool:
    """Whether Invoke's own `--dry` flag (`invoke --dry TASK`) is set for this run."""
    run = getattr(getattr(context, "config", None), "run", None)
    return bool(getattr(run, "dry", False)) if run is not None else False


def task(*args: Any, **kwargs: Any) -> Any:
    """Like invoke.task, but a ShipyardError ends the command with its one-line message, and Invoke's own `--dry`
    turns on the task's `--dry-run` (a task that changes something never runs for real under `invoke --dry`)."""

    def decorate(body: F) -> Any:
        dry_param = next((p for p in ("dry_run", "dry") if p in inspect.signature(body).parameters), None)

        @functools.wraps(body)
        def wrapper(*a: Any, **kw: Any) -> Any:
            _configure_logging()
            if dry_param and a and invoke_dry(a[0]):
                kw[dry_param] = True
            try:
                return body(*a, **kw)
            except ShipyardError as exc:
                from shipyard.run.redact import REDACTOR

                raise Exit(f"error: {REDACTOR(str(exc))}", code=exc.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("interrupted", code=130) from None

        # Short flags only where a task asks for them: Invoke's automatic ones took -h (help) for --hosts,
        # -f for --affected and -r for --dry-run, against every convention.
        kwargs.setdefault("auto_shortflags", False)
        return invoke_task(wrapper, **kwargs)

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate


def load_config(path: str | None = None) -> Any:
    from shipyard.config import load

    return load(path)


def runner(dry_run: bool = False) -> Any:
    from shipyard.run import DryRunRunner, LocalRunner

    return DryRunRunner() if dry_run else LocalRunner()


def checked_platform(value: str | None) -> str | None:
    """A --platform flag's value, checked like build.platform (None when the flag was not given)."""
    from shipyard.config.schema import PLATFORM_RE

    if not value:
        return None
    if not PLATFORM_RE.match(value):
        raise ShipyardError(f"--platform {value!r} is not os/architecture[/variant]",
                            hint="for example --platform linux/amd64 (what droplets run) or linux/arm64")
    return value

"""Shared glue for Invoke tasks: user errors become one line and an exit code, never a traceback.

Keep imports here light: `invoke --list` imports every task module.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit, ParseError
from invoke.parser.argument import Argument
from invoke.tasks import Task
from invoke.tasks import task as invoke_task

from shipyard.errors import ShipyardError

F = TypeVar("F", bound=Callable[..., Any])


def _configure_logging() -> None:
    level = os.environ.get("SHIPYARD_LOG", "WARNING").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s")


def invoke_run_flags(context: Any) -> tuple[bool, bool]:
    """(dry, echo): whether Invoke's own `--dry` / `--echo` (or run.dry / run.echo in Invoke's config) is on."""
    run = getattr(getattr(context, "config", None), "run", None)
    return bool(getattr(run, "dry", False)), bool(getattr(run, "echo", False))


def typed_name(body: Callable[..., Any]) -> str | None:
    """The name a user types for the task whose body this is (`deploy`, `deploy.accessories.boot`), found in its
    module's collection (`ns`, named like the module); None when that module has none."""
    collection = getattr(sys.modules.get(body.__module__), "ns", None)
    if collection is None:
        return None
    for relative in collection.task_names:
        if collection[relative].body is body:
            parts = [*filter(None, [collection.name]), *relative.split(".")]
            if len(parts) > 1 and parts[-1] == parts[-2]:  # a collection's default task named like it: `deploy`
                parts.pop()
            return ".".join(parts)
    return None


def honour_invoke_run_flags(context: Any, body: Callable[..., Any], dry_param: str | None,
                            kwargs: dict[str, Any]) -> None:
    """Invoke's --dry and --echo act on `c.run`, which Shipyard never uses (every command goes through run/), so
    they are given their meaning here: --dry turns on the task's own dry run (a task without one is refused, never
    run for real), --echo shows every command as it runs (the execution layer's log at info level)."""
    dry, echo = invoke_run_flags(context)
    if echo:
        logging.getLogger("shipyard.run").setLevel(logging.INFO)
    if not dry:
        return
    if dry_param is None:
        name = typed_name(body) or "this task"
        raise ShipyardError(f"Invoke's --dry: {name} has no dry run of its own, so nothing was run",
                            hint=f"run `invoke {name}` without --dry")
    kwargs[dry_param] = True


class _NumberArgument(Argument):
    """An int or float flag whose bad value is one line (a ParseError, printed by Invoke), not a traceback."""

    def set_value(self, value: Any, cast: bool = True) -> None:
        try:
            super().set_value(value, cast)
        except ValueError:
            what = "a whole number" if self.kind is int else "a number (e.g. 1.5)"
            raise ParseError(f"error: --{self.name} expects {what}, not {value!r}") from None


#: The only short flags, the same on every task that has the long one (as `docker compose logs` and `kubectl logs`
#: users expect). Invoke's automatic ones are off: they took -h (help) for --hosts, -f for --affected and -r for
#: --dry-run, and gave the same letter different meanings from one collection to the next.
SHORT_FLAGS = {"service": "s", "follow": "f", "tail": "t"}


class ShipyardTask(Task[Any]):
    """Invoke's Task, whose number flags refuse a bad value in one line, with the SHORT_FLAGS convention."""

    def arg_opts(self, name: str, default: str, taken_names: Any) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        short = SHORT_FLAGS.get(name)
        if short and short not in taken_names and short not in opts["names"]:
            opts["names"] = [*opts["names"], short]
        return opts

    def get_arguments(self, ignore_unknown_help: bool | None = None) -> list[Argument]:
        arguments: list[Argument] = super().get_arguments(ignore_unknown_help)
        for argument in arguments:
            if argument.kind in (int, float):
                argument.__class__ = _NumberArgument  # same object and state, one overridden method
        return arguments


def task(*args: Any, **kwargs: Any) -> Any:
    """Like invoke.task, but a ShipyardError ends the command with its one-line message, Invoke's own `--dry` turns
    on the task's `--dry-run` (refused where there is none) and `--echo` logs every command, and a bad number given
    to a flag is one line."""

    def decorate(body: F) -> Any:
        dry_param = next((p for p in ("dry_run", "dry") if p in inspect.signature(body).parameters), None)

        @functools.wraps(body)
        def wrapper(*a: Any, **kw: Any) -> Any:
            _configure_logging()
            try:
                honour_invoke_run_flags(a[0] if a else None, wrapper, dry_param, kw)
                return body(*a, **kw)
            except ShipyardError as exc:
                from shipyard.run.redact import REDACTOR

                raise Exit(f"error: {REDACTOR(str(exc))}", code=exc.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("interrupted", code=130) from None

        kwargs.setdefault("auto_shortflags", False)  # short flags: SHORT_FLAGS only
        kwargs.setdefault("klass", ShipyardTask)
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


def build_args(values: list[str] | None) -> dict[str, str]:
    """Repeated --build-arg KEY=VALUE flags as a mapping (a value without `=` is not an assignment: ignored)."""
    return dict(a.split("=", 1) for a in (values or []) if "=" in a)


def release_target(env: str | None) -> Any:
    """The environment's target (targets/base.py's ReleaseTarget: compose, VM or Kubernetes, by its kind), from
    shipyard.yaml and a running sandbox; a missing or unknown environment is one line naming the known ones."""
    from shipyard.sandbox.overlay import with_sandbox
    from shipyard.targets import base

    return base.release_target(with_sandbox(load_config()), env)

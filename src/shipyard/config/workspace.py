"""The `workspace:` section of shipyard.yaml: where packages live and which tasks they run.

    workspace:
      packages: [apps/*, packages/*]          # directories holding a package.json or a pyproject.toml
      global_inputs: [package-lock.json]      # root files whose change affects (and re-keys) every task
      defaults:                               # tasks every package of a language gets
        node:
          build: {command: npm run build --if-present, outputs: [dist/**], depends_on: [^build]}
        python:
          test: {command: python -m pytest -q}
      overrides:                              # per package, by package name or directory
        apps/web:
          depends_on: [api]                   # an edge no manifest declares
          tasks:
            build: {outputs: [.next/**, "!.next/cache/**"]}
            lint: null                        # this package has no lint task
      cache: {dir: .shipyard/cache, max_size_mb: 2048}

Pure data and validation; discovery and the graph live in shipyard.monorepo.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

LANGUAGES: tuple[str, ...] = ("node", "python")
TASK_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9:_-]*$")
# `build` (this package's build), `^build` (build of every package it depends on), `pkg#build` (one package's).
TASK_DEP_RE = re.compile(r"^(\^?[A-Za-z][A-Za-z0-9:_-]*|[^#\s]+#[A-Za-z][A-Za-z0-9:_-]*)$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\*?$")

DEFAULT_PACKAGES = ["apps/*", "packages/*"]
DEFAULT_GLOBAL_INPUTS = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "uv.lock",
    "poetry.lock",
    "package.json",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_glob(value: str) -> str:
    body = value.removeprefix("!")
    if not body or body.startswith("/") or ".." in body.split("/"):
        raise ValueError(f"'{value}' must be a relative glob inside the package (no leading '/', no '..')")
    return value


class TaskSpec(_Strict):
    """One task of a package. In overrides, only the keys given replace the language default's."""

    command: Annotated[str, Field(min_length=1)] | None = None
    inputs: list[str] | None = None
    outputs: list[str] = []
    env: list[str] = []
    depends_on: list[str] = []
    cache: bool = True
    timeout: Annotated[float, Field(gt=0, strict=True)] | None = None

    @field_validator("inputs", "outputs")
    @classmethod
    def _globs(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            _check_glob(item)
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: list[str]) -> list[str]:
        for name in value:
            if not ENV_NAME_RE.match(name):
                raise ValueError(f"'{name}' is not an environment variable name (a trailing * is a wildcard)")
        return value

    @field_validator("depends_on")
    @classmethod
    def _deps(cls, value: list[str]) -> list[str]:
        for dep in value:
            if not TASK_DEP_RE.match(dep):
                raise ValueError(
                    f"'{dep}' must be 'task', '^task' (in the packages this one depends on) or 'package#task'"
                )
        return value

    def merged(self, over: TaskSpec) -> TaskSpec:
        """This spec with every key that `over` sets explicitly replaced."""
        return self.model_copy(update={key: getattr(over, key) for key in over.model_fields_set})


def _check_task_names(value: dict[str, TaskSpec | None]) -> None:
    for name in value:
        if not TASK_NAME_RE.match(name):
            raise ValueError(f"task name '{name}' must start with a letter (letters, digits, ':', '_', '-')")


class PackageSettings(_Strict):
    depends_on: list[str] = []
    tasks: dict[str, TaskSpec | None] = {}

    @field_validator("tasks")
    @classmethod
    def _names(cls, value: dict[str, TaskSpec | None]) -> dict[str, TaskSpec | None]:
        _check_task_names(value)
        return value


class CacheSettings(_Strict):
    enabled: bool = True
    dir: str = ".shipyard/cache"
    max_size_mb: Annotated[int, Field(ge=1, strict=True)] = 2048


class WorkspaceConfig(_Strict):
    packages: list[str] = DEFAULT_PACKAGES
    global_inputs: list[str] = DEFAULT_GLOBAL_INPUTS
    defaults: dict[str, dict[str, TaskSpec]] = {}
    overrides: dict[str, PackageSettings] = {}
    cache: CacheSettings = CacheSettings()

    @field_validator("packages", "global_inputs")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for item in value:
            _check_glob(item)
        return value

    @field_validator("defaults")
    @classmethod
    def _default_names(cls, value: dict[str, dict[str, TaskSpec]]) -> dict[str, dict[str, TaskSpec]]:
        for language, tasks in value.items():
            if language not in LANGUAGES:
                raise ValueError(f"unknown language '{language}' (languages: {', '.join(LANGUAGES)})")
            _check_task_names(dict(tasks))
        return value

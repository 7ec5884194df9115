"""`config`: check and explain shipyard.yaml."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import task


@task(help={"file": "path to the config file (default: the nearest shipyard.yaml)"}, default=True)
def check(c: Any, file: str | None = None) -> None:
    """Validate shipyard.yaml and list every problem with its line and key path."""
    from pathlib import Path

    from shipyard.config import find_config, parse
    from shipyard.config.loader import read_text
    from shipyard.errors import ConfigError

    path = Path(file).resolve() if file else find_config()
    try:
        config = parse(read_text(path), file=path.name, path=path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        raise
    from shipyard.targets.vmenv import environment_problems

    problems = environment_problems(config)
    if problems:
        for problem in problems:
            print(f"{path.name}: {problem}")
        raise ConfigError([f"{path.name}: {p}" for p in problems])
    envs = ", ".join(f"{name} ({env.target})" for name, env in config.project.environments.items())
    print(f"{path.name}: ok - project {config.project.project}, services: {', '.join(config.project.services)};"
          f" environments: {envs or 'none'}")


ns = Collection("config", check)

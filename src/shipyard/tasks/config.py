"""`config`: check and explain shipyard.yaml."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.report import JSON_HELP
from shipyard.tasks._base import task


@task(help={"file": "path to the config file (default: the nearest shipyard.yaml)",
            "json": JSON_HELP.format(kind="config-check")}, default=True)
def check(c: Any, file: str | None = None, json: bool = False) -> None:
    """Validate shipyard.yaml and list every problem with its line and key path."""
    from pathlib import Path

    from shipyard.config import find_config, parse
    from shipyard.config.loader import Config, read_text
    from shipyard.errors import ConfigError
    from shipyard.report import dumps
    from shipyard.report.config import config_check_doc, config_check_lines
    from shipyard.targets.vm.env import environment_problems

    path = Path(file).resolve() if file else find_config()  # a missing file: one line, before any report
    config: Config | None = None
    try:
        config = parse(read_text(path), file=path.name, path=path)
        problems = [f"{path.name}: {p}" for p in environment_problems(config)]
    except ConfigError as exc:
        problems = exc.problems
    print(dumps(config_check_doc(path, config, problems)) if json
          else "\n".join(config_check_lines(path, config, problems)))
    if problems:
        raise ConfigError(problems)


ns = Collection("config", check)

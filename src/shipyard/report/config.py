"""What `config.check` found: plain lines and the shipyard.config-check document. Pure.

A problem is the one line the configuration layer wrote (`shipyard.yaml:14 services.api.port: must be an
integer`, or `shipyard.yaml: environment 'staging': ...` for what a VM environment lacks); the document also
splits it into file, line, key path and message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.plans import approval
from shipyard.report import schema

if TYPE_CHECKING:
    from shipyard.config.loader import Config

_LOCATED = re.compile(r"(?P<line>\d+) (?P<path>\S+?): (?P<message>.+)", re.DOTALL)
WHOLE = "(document)"  # the key path of a problem with the whole file


def problem_doc(text: str, file: str) -> dict[str, Any]:
    """`{file}:{line} {key path}: {message}` (or `{file}: {message}`) as its parts; a line that has neither shape
    keeps its text as the message."""
    doc: dict[str, Any] = {"text": text, "file": None, "line": None, "path": None, "message": text}
    if not text.startswith(f"{file}:"):
        return doc
    rest = text[len(file) + 1:]
    located = _LOCATED.fullmatch(rest)
    if located:
        path = located["path"]
        return {**doc, "file": file, "line": int(located["line"]), "path": None if path == WHOLE else path,
                "message": located["message"]}
    return {**doc, "file": file, "message": rest.strip()}


def config_check_doc(path: Path, config: Config | None, problems: Sequence[str]) -> dict[str, Any]:
    """`config`: the parsed configuration (None when the file did not parse); `problems`: every one found."""
    project = config.project if config is not None else None
    return {"schema": schema("config-check"), "file": str(path), "ok": not problems,
            "problems": [problem_doc(p, path.name) for p in problems],
            "project": project.project if project else None,
            "services": sorted(project.services) if project else [],
            "environments": {name: {"target": env.target, "require_approval": approval.required(env)}
                             for name, env in sorted(project.environments.items())} if project else {}}


def config_check_lines(path: Path, config: Config | None, problems: Sequence[str]) -> list[str]:
    if problems or config is None:
        return list(problems)
    project = config.project
    envs = ", ".join(f"{name} ({env.target})" for name, env in project.environments.items())
    return [f"{path.name}: ok - project {project.project}, services: {', '.join(project.services)};"
            f" environments: {envs or 'none'}"]

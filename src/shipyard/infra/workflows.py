"""Rules for the GitHub workflows that actionlint and yamllint do not know.

CI must be reproducible on a laptop, so a `run:` step may only call nox, invoke or a script of the
repository (`./scripts/...`). Every action is pinned (a full commit SHA, or at least a version tag).
Secrets and user input reach scripts only through env:, never expanded into the script text. A job that
deploys, rolls back or applies Terraform names its GitHub environment (where required reviewers and
environment secrets apply), and no step turns off SSH host key checking.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from shipyard.infra.hcl import display
from shipyard.infra.problems import Problem

ALLOWED_PROGRAMS = frozenset({"nox", "invoke", ".venv/bin/nox", ".venv/bin/invoke"})
SCRIPT_PREFIXES = ("./scripts/", "scripts/")
SEPARATORS_RE = re.compile(r"&&|\|\||;|\||\n")
ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PINNED_RE = re.compile(r"^[^@\s]+@([0-9a-f]{40}|v\d+(\.\d+){0,2})$")
DEPLOYS_RE = re.compile(r"\binvoke\s+(deploy|rollback|infra\.apply)\b")
EXPRESSION_RE = re.compile(r"\$\{\{\s*(secrets|inputs|github\.event|github\.head_ref|env)\b[^}]*\}\}")
INSECURE_SSH_RE = re.compile(r"StrictHostKeyChecking\s*=?\s*no|UserKnownHostsFile\s*=?\s*/dev/null", re.I)


def workflow_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def commands(script: str) -> list[str]:
    """The commands of a `run:` script: split on newlines and shell operators, comments dropped."""
    joined = script.replace("\\\n", " ")
    out = []
    for part in SEPARATORS_RE.split(joined):
        line = part.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def program(command: str) -> str:
    """The program a command runs, past leading VAR=value assignments."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    while words and ASSIGNMENT_RE.match(words[0]):
        words = words[1:]
    return words[0] if words else ""


def allowed(command: str) -> bool:
    name = program(command)
    return name in ALLOWED_PROGRAMS or name.startswith(SCRIPT_PREFIXES)


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def check_workflow(path: Path) -> list[Problem]:
    import yaml

    text = path.read_text(encoding="utf-8")
    where = display(path)
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(where, (mark.line + 1) if mark else 0, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return [Problem(where, 0, "not a workflow (no jobs: mapping)")]
    problems = []
    if "permissions" not in data:
        problems.append(Problem(where, 0, "no top-level permissions: (give the token the least it needs)"))
    for job_name, job in data["jobs"].items():
        if not isinstance(job, dict):
            continue
        uses = job.get("uses")
        if isinstance(uses, str) and not uses.startswith("./") and not PINNED_RE.match(uses):
            problems.append(Problem(where, _line_of(text, uses), f"job {job_name}: {uses} is not pinned"))
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            if isinstance(step.get("uses"), str):
                ref = step["uses"]
                if not ref.startswith("./") and not PINNED_RE.match(ref):
                    problems.append(Problem(where, _line_of(text, ref), f"job {job_name}: action {ref} is not pinned"
                                                                        " to a commit SHA or a version tag"))
            script = step.get("run")
            if isinstance(script, str):
                if DEPLOYS_RE.search(script) and not job.get("environment"):
                    problems.append(Problem(where, _line_of(text, script.strip().splitlines()[0]),
                                            f"job {job_name} deploys without environment: (GitHub's reviewers and "
                                            "environment secrets only apply to jobs that name one)"))
                for expression in EXPRESSION_RE.finditer(script):
                    problems.append(Problem(where, _line_of(text, expression.group(0)),
                                            f"job {job_name}: run step expands {expression.group(0)} inside the "
                                            "script; pass it through env: (no injection, no secret in the script)"))
                for command in commands(script):
                    if not allowed(command):
                        problems.append(Problem(where, _line_of(text, command.split()[0]),
                                                f"job {job_name}: run step calls `{program(command)}`; CI steps may "
                                                "only call nox, invoke or ./scripts/ (so a laptop can run them)"))
    insecure = INSECURE_SSH_RE.search(text)
    if insecure:
        problems.append(Problem(where, _line_of(text, insecure.group(0)),
                                "SSH host key checking must stay on (use a known_hosts secret)"))
    return problems

"""What read-only commands report, as plain lines for people and as `--json` documents for scripts. Pure.

Each document is a plain dict of JSON types whose `schema` names its kind and version (`shipyard.status/v1`);
docs/JSON.md documents every field. A task builds the document from the objects it already has and prints
`dumps(doc)`: stdout then holds exactly one JSON document, or nothing when the command failed before it had one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipyard.errors import ShipyardError

if TYPE_CHECKING:  # task modules import this package for JSON_HELP: `invoke --list` stays light
    from shipyard.run.redact import Redactor

VERSION = 1
JSON_HELP = "print one JSON document instead of text (schema shipyard.{kind}/v1, see docs/JSON.md)"


def schema(kind: str) -> str:
    """The value of a document's `schema` field: `shipyard.<kind>/v<version>`."""
    return f"shipyard.{kind}/v{VERSION}"


def redacted(value: Any, redactor: Redactor) -> Any:
    """The same JSON value with every string (keys too) passed through the redactor."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {redactor(str(k)): redacted(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v, redactor) for v in value]
    return value


def dumps(doc: dict[str, Any], redactor: Redactor | None = None) -> str:
    """The document as printed: redacted (a secret value never leaves, even one that slipped into a message;
    default: the process-wide redactor), indented, keys sorted; strict JSON (no NaN or Infinity)."""
    from shipyard.run.redact import REDACTOR

    return json.dumps(redacted(doc, redactor or REDACTOR), indent=2, sort_keys=True, allow_nan=False)


def fail_unreachable(bad: list[str], total: int, what: str) -> None:
    """End the command non-zero, in one line, when hosts could not be read (after everything that could was
    printed: the plain report, or the JSON document with each host's error)."""
    if bad:
        raise ShipyardError(f"{len(bad)} of {total} host(s) could not be read ({', '.join(bad)}): {what}",
                            hint="check the hosts' address, SSH key and known_hosts; `invoke deploy.status`")


def commands_plan_doc(action: str, release: str | None, environment: str, target: str, images: dict[str, str],
                      commands: list[list[str]], log: list[str]) -> dict[str, Any]:
    """A shipyard.plan document for a target that changes things through commands run here (compose, Kubernetes):
    no hosts, the exact commands instead (already redacted by the dry-run runner that recorded them)."""
    import shlex

    return {"schema": schema("plan"), "action": action, "release": release, "environment": environment,
            "target": target, "strategy": None, "on_host_failure": None, "images": dict(images), "ok": True,
            "log": list(log), "warnings": [], "accessories": [], "hosts": [],
            "commands": [{"argv": argv, "command": shlex.join(argv)} for argv in commands]}


def plan_needs_dry_run(as_json: bool, dry_run: bool) -> None:
    """`--json` on deploy or rollback prints the plan of a dry run; a real one reports its progress as text."""
    if as_json and not dry_run:
        raise ShipyardError("--json prints the plan of a dry run; nothing was run", hint="add --dry-run")

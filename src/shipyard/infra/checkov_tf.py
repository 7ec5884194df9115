"""checkov's Terraform report as one-line problems, and the rule that every suppression carries a reason.

checkov counts a Terraform syntax error as a parsing error and still exits 0, so syntax is checked by
python-hcl2 (tfcheck.py) and a parsing error reported here is a failure too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.infra.hcl import display
from shipyard.infra.problems import Problem

SKIP_RE = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")
MIN_REASON = 12
ENV = {"LOG_LEVEL": "ERROR", "BC_SKIP_MAPPING": "TRUE"}


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    skipped: int
    resources: int


def parse_report(stdout: str, root: Path) -> tuple[list[Problem], Summary]:
    """checkov -o json -> (failed checks and parsing errors as problems, counts)."""
    text = stdout.strip()
    if not text:
        return [], Summary(0, 0, 0, 0)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        raise ShipyardError("checkov did not print a JSON report", hint="run it by hand to see why") from None
    problems: list[Problem] = []
    passed = failed = skipped = resources = 0
    for report in data if isinstance(data, list) else [data]:
        if not isinstance(report, dict) or "results" not in report:
            continue  # the "no resources found" summary
        summary = report.get("summary") or {}
        passed += int(summary.get("passed", 0))
        failed += int(summary.get("failed", 0))
        skipped += int(summary.get("skipped", 0))
        resources += int(summary.get("resource_count", 0))
        for check in report["results"].get("failed_checks", []):
            where = display(root / str(check.get("file_path", "")).lstrip("/"))
            line = (check.get("file_line_range") or [0])[0]
            problems.append(Problem(where, int(line), f"checkov {check.get('check_id')}: {check.get('check_name')}"
                                                      f" ({check.get('resource')})"))
        unparsed = summary.get("parsing_errors", 0)
        count = len(unparsed) if isinstance(unparsed, list) else int(unparsed or 0)
        if count:
            problems.append(Problem(display(root), 0, f"checkov could not parse {count} file(s); "
                                                      "their syntax errors are listed by the HCL check"))
    return sorted(set(problems)), Summary(passed, failed, skipped, resources)


def unreasoned_skips(root: Path) -> list[Problem]:
    """`# checkov:skip=CKV_X:<reason>` must say why, in a dozen characters or more."""
    out = []
    for path in sorted(root.rglob("*.tf")):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = SKIP_RE.search(line)
            if match and len((match.group(2) or "").strip()) < MIN_REASON:
                out.append(Problem(display(path), number, f"checkov suppression {match.group(1)} has no written "
                                                          "reason (# checkov:skip=ID:why it is safe)"))
    return out

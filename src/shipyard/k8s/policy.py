"""Policy scan of rendered manifests with checkov (its kubernetes framework, offline), plus the rule that
every suppression is written in the manifest with its reason.

checkov lives in its own virtualenv (it pins forks of libraries that other tools need): SHIPYARD_CHECKOV,
then <repo>/.venv-checkov/bin/checkov, then `checkov` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.k8s import manifests
from shipyard.k8s.manifests import Doc
from shipyard.run.base import Runner

SKIP_RE = re.compile(r"^checkov\.io/skip\d+$")
REASONED_SKIP_RE = re.compile(r"^(CKV2?_K8S_\d+)=(.{12,})$")


@dataclass(frozen=True)
class Finding:
    check: str
    name: str
    resource: str
    file: str

    def __str__(self) -> str:
        return f"{self.file}: {self.resource}: {self.check} {self.name}"


def find_checkov(root: Path) -> str:
    explicit = os.environ.get("SHIPYARD_CHECKOV")
    candidates = [explicit] if explicit else []
    candidates += [str(root / ".venv-checkov" / "bin" / "checkov"), shutil.which("checkov") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ShipyardError("checkov is not installed (the policy scan needs it, in its own virtualenv)",
                        hint="python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov"
                             " (or run `nox -s iac`, which does it)")


def scan_argv(checkov: str, directory: str) -> list[str]:
    return [checkov, "--skip-download", "--framework", "kubernetes", "--directory", directory,
            "--output", "json", "--quiet", "--compact"]


def parse_report(stdout: str) -> tuple[list[Finding], int, list[str]]:
    """checkov's JSON -> (failed checks, number passed, parsing errors)."""
    text = stdout.strip()
    if not text:
        return [], 0, []
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        raise ShipyardError("checkov did not print a JSON report", hint="run the scan by hand to see why") from None
    reports = data if isinstance(data, list) else [data]
    failed: list[Finding] = []
    passed = 0
    errors: list[str] = []
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            continue  # "no files found" summaries
        summary = report.get("summary") or {}
        passed += int(summary.get("passed", 0))
        errors += [str(e) for e in summary.get("parsing_errors", []) or []] if isinstance(
            summary.get("parsing_errors"), list) else []
        for check in report["results"].get("failed_checks", []):
            failed.append(Finding(str(check.get("check_id")), str(check.get("check_name")),
                                  str(check.get("resource")), Path(str(check.get("file_path"))).name))
    return failed, passed, errors


def scan(runner: Runner, checkov: str, directory: Path) -> tuple[list[Finding], int, list[str]]:
    result = runner.run(scan_argv(checkov, str(directory)), timeout=300, check=False,
                        env={"LOG_LEVEL": "ERROR", "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""})
    if result.exit_code not in (0, 1):
        last = (result.stderr.strip().splitlines() or ["no error output"])[-1]
        raise ShipyardError(f"checkov failed with exit code {result.exit_code}: {last}")
    return parse_report(result.stdout)


def unreasoned_skips(docs: list[Doc], origin: str) -> list[str]:
    """Every checkov.io/skipN annotation must read `CKV_K8S_<n>=<a reason of a dozen characters or more>`."""
    out = []
    for doc in docs:
        for key, value in manifests.annotations_of(doc).items():
            if SKIP_RE.match(key) and not REASONED_SKIP_RE.match(str(value).strip()):
                out.append(f"{origin}: {manifests.key(doc)}: suppression {key}={value!r} has no written reason")
    return out

"""Every function of the package that no test ran, from a coverage JSON report (`nox -s coverage` writes it).

    python scripts/unrun_functions.py .coverage-data/coverage.json

A function listed here is dead code, or code that only runs where the tests cannot reach (a real cloud, a
cluster, an interactive terminal): each is either removed or explained. The list is printed, one per line as
`path:line name (statements)`, and the exit status is 0: this is a report to read, not a gate (vulture in
`nox -s lint` is the gate).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def unrun(report: dict) -> list[tuple[str, int, str, int]]:  # type: ignore[type-arg]
    out = []
    for path, data in sorted(report["files"].items()):
        for name, function in data.get("functions", {}).items():
            summary = function["summary"]
            if name and summary["num_statements"] and not summary["covered_lines"]:
                first = min(function.get("missing_lines") or function.get("executed_lines") or [0])
                out.append((path, first, name, summary["num_statements"]))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    found = unrun(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    for path, line, name, statements in found:
        print(f"{path}:{line} {name} ({statements} statements)")
    print(f"{len(found)} function(s) that no test ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

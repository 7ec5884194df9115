"""argv builders for the offline checkers: checkov (Terraform), actionlint, yamllint, detect-secrets.

Each takes the executable's path, because these tools live in different virtualenvs (checkov in its own).
"""

from __future__ import annotations

from collections.abc import Sequence

Argv = list[str]


def checkov_terraform(checkov: str, directory: str) -> Argv:
    """checkov over a tree of Terraform modules, offline (--skip-download), as a JSON report."""
    return [
        checkov,
        "--directory",
        directory,
        "--framework",
        "terraform",
        "--skip-download",
        "--output",
        "json",
        "--quiet",
        "--compact",
    ]


def actionlint(actionlint_bin: str, files: Sequence[str], *, shellcheck: str, config: str | None = None) -> Argv:
    """actionlint, one problem per line. `shellcheck` is a path: without one, run: scripts go unchecked."""
    argv = [actionlint_bin, "-no-color", "-oneline", f"-shellcheck={shellcheck}"]
    if config is not None:
        argv += ["-config-file", config]
    return [*argv, *files]


def yamllint(yamllint_bin: str, paths: Sequence[str], *, config: str | None = None) -> Argv:
    """yamllint in strict mode (warnings fail too), one problem per line."""
    argv = [yamllint_bin, "--strict", "--format", "parsable"]
    if config is not None:
        argv += ["--config-file", config]
    return [*argv, *paths]


def detect_secrets_scan(detect_secrets: str, files: Sequence[str], *, baseline: str) -> Argv:
    """Scan the given files with the settings of `baseline`, writing the fresh results into that file.

    Point `baseline` at a scratch copy of the committed baseline: the caller compares the two.
    """
    return [detect_secrets, "scan", "--baseline", baseline, *files]

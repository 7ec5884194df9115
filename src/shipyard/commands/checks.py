"""argv builders for the offline checkers: checkov (Terraform), actionlint, yamllint, detect-secrets (and its hook).

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
    """Scan the given files with the settings of `baseline`, writing the fresh results into that file (the way to
    accept findings into a baseline: audit flags of known ones are kept)."""
    return [detect_secrets, "scan", "--baseline", baseline, *files]


def detect_secrets_hook(hook: str, files: Sequence[str], *, baseline: str) -> Argv:
    """detect-secrets' own pre-commit check: the findings in `files` that `baseline` does not know, as JSON on
    stdout (exit 1); exit 0 when there is none, 3 when there is none but it rewrote `baseline` (moved line numbers,
    findings gone). Point `baseline` at a scratch copy so that the committed one changes only on request."""
    return [hook, "--baseline", baseline, "--json", *files]

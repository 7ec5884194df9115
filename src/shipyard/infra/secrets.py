"""Secret hygiene: which secrets an environment needs and whether they resolve (never their values), and the
findings of detect-secrets' own hook against the committed baseline (hashes only, never values)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.config.loader import Config
from shipyard.errors import SecretError, ShipyardError

BASELINE = ".secrets.baseline"


@dataclass(frozen=True)
class SecretStatus:
    name: str
    source: str  # "env POSTGRES_PASSWORD" or "file ~/.config/..."
    present: bool
    problem: str = ""
    services: tuple[str, ...] = ()


def needed(config: Config, env: str) -> dict[str, tuple[str, ...]]:
    """Secret name -> the services of `env` that need it (after the environment's overrides)."""
    out: dict[str, list[str]] = {}
    for service_name, service in config.services(env).items():
        for secret in service.secrets:
            out.setdefault(secret, []).append(service_name)
    return {name: tuple(services) for name, services in sorted(out.items())}


def statuses(config: Config, env: str, environ: Mapping[str, str] | None = None) -> list[SecretStatus]:
    """Resolve each needed secret on its own; a missing one is reported, not raised. Values stay inside."""
    from shipyard.config.secrets import resolve

    out = []
    for name, services in needed(config, env).items():
        ref = config.project.secrets.get(name)
        source = "undeclared" if ref is None else (f"env {ref.env}" if ref.env else f"file {ref.file}")
        try:
            resolve(config, [name], environ=environ)
        except SecretError as exc:
            out.append(SecretStatus(name, source, False, exc.message, services))
            continue
        out.append(SecretStatus(name, source, True, "", services))
    return out


@dataclass(frozen=True, order=True)
class Finding:
    filename: str
    line: int
    type: str
    hashed_secret: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {self.type} (not in {BASELINE})"


def _findings(data: Any, what: str) -> list[tuple[Finding, bool]]:
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ShipyardError(f"{what} is not a detect-secrets baseline (no results mapping)",
                            hint=f"create one with `detect-secrets scan > {BASELINE}`")
    out = []
    for filename, items in data["results"].items():
        for item in items or []:
            finding = Finding(str(filename), int(item.get("line_number", 0)), str(item.get("type")),
                              str(item.get("hashed_secret")))
            out.append((finding, item.get("is_secret") is True))
    return out


def load_baseline(text: str, what: str = BASELINE) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ShipyardError(f"{what} is not valid JSON", hint=f"recreate it with `detect-secrets scan > {what}`") \
            from None
    if not isinstance(data, dict):
        raise ShipyardError(f"{what} is not a detect-secrets baseline")
    _findings(data, what)
    return data


def hook_report(stdout: str) -> list[Finding]:
    """The new findings that `detect-secrets-hook --json` printed (a baseline-shaped report, hashes only).

    detect-secrets decides what is new: a finding is known when its file, type and hashed secret are in the
    baseline (line numbers move).
    """
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        last = stdout.strip().splitlines()[-1] if stdout.strip() else "no report on stdout"
        raise ShipyardError(f"detect-secrets-hook failed: {last}") from None
    return sorted(f for f, _ in _findings(data, "detect-secrets-hook's report"))


def audited_real(baseline: dict[str, Any]) -> list[Finding]:
    """Findings that an audit (`detect-secrets audit`) marked as real secrets: they fail even though known."""
    return sorted(f for f, real in _findings(baseline, BASELINE) if real)

"""Configuration from environment variables only. A missing required variable is one clear error."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED = ("POSTGRES_HOST", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "REDIS_URL")
SECRET_NAMES = ("POSTGRES_PASSWORD", "REDIS_PASSWORD")
SECRET_MARKERS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY")


class ConfigError(Exception):
    """The environment does not describe a runnable service. str() is one line."""


@dataclass(frozen=True)
class Settings:
    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: str = field(repr=False)
    postgres_db: str
    redis_url: str = field(repr=False)
    version: str = "dev"
    host: str = "0.0.0.0"  # a container listens on all its interfaces
    port: int = 8000
    log_level: str = "info"
    shutdown_timeout: float = 20.0
    # Longer than a proxy keeps an idle connection to the app: the proxy, not the app, should close it first
    # (a request the proxy sends as the app closes is never answered). uvicorn's own default is 5 s.
    keep_alive_timeout: float = 75.0
    dependency_timeout: float = 2.0
    startup_wait: float = 30.0

    @property
    def secrets(self) -> list[str]:
        return [self.postgres_password]


def _value(environ: Mapping[str, str], name: str) -> str | None:
    """NAME, or the contents of the file named by NAME_FILE (the official images' convention)."""
    value = environ.get(name)
    if value:
        return value
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip() or None
        except OSError:
            raise ConfigError(f"configuration error: {name}_FILE={file_name} cannot be read") from None
    return None


def _number(environ: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"configuration error: {name}={raw!r} is not a number") from None


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = {name: _value(env, name) for name in REQUIRED}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            f"configuration error: missing required environment variable(s): {', '.join(missing)}"
            " (set them, or NAME_FILE pointing at a file; see .env.example)"
        )
    return Settings(
        postgres_host=values["POSTGRES_HOST"] or "",
        postgres_port=int(_number(env, "POSTGRES_PORT", 5432, int)),
        postgres_user=values["POSTGRES_USER"] or "",
        postgres_password=values["POSTGRES_PASSWORD"] or "",
        postgres_db=values["POSTGRES_DB"] or "",
        redis_url=values["REDIS_URL"] or "",
        version=env.get("APP_VERSION") or "dev",
        host=env.get("HOST") or "0.0.0.0",
        port=int(_number(env, "PORT", 8000, int)),
        log_level=(env.get("LOG_LEVEL") or "info").lower(),
        shutdown_timeout=_number(env, "SHUTDOWN_TIMEOUT", 20.0),
        keep_alive_timeout=_number(env, "KEEP_ALIVE_SECONDS", 75.0),
        dependency_timeout=_number(env, "DEPENDENCY_TIMEOUT", 2.0),
        startup_wait=_number(env, "STARTUP_WAIT", 30.0),
    )


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every value that must never reach a log line: known secrets and anything named like one."""
    env = os.environ if environ is None else environ
    out = []
    for name, value in env.items():
        looks_secret = name in SECRET_NAMES or any(marker in name for marker in SECRET_MARKERS)
        if looks_secret and len(value) >= 4 and not name.endswith("_FILE"):
            out.append(value)
    for name in SECRET_NAMES:
        value = _value(env, name) if f"{name}_FILE" in env else None
        if value and len(value) >= 4:
            out.append(value)
    return sorted(set(out), key=len, reverse=True)

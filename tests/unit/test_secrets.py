"""Secrets resolve from the environment or from files outside the repository; values never leak in repr."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from shipyard.config import parse
from shipyard.config.secrets import resolve
from shipyard.errors import SecretError
from shipyard.run import Redactor

CANARY = "canary-5d1a-very-secret"


def config_with(tmp_path: Path, source: str):  # type: ignore[no-untyped-def]
    text = f"""project: demo
registry: {{address: 127.0.0.1:5000, namespace: demo}}
services: {{api: {{port: 8000, secrets: [TOKEN]}}}}
secrets:
  TOKEN: {source}
"""
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    return parse(text, path=repo / "shipyard.yaml")


def test_from_environment(tmp_path: Path) -> None:
    redactor = Redactor()
    secrets = resolve(config_with(tmp_path, "{env: APP_TOKEN}"), environ={"APP_TOKEN": CANARY}, redactor=redactor)
    token = secrets["TOKEN"]
    assert token.reveal() == CANARY
    assert CANARY not in repr(token) and CANARY not in str(token) and CANARY not in f"{secrets}"
    assert redactor(f"x {CANARY} y") == "x ****** y"
    with pytest.raises(TypeError):
        pickle.dumps(token)


def test_missing_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="environment variable APP_TOKEN is not set"):
        resolve(config_with(tmp_path, "{env: APP_TOKEN}"), environ={}, redactor=Redactor())


def test_from_file_outside_repository(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text(CANARY + "\n")
    secrets = resolve(config_with(tmp_path, f"{{file: {secret_file}}}"), environ={}, redactor=Redactor())
    assert secrets["TOKEN"].reveal() == CANARY


def test_file_inside_repository_refused(tmp_path: Path) -> None:
    config = config_with(tmp_path, "{file: secrets/token}")
    (tmp_path / "repo" / "secrets").mkdir()
    (tmp_path / "repo" / "secrets" / "token").write_text(CANARY)
    with pytest.raises(SecretError, match="inside the repository") as info:
        resolve(config, environ={}, redactor=Redactor())
    assert CANARY not in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="cannot read file"):
        resolve(config_with(tmp_path, f"{{file: {tmp_path}/absent}}"), environ={}, redactor=Redactor())


def test_a_value_too_short_to_mask_is_refused_naming_the_secret_never_the_value() -> None:
    redactor = Redactor()
    with pytest.raises(SecretError) as info:
        redactor.add("zq9", "API_TOKEN")
    assert str(info.value) == ("secret API_TOKEN: its value is shorter than 4 characters, too short to be masked in"
                               " output (next: use a longer value (a random one: openssl rand -hex 16))")
    with pytest.raises(SecretError, match=r"^a secret: its value is shorter than 4 characters"):
        redactor.add("zq9")  # a caller that does not know the name
    assert redactor("zq9 stays") == "zq9 stays"  # nothing was registered
    redactor.add("zq9x")
    assert redactor("zq9x") == "******"

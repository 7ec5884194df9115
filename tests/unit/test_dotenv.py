"""Reading `.env` as Docker Compose reads it (python-dotenv's parser): the table in tests/dotenv_cases.py,
which tests/integration/test_dotenv_compose.py checks against the real Compose."""

from __future__ import annotations

from pathlib import Path

import pytest

from dotenv_cases import CASES, INVALID
from shipyard.targets.compose import compose_values
from shipyard.targets.dotenv import DotenvError, parse_dotenv


@pytest.mark.parametrize(("text", "environ", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_values_as_compose_reads_them(text: str, environ: dict[str, str], expected: dict[str, str]) -> None:
    assert parse_dotenv(text, environ) == expected


@pytest.mark.parametrize(("text", "line"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_an_unreadable_line_is_refused_by_number(text: str, line: int) -> None:
    with pytest.raises(DotenvError) as info:
        parse_dotenv(text, source="/repo/.env")
    assert info.value.message == f"/repo/.env line {line}: not a KEY=VALUE assignment that Compose can read"


def test_the_refusal_never_shows_the_line() -> None:
    with pytest.raises(DotenvError) as info:
        parse_dotenv("PASSWORD=\"canary-never-shown\n")  # pragma: allowlist secret
    assert "canary" not in str(info.value)


def test_compose_values_read_the_projects_env_under_the_environment(tmp_path: Path) -> None:
    assert compose_values(tmp_path, {"A": "env"}) == {"A": "env"}  # no .env
    (tmp_path / ".env").write_text("A=file\nB=${A}\nC='${A}'\n")
    assert compose_values(tmp_path, {"A": "env"}) == {"A": "env", "B": "env", "C": "${A}"}
    (tmp_path / ".env").write_bytes(b"A=caf\xe9\n")
    with pytest.raises(DotenvError, match=r"\.env: not UTF-8 text \(byte 5\)"):
        compose_values(tmp_path, {})

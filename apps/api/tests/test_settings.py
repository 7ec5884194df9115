from pathlib import Path

import pytest

from app import settings

FULL = {"POSTGRES_HOST": "db", "POSTGRES_USER": "app", "POSTGRES_PASSWORD": "pw-1234", "POSTGRES_DB": "items",
        "REDIS_URL": "redis://cache:6379/0"}


def test_missing_variables_are_named_in_one_line() -> None:
    env = {k: v for k, v in FULL.items() if k not in {"POSTGRES_PASSWORD", "REDIS_URL"}}
    with pytest.raises(settings.ConfigError) as exc:
        settings.load(env)
    message = str(exc.value)
    assert "\n" not in message
    assert "POSTGRES_PASSWORD, REDIS_URL" in message
    assert "POSTGRES_HOST" not in message


def test_defaults_and_numbers() -> None:
    config = settings.load({**FULL, "POSTGRES_PORT": "6543", "APP_VERSION": "abc123"})
    assert (config.postgres_port, config.port, config.version) == (6543, 8000, "abc123")
    assert "pw-1234" not in repr(config)
    with pytest.raises(settings.ConfigError, match="PORT='eighty' is not a number"):
        settings.load({**FULL, "PORT": "eighty"})


def test_password_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    env = {k: v for k, v in FULL.items() if k != "POSTGRES_PASSWORD"} | {"POSTGRES_PASSWORD_FILE": str(secret)}
    assert settings.load(env).postgres_password == "from-a-file"
    assert "from-a-file" in settings.secret_values(env)


def test_secret_values_pick_names_that_look_secret() -> None:
    values = settings.secret_values({"POSTGRES_PASSWORD": "p4ssword", "STRIPE_API_KEY": "sk_live_x",
                                     "PATH": "/usr/bin", "SHORT_TOKEN": "abc"})
    assert values == ["sk_live_x", "p4ssword"]


def test_keep_alive_outlasts_the_proxy_s_reuse_of_idle_connections() -> None:
    """uvicorn closes an idle connection after 5 s by default, which races a proxy reusing it."""
    assert settings.load(FULL).keep_alive_timeout == 75.0
    assert settings.load({**FULL, "KEEP_ALIVE_SECONDS": "120"}).keep_alive_timeout == 120.0

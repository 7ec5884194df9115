"""The API against real PostgreSQL and Redis servers: migrations, items, the counter, the probes."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from fastapi.testclient import TestClient

from app import db, settings
from app.main import create_app


@pytest.fixture()
def client(environ: dict[str, str]) -> TestClient:
    with TestClient(create_app()) as test_client:
        yield test_client


def test_health_reports_version_and_uptime(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["version"] == "0123456789ab"
    assert body["uptime_seconds"] >= 0
    assert body["timestamp"].endswith("Z")


def test_ready_and_api_health_when_everything_answers(client: TestClient) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["failed"] == []
    health = client.get("/api/v1/health").json()
    assert health["services"] == {"database": "connected", "redis": "connected"}


def test_items_persist_and_views_count(client: TestClient) -> None:
    created = client.post("/api/v1/items", json={"name": "  first item  "})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "first item"
    assert client.get(f"/api/v1/items/{item['id']}").json()["name"] == "first item"
    first = client.get("/api/v1/items").json()
    second = client.get("/api/v1/items").json()
    assert item["id"] in [i["id"] for i in first["items"]]
    assert second["views"] == first["views"] + 1
    assert client.get("/api/v1/items/999999999").status_code == 404
    assert client.post("/api/v1/items", json={"name": "   "}).status_code == 422


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(client.get("/health").headers["x-request-id"]) == 32


def test_ready_names_the_dependency_that_failed(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # discard port: nothing listens
    monkeypatch.setenv("DEPENDENCY_TIMEOUT", "1")
    with TestClient(create_app()) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["redis"]
        health = client.get("/api/v1/health").json()
        assert health["services"] == {"database": "connected", "redis": "disconnected"}
        assert client.get("/api/v1/items").json()["views"] is None


def test_migrations_are_idempotent(environ: dict[str, str]) -> None:
    config = settings.load()
    asyncio.run(db.wait_and_migrate(config))
    assert asyncio.run(db.wait_and_migrate(config)) == []
    with psycopg.connect(host=config.postgres_host, port=config.postgres_port, user=config.postgres_user,
                         password=config.postgres_password, dbname=config.postgres_db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [path.stem for path in db.migration_files()]


def test_migrate_command_applies_then_reports_up_to_date(environ: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from app.__main__ import main

    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "migrate: schema up to date"


def test_migrate_prints_the_schema_changed_marker_only_when_it_applied_something(
        environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Shipyard's release-command convention: `shipyard: schema-changed` after applying, nothing when up to date."""
    from app.__main__ import SCHEMA_CHANGED, main

    with psycopg.connect(host=environ["POSTGRES_HOST"], port=int(environ["POSTGRES_PORT"]),
                         user=environ["POSTGRES_USER"], password=environ["POSTGRES_PASSWORD"],
                         dbname=environ["POSTGRES_DB"], autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS fresh_schema")
        conn.execute("CREATE DATABASE fresh_schema")
    monkeypatch.setenv("POSTGRES_DB", "fresh_schema")
    capsys.readouterr()
    assert main(["migrate"]) == 0
    applied = ", ".join(path.stem for path in db.migration_files())
    assert capsys.readouterr().out.splitlines() == [f"migrate: applied {applied}", SCHEMA_CHANGED]
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["migrate: schema up to date"] and environ["POSTGRES_PASSWORD"] not in out


def test_unreachable_database_is_a_clear_startup_error(environ: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PORT", "9")
    monkeypatch.setenv("STARTUP_WAIT", "0")
    with pytest.raises(RuntimeError, match=r"database 127\.0\.0\.1:9 unreachable after 0s"), TestClient(create_app()):
        pass

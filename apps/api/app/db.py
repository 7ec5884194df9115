"""PostgreSQL: the connection pool, schema migrations, and the items queries."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.settings import Settings

log = logging.getLogger("app.db")
MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_ID = 0x5348_4950  # pg_advisory lock key: one migrator at a time across replicas


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    created_at: datetime


def pool(settings: Settings) -> AsyncConnectionPool:
    """A closed pool; the password travels as a keyword, never inside a logged connection string."""
    return AsyncConnectionPool(
        conninfo="",
        kwargs={
            "host": settings.postgres_host,
            "port": settings.postgres_port,
            "user": settings.postgres_user,
            "password": settings.postgres_password,
            "dbname": settings.postgres_db,
            "connect_timeout": max(1, int(settings.dependency_timeout)),
            "application_name": "shipyard-api",
        },
        min_size=1,
        max_size=5,
        timeout=settings.dependency_timeout + 3,
        open=False,
    )


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql"))


async def migrate(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    """Apply every migration not yet recorded, in order, in one transaction under an advisory lock."""
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cursor.fetchall()}
        for path in migration_files():
            version = path.stem
            if version in done:
                continue
            await conn.execute(path.read_text(encoding="utf-8").encode())
            await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now


async def wait_and_migrate(settings: Settings) -> list[str]:
    """Connect (retrying while the database starts, up to STARTUP_WAIT seconds) and migrate."""
    deadline = time.monotonic() + settings.startup_wait
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                host=settings.postgres_host, port=settings.postgres_port, user=settings.postgres_user,
                password=settings.postgres_password, dbname=settings.postgres_db,
                connect_timeout=max(1, int(settings.dependency_timeout)),
            ) as conn:
                return await migrate(conn)
        except psycopg.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"database {settings.postgres_host}:{settings.postgres_port} unreachable after "
                    f"{settings.startup_wait:g}s: {str(exc).strip().splitlines()[0] if str(exc) else exc}"
                ) from None
            log.warning("database not reachable yet; retrying", extra={"error": type(exc).__name__})
            await asyncio.sleep(1)


async def ping(pool_: AsyncConnectionPool) -> None:
    async with pool_.connection() as conn:
        await conn.execute("SELECT 1")


async def list_items(pool_: AsyncConnectionPool, limit: int = 100) -> list[Item]:
    async with pool_.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(
            "SELECT id, name, created_at FROM items ORDER BY created_at DESC, id DESC LIMIT %s", (limit,)
        )
        return [Item(**row) for row in await cursor.fetchall()]


async def get_item(pool_: AsyncConnectionPool, item_id: int) -> Item | None:
    async with pool_.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute("SELECT id, name, created_at FROM items WHERE id = %s", (item_id,))
        row = await cursor.fetchone()
        return Item(**row) if row else None


async def create_item(pool_: AsyncConnectionPool, name: str) -> Item:
    async with pool_.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(
            "INSERT INTO items (name) VALUES (%s) RETURNING id, name, created_at", (name,)
        )
        row = await cursor.fetchone()
        assert row is not None
        return Item(**row)

"""The FastAPI application: health and readiness probes and the items resource."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from app import db
from app import settings as settings_module
from app.logs import REDACTOR
from app.meta import SERVICE_NAME
from app.middleware import RequestContext

log = logging.getLogger("app")
VIEWS_KEY = "shipyard:items:views"


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class ItemOut(BaseModel):
    id: int
    name: str
    created_at: datetime


class ItemList(BaseModel):
    items: list[ItemOut]
    views: int | None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def _check(name: str, probe: Awaitable[Any], timeout: float) -> tuple[str, bool]:
    try:
        await asyncio.wait_for(probe, timeout)
        return name, True
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is logged
        log.warning("dependency check failed", extra={"dependency": name, "error": type(exc).__name__})
        return name, False


def create_app(settings: settings_module.Settings | None = None) -> FastAPI:
    config = settings or settings_module.load()
    for value in [*config.secrets, *settings_module.secret_values()]:
        REDACTOR.add(value)
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        applied = await db.wait_and_migrate(config)
        log.info("migrations applied" if applied else "schema up to date", extra={"applied": applied})
        app.state.pool = db.pool(config)
        await app.state.pool.open(wait=False)
        app.state.redis = aioredis.Redis.from_url(
            config.redis_url, socket_timeout=config.dependency_timeout,
            socket_connect_timeout=config.dependency_timeout)
        log.info("serving", extra={"version": config.version, "port": config.port})
        try:
            yield
        finally:
            await app.state.pool.close()
            await app.state.redis.aclose()
            log.info("stopped")

    app = FastAPI(title="Shipyard API", version=config.version, lifespan=lifespan)
    app.add_middleware(RequestContext)

    async def dependencies(request: Request) -> dict[str, bool]:
        timeout = config.dependency_timeout
        results = await asyncio.gather(
            _check("database", db.ping(request.app.state.pool), timeout),
            _check("redis", request.app.state.redis.ping(), timeout),
        )
        return dict(results)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness: the process serves requests. Never touches dependencies."""
        return {"status": "ok", "service": SERVICE_NAME, "version": config.version,
                "uptime_seconds": round(time.monotonic() - started, 3), "timestamp": _now()}

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """Readiness: PostgreSQL and Redis answer; 503 names whichever did not."""
        checks = await dependencies(request)
        failed = [name for name, ok in checks.items() if not ok]
        body = {"status": "unavailable" if failed else "ready", "failed": failed,
                "checks": {name: "ok" if ok else "failed" for name, ok in checks.items()}}
        return JSONResponse(body, status_code=503 if failed else 200)

    @app.get("/api/v1/health")
    async def api_health(request: Request) -> JSONResponse:
        checks = await dependencies(request)
        degraded = not all(checks.values())
        body = {"status": "degraded" if degraded else "ok", "version": config.version,
                "uptime_seconds": round(time.monotonic() - started, 3), "timestamp": _now(),
                "services": {name: "connected" if ok else "disconnected" for name, ok in checks.items()}}
        return JSONResponse(body, status_code=503 if degraded else 200)

    @app.get("/api/v1/items", response_model=ItemList)
    async def list_items(request: Request, limit: int = 100) -> ItemList:
        items = await db.list_items(request.app.state.pool, max(1, min(limit, 500)))
        try:
            views: int | None = int(await request.app.state.redis.incr(VIEWS_KEY))
        except Exception as exc:  # noqa: BLE001 - the counter is a nicety; the list answers without Redis
            log.warning("view counter unavailable", extra={"error": type(exc).__name__})
            views = None
        return ItemList(items=[ItemOut(**vars(item)) for item in items], views=views)

    @app.post("/api/v1/items", response_model=ItemOut, status_code=201)
    async def create_item(request: Request, body: ItemIn) -> ItemOut:
        item = await db.create_item(request.app.state.pool, body.name)
        log.info("item created", extra={"item_id": item.id})
        return ItemOut(**vars(item))

    @app.get("/api/v1/items/{item_id}", response_model=ItemOut)
    async def get_item(request: Request, item_id: int) -> ItemOut:
        item = await db.get_item(request.app.state.pool, item_id)
        if item is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return ItemOut(**vars(item))

    return app

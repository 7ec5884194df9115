"""Run the API under uvicorn: JSON logs, graceful shutdown on SIGTERM, optional reload for development."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn

from app import logs
from app.settings import Settings

APP_DIR = Path(__file__).parent


def serve(settings: Settings, *, app: str = "app.main:create_app", reload: bool = False) -> None:
    """Blocks until SIGTERM/SIGINT. In-flight requests finish (up to SHUTDOWN_TIMEOUT seconds)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "factory": True,
        "log_config": logs.config(settings.log_level),
        "access_log": False,
        "proxy_headers": True,
        "server_header": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "timeout_keep_alive": settings.keep_alive_timeout,
    }
    if reload:
        options.update(reload=True, reload_dirs=[str(APP_DIR)], reload_includes=["*.py", "*.sql"])
    uvicorn.run(app, **options)

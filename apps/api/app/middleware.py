"""A pure ASGI middleware: a request id per request (X-Request-ID in and out) and one access log line."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from app.logs import REQUEST_ID

log = logging.getLogger("app.access")
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
QUIET_PATHS = {"/health", "/ready"}


class RequestContext:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if VALID_ID.match(incoming) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            level = logging.DEBUG if path in QUIET_PATHS and status < 400 else logging.INFO
            log.log(level, "%s %s %d", scope.get("method"), path, status, extra={
                "method": scope.get("method"), "path": path, "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            })
            REQUEST_ID.reset(token)

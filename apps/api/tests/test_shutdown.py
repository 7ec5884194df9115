"""SIGTERM lets in-flight requests finish, through the same serve() the image runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import free_port, wait_port

SLOW_APP = '''
import asyncio
from fastapi import FastAPI

def create_app():
    app = FastAPI()

    @app.get("/slow")
    async def slow():
        await asyncio.sleep(2)
        return {"done": True}

    return app
'''


def test_sigterm_waits_for_in_flight_requests(tmp_path: Path) -> None:
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{Path(__file__).parents[1]}",
           "POSTGRES_HOST": "unused", "POSTGRES_USER": "u", "POSTGRES_PASSWORD": "unused-pw", "POSTGRES_DB": "d",
           "REDIS_URL": "redis://unused", "PORT": str(port), "HOST": "127.0.0.1"}
    code = "from app.server import serve; from app.settings import load; serve(load(), app='slowapp:create_app')"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        wait_port(port)
        result: dict[str, object] = {}

        def call() -> None:
            response = httpx.get(f"http://127.0.0.1:{port}/slow", timeout=10)
            result["status"], result["body"] = response.status_code, response.json()

        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(0.7)  # the request is now in flight
        proc.send_signal(signal.SIGTERM)
        worker.join(timeout=10)
        assert result == {"status": 200, "body": {"done": True}}
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read() if proc.stdout else ""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("Shutting down" in entry["msg"] for entry in lines), output
    assert all(set(entry) >= {"ts", "level", "msg"} for entry in lines)

import json
import logging

from app import logs


def record(msg: str, **extra: object) -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "t", "levelno": logging.INFO, "levelname": "INFO", "msg": msg})
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_json_line_with_request_id_and_extras() -> None:
    token = logs.REQUEST_ID.set("req-42")
    try:
        line = logs.JsonFormatter().format(record("hello %s", path="/x"))
    finally:
        logs.REQUEST_ID.reset(token)
    entry = json.loads(line)
    assert entry["msg"] == "hello %s" or entry["msg"].startswith("hello")
    assert entry["request_id"] == "req-42"
    assert entry["path"] == "/x"
    assert entry["level"] == "info"


def test_secret_values_and_url_passwords_are_masked() -> None:
    logs.REDACTOR.add("canary-5ecret-value")
    line = logs.JsonFormatter().format(
        record("connect redis://:hunter2@cache:6379/0 with canary-5ecret-value", dsn="postgresql://u:pw9@db/x"))
    assert "canary-5ecret-value" not in line
    assert "hunter2" not in line and "pw9" not in line
    assert "redis://:******@cache" in line

"""What Rota's processes may log: never patient information (issue 19, item 5).

Rota's own loggers (`rota.*`) log ids, counts and exception class names, never names or
message text. Some libraries log what passes through them once a deployer turns the root
logger up to DEBUG (or INFO): SQLAlchemy every statement with its parameters (patient names,
phone numbers), slack_sdk and Bolt the request and response bodies (Slack text names patients),
HTTP clients and servers the URLs with their query strings (`?q=<a name>`), Twilio its
requests. `protect_logs()` pins those loggers to WARNING, whatever the root level, so only
their failures are heard; every door that starts a process calls it (the HTTP app, the command
line, the worker). The engine itself never echoes and hides SQL parameters even from exception
messages (clinic.db.make_engine: `hide_parameters=True`).

tests/security/test_log_scan.py runs the end-to-end flows with the root logger at DEBUG and
scans every line with the redactor and the roster.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from traceback import extract_tb
from typing import Any

from clinic.errors import InvalidInput

QUIET = (
    "sqlalchemy.engine",  # statements and their parameters
    "sqlalchemy.pool",
    "slack_bolt",  # request bodies (a bad signature, an unhandled request)
    "slack_sdk",  # Web API request and response bodies (Block Kit text)
    "aiohttp",
    "httpx",  # URLs with query strings (FHIR searches)
    "httpcore",
    "urllib3",
    "requests",
    "twilio",  # its requests, at INFO
    "uvicorn.access",  # paths with query strings
    "multipart",  # form fields as they are parsed (Slack commands, web forms)
    "python_multipart",
)
"""Library loggers that would carry request or query contents at DEBUG or INFO."""


def protect_logs() -> None:
    """Pin every library logger that could log patient information to WARNING."""
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


LOG_FORMAT_ENV = "ROTA_LOG_FORMAT"
LOG_FORMATS = ("text", "json")


def log_format(env: Mapping[str, str] | None = None) -> str:
    """`text` (the default: Python's own handling) or `json` (one object a line on stderr)."""
    raw = (os.environ if env is None else env).get(LOG_FORMAT_ENV, "").strip().lower() or "text"
    if raw not in LOG_FORMATS:
        raise InvalidInput(f"{LOG_FORMAT_ENV} must be text or json, not {raw!r}")
    return raw


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message and a record's `rota` fields. An
    exception is its class and where it was raised, never its message (its words may name a
    patient: the policy above)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "rota", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, trace = record.exc_info
            line["error"] = kind.__name__
            line["where"] = [f"{f.filename}:{f.lineno} {f.name}" for f in extract_tb(trace)]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logs(env: Mapping[str, str] | None = None) -> None:
    """With ROTA_LOG_FORMAT=json: every log line JSON (the root logger's handlers get the JSON
    format; stderr when it has none), Rota's own at INFO (one line per request on
    rota.requests), libraries' at WARNING as before. Idempotent: apps are built many times in
    one process. The HTTP app gives Litestar's logging configuration the same formatter."""
    if log_format(env) != "json":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        if not isinstance(handler.formatter, JsonLines):
            handler.setFormatter(JsonLines())
    ours = logging.getLogger("rota")
    if ours.level == logging.NOTSET or ours.level > logging.INFO:
        ours.setLevel(logging.INFO)
    protect_logs()

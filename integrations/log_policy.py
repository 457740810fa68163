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

import logging

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

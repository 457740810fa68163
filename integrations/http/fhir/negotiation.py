"""JSON only: `_format` and `Accept` must allow FHIR JSON (or plain JSON), else 406."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler

FORMATS = frozenset({"json", "application/json", "application/fhir+json", "application/json+fhir"})
"""`_format` values the facade answers (FHIR R4 §3.1.0.1.10: json and the JSON mime types)."""
ACCEPTED = frozenset({"*/*", "application/*", *FORMATS - {"json"}})


class NotAcceptable(HTTPException):
    status_code = 406


def _media_types(header: str) -> list[str]:
    return [part.split(";", 1)[0].strip().lower() for part in header.split(",") if part.strip()]


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard on every FHIR route: XML, Turtle or anything but JSON is refused with 406."""
    wanted = connection.query_params.getall("_format", [])
    for value in wanted:
        if value.strip().lower() not in FORMATS:
            raise NotAcceptable(
                f"_format={value!r} is not served: this server speaks FHIR JSON only "
                "(_format=json or application/fhir+json)"
            )
    accept = connection.headers.get("accept")
    if accept and not wanted and not set(_media_types(accept)) & ACCEPTED:
        raise NotAcceptable(
            f"Accept: {accept} is not served: this server answers application/fhir+json "
            "(or application/json) only"
        )

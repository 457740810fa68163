"""The shapes of the doors' text fields as the OpenAPI document declares them: dates, date-times,
facility-local times of day, weeks. Declared only: the use cases still read and check each value
(a bad one is a 422 problem naming the field), so the document and the server say the same."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar.params import KwargDefinition, Parameter, QueryParameter

from clinic.errors import InvalidInput
from clinic.timeutil import parse_datetime

LOCAL = "; without an offset, facility-local time"
# RFC 3339 date-time, but seconds and offset optional (parse_datetime reads all of these).
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
WEEK_PATTERN = r"^[0-9]{4}-(W(0[1-9]|[1-4][0-9]|5[0-3])|[0-9]{2}-[0-9]{2})$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def described(description: str | None = None, **schema: Any) -> KwargDefinition:
    """A field's schema (format, pattern, enum, ge/le ...) and description, for `Annotated`."""
    return KwargDefinition(description=description, **schema)


DATETIME = "RFC 3339 date-time (seconds optional)" + LOCAL
DateTime = Annotated[str, described(DATETIME, format="date-time", pattern=DATETIME_PATTERN)]
# Row ids: positive and JSON-safe (2^53 - 1); a larger one is a 400, not an overflow deep inside.
RowId = Annotated[int, Parameter(ge=1, le=2**53 - 1)]


def datetime_query(name: str, description: str) -> Any:
    """An optional date-time query parameter (Litestar refuses one off the pattern with 400)."""
    return QueryParameter(
        name=name,
        default=None,
        format="date-time",
        pattern=DATETIME_PATTERN,
        description=f"{description}; {DATETIME}",
    )


def read_datetime(text: str, tz: ZoneInfo, name: str) -> datetime:
    """A body's date-time as the document declares it (DATETIME_PATTERN), aware UTC."""
    if not re.match(DATETIME_PATTERN, text):
        problem = f"$.{name}: {text!r} is not a date-time such as 2026-12-01T09:00"
        raise InvalidInput(f"the request has a problem: {problem}", [problem])
    return parse_datetime(text, tz)


Day = Annotated[str, described("A date, YYYY-MM-DD", format="date")]
OptionalDay = Annotated[str | None, described("A date, YYYY-MM-DD", format="date")]
TimeOfDay = Annotated[str, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)]
OptionalTimeOfDay = Annotated[
    str | None, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)
]

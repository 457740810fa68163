"""The shapes of the doors' text fields as the OpenAPI document declares them: date-times,
dates, facility-local times of day, weeks, row ids. The use cases still read and check each
value (a bad one is a 422 problem naming the field); where Litestar can check a pattern (a
query parameter) it refuses a value off it with 400. Either way the document and the server
agree on what is well formed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar.params import KwargDefinition, Parameter, QueryParameter

from clinic.errors import InvalidInput
from clinic.timeutil import parse_datetime

_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_HH_MM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_TIME = f"T{_HH_MM}(:[0-5][0-9]([.][0-9]{{1,6}})?)?"
_OFFSET = f"(Z|[+-]{_HH_MM})"
# What parse_datetime is sent by a door: RFC 3339, seconds and offset optional.
DATETIME_PATTERN = f"^{_DAY}{_TIME}{_OFFSET}?$"
# A period's bound may also be a bare date (its midnight).
WHEN_PATTERN = f"^{_DAY}({_TIME}{_OFFSET}?)?$"
HHMM_PATTERN = f"^{_HH_MM}$"
WEEK_PATTERN = f"^([1-9][0-9]{{3}}-W(0[1-9]|[1-4][0-9]|5[0-3])|{_DAY})$"
# Free text that must say something (a reason, a message): not empty, not only spaces.
SAID_PATTERN = r"\S"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PATTERN_WORDS = {
    DATETIME_PATTERN: "a date-time such as 2026-12-01T14:00 (facility time) or with an offset",
    WHEN_PATTERN: "a date such as 2026-12-01 or a date-time such as 2026-12-01T14:00",
    HHMM_PATTERN: "a time of day such as 14:00",
    WEEK_PATTERN: "a week such as 2026-W49, or any date in it such as 2026-11-30",
    SAID_PATTERN: "some words (it may not be empty)",
}
"""What each pattern asks for, in words: a 400 says this, not the regular expression."""

_RFC3339 = {"type": "string", "format": "date-time"}
_SHORT = {
    "type": "string",
    "pattern": DATETIME_PATTERN,
    "description": "Seconds optional; without an offset, facility-local time",
}
_DATE = {"type": "string", "format": "date"}
DATETIME = "A date-time: RFC 3339, or without offset (facility-local time, seconds optional)"


def described(description: str | None = None, **schema: Any) -> KwargDefinition:
    """A field's schema (format, pattern, enum, ge/le, schema_extra ...) and description, for
    `Annotated[type, described(...)]` in a request body's dataclass."""
    return KwargDefinition(description=description, **schema)


DateTime = Annotated[
    str, described(DATETIME, pattern=DATETIME_PATTERN, schema_extra={"anyOf": [_RFC3339, _SHORT]})
]
Day = Annotated[str, described("A date, YYYY-MM-DD", format="date")]
OptionalDay = Annotated[str | None, described("A date, YYYY-MM-DD", format="date")]
TimeOfDay = Annotated[str, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)]
OptionalTimeOfDay = Annotated[
    str | None, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)
]
# Row ids: positive and JSON-safe (2^53 - 1); a larger one is a 400, not an overflow deep inside.
RowId = Annotated[int, Parameter(ge=1, le=2**53 - 1)]


def when_query(name: str, description: str) -> Any:
    """An optional query parameter holding a date-time or a date (e.g. a period's `from`);
    Litestar refuses one off WHEN_PATTERN with 400."""
    return QueryParameter(
        name=name,
        default=None,
        pattern=WHEN_PATTERN,
        schema_extra={"anyOf": [_RFC3339, _SHORT, _DATE]},
        description=f"{description}. {DATETIME}, or a date (its midnight)",
    )


def date_query(name: str, description: str) -> Any:
    """An optional date query parameter (YYYY-MM-DD)."""
    return QueryParameter(name=name, default=None, format="date", description=description)


def read_datetime(text: str, tz: ZoneInfo, name: str) -> datetime:
    """A body's date-time as the document declares it (DATETIME_PATTERN), as aware UTC."""
    if not re.match(DATETIME_PATTERN, text):
        problem = f"$.{name}: {text!r} is not a date-time such as 2026-12-01T09:00"
        raise InvalidInput(f"the request has a problem: {problem}", [problem])
    return parse_datetime(text, tz)

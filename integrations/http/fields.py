"""The shapes of the doors' text fields as the OpenAPI document declares them: dates, date-times,
facility-local times of day, weeks. Declared only: the use cases still read and check each value
(a bad one is a 422 problem naming the field), so the document and the server say the same."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import KwargDefinition

LOCAL = "; without an offset, facility-local time"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
WEEK_PATTERN = r"^[0-9]{4}-(W(0[1-9]|[1-4][0-9]|5[0-3])|[0-9]{2}-[0-9]{2})$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def described(description: str | None = None, **schema: Any) -> KwargDefinition:
    """A field's schema (format, pattern, enum, ge/le ...) and description, for `Annotated`."""
    return KwargDefinition(description=description, **schema)


DateTime = Annotated[str, described("RFC 3339 date-time" + LOCAL, format="date-time")]
OptionalDateTime = Annotated[
    str | None, described("RFC 3339 date-time" + LOCAL, format="date-time")
]
Day = Annotated[str, described("A date, YYYY-MM-DD", format="date")]
OptionalDay = Annotated[str | None, described("A date, YYYY-MM-DD", format="date")]
TimeOfDay = Annotated[str, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)]
OptionalTimeOfDay = Annotated[
    str | None, described("Facility-local time of day, HH:MM", pattern=HHMM_PATTERN)
]

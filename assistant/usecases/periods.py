"""A period as the facility file writes one (`{"start", "end", "reason"}`: a room's closure, a
staff member's absence), read from what a door was sent, with each problem at its path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from clinic.errors import InvalidInput
from clinic.timeutil import parse_datetime

_KEYS = {"start", "end", "reason"}


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime | None
    reason: str | None


def read_period(
    record: Any, tz: ZoneInfo, *, need_end: bool = True, also: frozenset[str] = frozenset()
) -> Period:
    """The period in `record` (times facility-local unless they carry an offset); `also`: other
    keys the door accepts beside it. Raises InvalidInput listing every problem."""
    if not isinstance(record, dict):
        raise InvalidInput("the period has 1 problem(s)", ["$: expected an object"])
    problems = [f"$.{key}: unknown field" for key in record if key not in _KEYS | also]
    times: dict[str, datetime | None] = {"start": None, "end": None}
    for key in times:
        text = record.get(key)
        if text is None:
            if key == "start" or need_end:
                problems.append(f"$.{key}: required")
            continue
        try:
            times[key] = parse_datetime(str(text), tz)
        except InvalidInput as exc:
            problems.append(f"$.{key}: {exc}")
    start, end = times["start"], times["end"]
    if start is not None and end is not None and end <= start:
        problems.append("$.end: must be after $.start")
    reason = record.get("reason")
    if reason is not None and not isinstance(reason, str):
        problems.append("$.reason: expected a string")
    if problems or start is None:
        raise InvalidInput(f"the period has {len(problems)} problem(s)", problems)
    return Period(start, end, reason)

"""Recognisers for the waitlist: "put Jamie on the waitlist for a Tuesday morning with Dana",
"who is on the waitlist".

The request-frame contract has no intent for these, so the frame keeps the intent the contract
gives (`unknown`) and says what was asked in the added field `action` (`waitlist_add`,
`waitlist_list`). With `waitlist_add`, the added field `waitlist` holds the wish the words gave,
read from the frame's own window: the weekday(s) and time of day it covers, as a standing
preference ("a Tuesday morning": Tuesdays, 08:00-12:00), or the dates of a longer period. The
patient, the clinician and the session type are the frame's own fields.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistant.parse import lexicon as lx

ADD, LIST = "waitlist_add", "waitlist_list"
ACTIONS = (ADD, LIST)

_LIST_WORD = r"wait(?:ing)?[-\s]?list"
_ADD = re.compile(
    rf"\b(?:put|add|place|get|keep)\s+(?P<who>.+?)\s+(?:on|onto|to|in)\s+(?:the\s+|our\s+)?"
    rf"{_LIST_WORD}\b",
    re.I,
)
_LIST = re.compile(
    rf"\b(?:who(?:'s|\s+is|\s+are|\s+have\s+we|\s+do\s+we\s+have)?\s+(?:still\s+)?"
    rf"(?:on|in)\s+(?:the\s+|our\s+)?{_LIST_WORD}"
    rf"|(?:show|list|see)\s+(?:me\s+)?(?:the\s+|our\s+)?{_LIST_WORD}"
    rf"|^\W*(?:the\s+)?{_LIST_WORD}\W*$)",
    re.I,
)
_TAKEN_OVER = ("unknown", "find_slot", "book", "schedule_lookup", "cancel", "reschedule")
CONFIDENT = 0.9
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def recognise(text: str, frame: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The frame with `action` (and, to add, `waitlist`) set when the message is about the
    waitlist; unchanged otherwise (another recogniser's request, or none)."""
    frame.setdefault("action", None)
    if frame["action"] or frame["intent"] not in _TAKEN_OVER:
        return frame
    if _ADD.search(text) and not lx.is_question(text):
        frame["action"] = ADD
        frame["waitlist"] = wish(frame.get("window"), text, tz)
        frame["window"] = None  # a standing wish, not a time to book now
    elif _LIST.search(text):
        frame["action"] = LIST
    else:
        return frame
    frame["intent"] = "unknown"
    frame["confidence"] = max(frame["confidence"], CONFIDENT)
    return frame


def wish(window: dict[str, str] | None, text: str, tz: ZoneInfo) -> dict[str, Any]:
    """{days, time_from, time_until, earliest, latest}: the weekdays the words name ("on
    Tuesdays and Thursdays", "a Tuesday morning") are a standing wish; the window gives the
    time of day when it lies within one day (unless it is the whole day), and the dates
    otherwise (or that one date when no weekday is named: "tomorrow morning")."""
    days = [d for d, pattern in _WEEKDAYS if pattern.search(text)]
    out: dict[str, Any] = {
        "days": days,
        "time_from": None,
        "time_until": None,
        "earliest": None,
        "latest": None,
    }
    if not window:
        return out
    start = datetime.fromisoformat(window["start"]).astimezone(tz)
    end = datetime.fromisoformat(window["end"]).astimezone(tz)
    last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
    if last == start.date():
        if timedelta(0) < end - start < timedelta(days=1):
            out["time_from"] = f"{start:%H:%M}"
            out["time_until"] = "24:00" if end.date() > start.date() else f"{end:%H:%M}"
        if not days:
            out["earliest"] = out["latest"] = start.date().isoformat()
    elif not days:
        out["earliest"], out["latest"] = start.date().isoformat(), last.isoformat()
    return out


_WEEKDAYS = [
    (day, re.compile(rf"\b{stem}(?:day)?s?\b", re.I))
    for day, stem in zip(
        _DAYS,
        ("mon", "tue(?:s)?", "wed(?:nes)?", "thu(?:rs?)?", "fri", "sat(?:ur)?", "sun"),
        strict=True,
    )
]

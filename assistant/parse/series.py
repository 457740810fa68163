"""Recogniser for recurring series: "book Jamie with Dana every Tuesday at 2 pm for 8 weeks",
"weekly on thursdays at 10 until Jan 31", "cancel all of Jamie's Tuesday sessions with Dana",
"cancel this and following", "just this one".

The contract's intents stay (book, cancel, reschedule); two added fields say the rest:
`repeat` {every: "week", weekday, time, count, until} — the weekly pattern asked for, or the
series named by its weekday ("Jamie's Tuesday sessions") — and `scope` (this | following |
all) for a change to a series. Both are added only when the message says so, so every other
frame keeps its shape. The parser calls `recognise` once its frame is built (the patient,
staff and window are its own; a named time of day is read from the window).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.parse import lexicon as lx
from assistant.parse import times
from clinic.timeutil import day_bounds

_WD = {
    "monday": "mon", "mon": "mon",
    "tuesday": "tue", "tues": "tue", "tue": "tue",
    "wednesday": "wed", "weds": "wed", "wed": "wed",
    "thursday": "thu", "thurs": "thu", "thur": "thu", "thu": "thu",
    "friday": "fri", "fri": "fri",
    "saturday": "sat", "sat": "sat",
    "sunday": "sun", "sun": "sun",
}  # fmt: skip
_DAY = r"(?P<day>" + "|".join(sorted(_WD, key=len, reverse=True)) + r")"
# "every Tuesday", "each tuesday", "weekly on thursdays", "on thursdays", "tuesdays weekly".
_EVERY = re.compile(
    rf"\b(?:every|each)\s+(?:week\s+on\s+)?{_DAY}s?\b"
    rf"|\bweekly\s+(?:on\s+)?{_DAY.replace('day>', 'day2>')}s?\b"
    r"|\b(?:on\s+)?(?P<day3>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s\b"
    rf"|\b{_DAY.replace('day>', 'day4>')}s?\s+weekly\b"
)
_WEEKLY = re.compile(r"\b(?:weekly|every\s+week|each\s+week|once\s+a\s+week)\b")
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "sixteen": 16, "twenty": 20,
}  # fmt: skip
_N = r"(?P<n>\d{1,3}|" + "|".join(_NUMBERS) + r")"
_COUNT = re.compile(
    rf"\bfor\s+(?:the\s+next\s+)?{_N}\s+(?:more\s+)?(?:weeks?|sessions?|times)\b"
    rf"|\b{_N.replace('n>', 'n2>')}\s+(?:weekly\s+)?(?:sessions|times|weeks|occurrences)\b"
)
_UNTIL = re.compile(r"\b(?:until|till|til|through|thru|up\s+to|ending)\s+(?P<rest>.+)$")
_FOLLOWING = re.compile(
    r"\b(?:this|that|it)\s+and\s+(?:all\s+)?(?:the\s+)?(?:following|after|later)(?:\s+ones?)?\b"
    r"|\b(?:and\s+)?(?:all|every(?:thing|\s+one)?)\s+(?:the\s+)?(?:following|after(?:\s+it|\s+that)?)\b"
    r"|\bfrom\s+(?:then|there|that\s+(?:day|one|date)|.{1,20}?)\s+on(?:wards?)?\b"
    r"|\band\s+(?:the\s+)?rest\b|\bonwards?\b"
)
_ALL = re.compile(
    r"\b(?:the\s+)?(?:whole|entire)\s+series\b|\bevery\s+session\b|\bthe\s+series\b"
    r"|\ball\s+(?:the\s+)?remaining\b"
)
# "all of Jamie's Tuesday sessions": every session, of a series named by its weekday (or
# called weekly, recurring); "all of Jamie's sessions today" is no series.
_ALL_OF = re.compile(
    r"\ball\s+(?:of\s+)?(?:the\s+)?(?:[\w']+\s+){0,3}(?:sessions|appointments|occurrences)\b"
)
_SERIES_WORDS = re.compile(r"\b(?:weekly|recurring|series|standing)\b")
_THIS = re.compile(
    r"\b(?:just|only)\s+(?:this|that|the\s+one\s+on|one)\b|\bthis\s+occurrence\b"
    r"|\bthis\s+one\s+only\b|\bonly\s+(?:the\s+)?(?:session\s+)?on\b"
)
_JUST = re.compile(r"\b(?:just|only)\b")
_SESSIONS_ON_DAY = re.compile(rf"\b{_DAY}s?\s+(?:sessions?|appointments?|series)\b")
CONFIDENT = 0.9
"""A frame that has recognised a series needs no model to understand it."""
_BOOKING = ("book", "find_slot", "unknown", "schedule_lookup")
_CHANGING = ("cancel", "reschedule")


def recognise(text: str, frame: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The fields to add (`repeat`, `scope`, and the intent when it changes), or None when the
    message is about no series. `text` is lowercase; `now` facility-local."""
    intent = frame["intent"]
    if intent in _CHANGING:
        return _change(text, frame, now)
    if intent not in _BOOKING:
        return None
    window = frame.get("window")
    at_a_time = bool(window) and window["start"] == window["end"]
    if intent != "book" and (
        not (frame.get("patient") or frame.get("session_type") or at_a_time) or lx.is_question(text)
    ):
        return None  # "ugh mondays", "weekly numbers for the board?": no one is booked
    every = _EVERY.search(text)
    weekly = _WEEKLY.search(text)
    if not every and not weekly:
        return None
    day = None
    if every:
        day = next(_WD[g] for g in every.groups() if g)
    repeat: dict[str, Any] = {
        "every": "week",
        "weekday": day,
        "time": None,
        "count": None,
        "until": None,
    }
    until = _UNTIL.search(text)
    if until:
        facts = times.extract(until.group("rest"), now)
        if facts.day is not None:
            repeat["until"] = facts.day.isoformat()
        else:
            repeat["until"] = "?"  # said, but not a day: the dialogue asks
    if window:
        start = datetime.fromisoformat(window["start"])
        if window["start"] == window["end"]:  # "at 2 pm": an exact time
            repeat["time"] = f"{start:%H:%M}"
        if day is None and not until:  # "weekly from Tuesday": the window's day
            day = repeat["weekday"] = _code(start)
    count = _COUNT.search(text)
    if count:
        raw = count.group("n") or count.group("n2")
        repeat["count"] = int(raw) if raw.isdigit() else _NUMBERS[raw]
    confidence = max(frame["confidence"], CONFIDENT)
    return {"intent": "book", "repeat": repeat, "scope": None, "confidence": confidence}


def _change(text: str, frame: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """A cancellation or move of a series: its scope, the weekday naming it, and the day of
    the occurrence it starts from when a date is said beside the weekday ("Jamie's Tuesday
    session on Jan 5 and all following": the window is 5 Jan, not the next Tuesday)."""
    scope = None
    if _FOLLOWING.search(text):
        scope = "following"
    elif _THIS.search(text):
        scope = "this"
    named = _SESSIONS_ON_DAY.search(text) or _EVERY.search(text)
    if scope is None and (
        _ALL.search(text) or (_ALL_OF.search(text) and (named or _SERIES_WORDS.search(text)))
    ):
        scope = "all"
    said = None
    if named is not None:  # a date said beside the weekday is the occurrence meant
        blank = text[: named.start()] + " " * (named.end() - named.start()) + text[named.end() :]
        said = times.extract(blank, now).day
        if scope is None and (said is not None or _JUST.search(text)):
            scope = "this"  # "Jamie's Tuesday session on Dec 15", "just Jamie's Tuesday session"
    if scope is None:
        return None
    day = next((_WD[g] for g in named.groups() if g), None) if named else None
    repeat = (
        {"every": "week", "weekday": day, "time": None, "count": None, "until": None}
        if day
        else None
    )
    found: dict[str, Any] = {}
    if said is not None and scope != "all" and frame["intent"] == "cancel":
        tz = now.tzinfo  # (a move's window is the new time: the occurrence is the next one)
        assert isinstance(tz, ZoneInfo)
        first, last = (t.astimezone(tz).isoformat() for t in day_bounds(said, tz))
        found["window"] = {"start": first, "end": last}
    return found | {
        "repeat": repeat,
        "scope": scope,
        "confidence": max(frame["confidence"], CONFIDENT),
    }


def _code(moment: datetime) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[moment.weekday()]

"""Attendance said in words: "Jamie checked in", "mark my 2pm a no-show", "Jamie attended",
"Jamie cancelled late for today's group", "Jamie is running 15 minutes late", "my 3:30 is running
20 minutes over", "all my sessions today were attended except Jamie's", "what hasn't been marked
today?".

These are outside the request-frame contract's intents, so the contract's fields keep their
meaning (`intent` is "unknown", or "cancel" for a late cancellation, which is one) and the frame
gains fields of its own (the contract allows more properties):
- `action`: check_in | attended | no_show | late_cancel | running_late | running_over | unmarked
- `day`: the local day (YYYY-MM-DD): today, or yesterday when said
- `at`: "HH:MM" when a session is named by its time ("my 2pm")
- `minutes`: how late, or how far over
- `bulk`: the caller's whole day ("all my sessions ... except ...")
- `except_patients`: the patients a bulk mark leaves out; `except_action`: what they get instead
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from assistant.parse import lexicon as lx

ACTIONS = (
    "check_in",
    "attended",
    "no_show",
    "late_cancel",
    "running_late",
    "running_over",
    "unmarked",
)
"""The frame's `action` values this module sets (the dialogue routes them to attendance)."""

_MARK = re.compile(r"\bmark(?:ed)?\b")
_NO_SHOW = re.compile(
    r"\b(?:no[\s-]?show(?:ed|s)?|didn'?t\s+(?:show|come|turn\s+up|make\s+it)"
    r"|did\s+not\s+(?:show|come|turn\s+up|make\s+it)|never\s+(?:showed|came)|ns|nsd|ns'd|ncns|nc/ns"
    r"|missed\s+(?:group|(?:his|her|their|the|today'?s)\s+(?:session|appt|appointment|group|\d+\w*)))\b"
    r"(?!\s*(?:rate|rates|%|percent|numbers|trend))"
)
_LATE_CANCEL = re.compile(
    r"\b(?:cancel+ed\s+late|late[\s-]cancel+(?:ed|ation|led)?|late\s+cancel"
    r"|cancel+ed\s+(?:at\s+the\s+last\s+minute|last[\s-]minute|on\s+short\s+notice)"
    r"|last[\s-]minute\s+cancel+(?:ation|ed)?|late\s+(?:cxl|cx|canx)(?:'?d)?|lc"
    r"|last[\s-]minute\s+(?:to\s+)?(?:cancel+|cxl))\b"
)
_CHECK_IN = re.compile(
    r"\b(?:checked[\s-]?in|check(?:ing)?[\s-]in|check\s+(?:\w+\s+){1,2}in|chk(?:d|ed)?[\s-]?in"
    r"|has\s+arrived|just\s+arrived|arrived|is\s+here|are\s+here|here\s+(?:for|to\s+see)"
    r"|in\s+(?:the\s+)?(?:lobby|waiting\s+room))\b"
    r"|'s\s+(?:here|in\s+the\s+(?:lobby|waiting\s+room))\b"
)
_ATTENDED = re.compile(
    r"\b(?:attended|(?:was|were)\s+seen|came\s+in|showed\s+up|(?<!to\s)present"
    # "showed", "made it" alone or before a session, never "showed me", "made it through detox"
    r"|(?:showed|made\s+it)(?=\s*(?:$|[,.!;)]|in\b|today|yesterday|for\b|to\s+(?:group|the\s+"
    r"group|(?:his|her|their|the)\s+(?:session|appt|appointment|\d|group))))"
    r"|(?:was|were)\s+(?:all\s+)?there)\b"
)
_RUNNING_OVER = re.compile(
    r"\b(?:running|run|going|went|ran|is\s+running)\s+(?:\w+\s+){0,3}?(?:over|long)\b"
    r"|\bover(?:ran|running|run)\b"
)
_RUNNING_LATE = re.compile(
    r"\b(?:running|is|are|'s|will\s+be|be|gonna\s+be)\s+(?:\w+\s+){0,3}?(?:late|behind)\b"
)
# "I'm 25 min late for my 11": the sender is late (an absence), not the session at 11.
_LATE_FOR_MINE = re.compile(r"\b(?:late|behind)\s+(?:for|to)\s+my\s+\d")
_UNMARKED = re.compile(
    r"\bunmarked\b|\bnot\s+(?:yet\s+)?(?:been\s+)?(?:marked|recorded|checked\s+off)\b"
    r"|\b(?:hasn'?t|has\s+not|haven'?t|have\s+not|isn'?t|aren'?t|wasn'?t|weren'?t|still)"
    r"\s+(?:yet\s+)?(?:been\s+)?(?:marked|recorded|checked\s+off)\b"
    r"|\bneeds?\s+(?:attendance\s+)?(?:marked|marking|to\s+be\s+marked)\b"
)
_BULK = re.compile(
    r"\b(?:all\s+(?:of\s+)?(?:my|the|today'?s)\s+(?:sessions|appointments|patients|clients)"
    r"|all\s+(?:sessions|appointments)|every\s+(?:session|appointment)|every(?:one|body))\b"
)
_EXCEPT = re.compile(r"\b(?:except(?:\s+for)?|but(?:\s+not)?|apart\s+from|other\s+than|besides)\b")
_MY_TIME = re.compile(
    r"\bmy\s+(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>am|pm|a\.m\.|p\.m\.|a|p)?(?![\w:])"
    r"|\bmy\s+(?P<noon>noon)\b"
)
_THEIR_TIME = re.compile(
    r"\b(?:his|her|their)\s+(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a|p)?|noon)(?![\w:])"
)
_BARE_MINUTES = re.compile(r"\b(?P<n>\d{1,2})\s+(?:over|late|behind|long)\b")
_MINUTES = re.compile(r"\b(?P<n>\d{1,3})\s*(?:-\s*)?(?:min(?:ute)?s?|m)\b|\b(?P<h>an?)\s+hour\b")
_YESTERDAY = re.compile(r"\byesterday\b")
# A tally, not a mark: "attended 3 of 4 groups this week", "has 3 no-shows this month".
_TALLY = re.compile(
    r"\b\d+\s+of\s+(?:\d+|the|her|his|their)\b|\b\d+\s+(?:no[\s-]?shows|absences|groups|sessions"
    r"|times)\b|\b(?:this|last|per)\s+(?:week|month|year)\b|\bso\s+far\b"
)
_ASKS_FOR_SESSION = re.compile(
    r"\b(?:re-?book|re-?schedule|readmit|re-?admit"
    r"|(?:can|could|will)\s+(?:someone|somebody|anyone|any\s+\w+|(?:you|u|we)\s+(?:please\s+)?"
    r"(?:see|rebook|move|slide|push|do\s+(?:his|her|their|the)|get\s+(?:him|her|them)\s+in)))\b"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY = re.compile(
    r"\b(?:on\s+|last\s+)?(?P<wd>mon|tue|wed|thu|fri|sat|sun)(?:day|s|sday|nesday|rsday|urday)?\b"
)
_SLASH_DATE = re.compile(r"(?<![\d/])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/])")

# A find_slot frame that asks for a slot ("find a check-in slot") rather than naming a session.
_ASKS_FOR_SLOT = re.compile(
    r"\b(?:find|slots?|openings?|open|availab\w*|free|any|need|looking|book|schedule|when)\b"
)
# Intents whose words an attendance message can be mistaken for; a request to book, move, find,
# admit or report keeps its own meaning.
_MISTAKABLE = frozenset(
    {"unknown", "schedule_lookup", "decline", "confirm", "cancel", "utilization_summary"}
)


def recognise(
    low: str,
    frame: dict[str, Any],
    *,
    now: datetime,
    actor: str | None,
    late: int | None = None,
) -> dict[str, Any] | None:
    """The frame's attendance fields (with the contract's `intent`), or None for other messages."""
    intent = frame["intent"]
    patient = frame.get("patient")
    my_time = _MY_TIME.search(low)
    action = _action(low, intent, patient, my_time is not None)
    if action is None or (action != "unmarked" and lx.is_question(low)):
        return None  # "did Jamie no-show?" asks; only "what is unmarked?" is asked by asking
    if action != "unmarked" and _TALLY.search(low):
        return None  # "Jamie has 3 no-shows this month" reports, it marks nothing
    if action != "unmarked" and _ASKS_FOR_SESSION.search(low):
        # "showed up in crisis, can someone see her now", "no-showed, rebook for next week":
        # the request is the new session (what every development writer labels), not the mark
        return None
    day = _day(low, now.date(), action)
    out: dict[str, Any] = {
        "intent": "cancel" if action == "late_cancel" else "unknown",
        "action": action,
        "day": day.isoformat(),
        "metric": None,
        "window": None,
    }
    if my_time is not None:
        out["at"] = _clock(my_time)
        if actor:
            out["staff"] = {"text": my_time.group(0)[:2], "id": actor}
    if action in ("running_late", "running_over"):
        out["minutes"] = late if late is not None else _minutes(low)
    bulk = _BULK.search(low)
    if bulk and action in ("attended", "no_show", "check_in"):
        out["bulk"] = True
        if actor and "my" in bulk.group(0):
            out["staff"] = {"text": "my", "id": actor}
        cut = _EXCEPT.search(low, bulk.end())
        if cut and patient:
            out["except_patients"], out["patient"] = [patient], None
            tail = low[cut.end() :]
            if action != "no_show" and _NO_SHOW.search(tail):
                out["except_action"] = "no_show"
            elif _LATE_CANCEL.search(tail):
                out["except_action"] = "late_cancel"
    return out


def _action(low: str, intent: str, patient: Any, my_time: bool) -> str | None:
    if intent == "find_slot" and not _ASKS_FOR_SLOT.search(low):
        intent = "unknown"  # "group is running 10 min over": a session type, nothing to find
    if intent not in _MISTAKABLE and intent != "staff_unavailable":
        return None
    # "his 10", "her 2pm": a session meant, whose is asked (it is not the caller's)
    named = bool(patient) or my_time or bool(_THEIR_TIME.search(low))
    if _UNMARKED.search(low) and intent != "cancel":
        return "unmarked"
    if intent == "staff_unavailable":
        # "I'm running late" is the clinician; "Jamie is running late" or "my 2pm is running
        # late" is a session.
        if not (patient or my_time) or _RUNNING_LATE.search(low) is None:
            return None
        if not patient and _LATE_FOR_MINE.search(low):
            return None
        mine, late = _MY_TIME.search(low), _RUNNING_LATE.search(low)
        if not patient and mine and late.start() < mine.start():
            return None  # "running 45 min late, can someone tell my 8am": the sender is late
        return "running_late"
    bulk_cut = _bulk_except(low)
    if bulk_cut is not None:
        # "all my sessions attended but Kara late cancelled": the day's mark is before "but"
        if not patient:
            return None  # the exception is not understood: marking everyone would be wrong
        head = low[:bulk_cut]
        for action, pattern in (("attended", _ATTENDED), ("check_in", _CHECK_IN)):
            if pattern.search(head):
                return action
        return "no_show" if _NO_SHOW.search(head) else None
    if _LATE_CANCEL.search(low):
        return "late_cancel" if named else None
    if _RUNNING_OVER.search(low) and (named or re.search(r"\b(?:session|group)\b", low)):
        return "running_over"
    if _RUNNING_LATE.search(low) and named:
        return "running_late"
    bulk = _BULK.search(low) is not None
    if not (named or bulk or _MARK.search(low)):
        return None
    if _NO_SHOW.search(low) and not (bulk and _EXCEPT.search(low)):
        return "no_show"
    if _ATTENDED.search(low):
        return "attended"
    if _CHECK_IN.search(low):
        return "check_in"
    if _NO_SHOW.search(low):
        return "no_show"
    return None


def _day(low: str, today: date, action: str) -> date:
    """The day a mark is for: today, yesterday, or a day named. A weekday is the last one, today
    included (attendance is about what happened), but the next one for a late cancellation
    (called off shortly before); arrivals and delays are today's; "11/30" is that day."""
    if action in ("check_in", "running_late", "running_over"):
        return today
    if _YESTERDAY.search(low):
        return today - timedelta(days=1)
    slash = _SLASH_DATE.search(low)
    if slash:
        try:
            named = date(today.year, int(slash.group("m")), int(slash.group("d")))
        except ValueError:
            return today
        return named if named <= today else named.replace(year=today.year - 1)
    weekday = _WEEKDAY.search(low)
    if weekday:
        wanted = _WEEKDAYS.index(weekday.group("wd"))
        if action == "late_cancel" and not weekday.group(0).startswith("last"):
            return today + timedelta(days=(wanted - today.weekday()) % 7)
        back = (today.weekday() - wanted) % 7
        if back == 0 and weekday.group(0).startswith("last"):
            back = 7
        return today - timedelta(days=back)
    return today


def _bulk_except(low: str) -> int | None:
    """Where the exceptions of a whole-day mark start ("all ... except"), if it is one."""
    bulk = _BULK.search(low)
    cut = _EXCEPT.search(low, bulk.end()) if bulk else None
    return cut.start() if cut else None


def _clock(m: re.Match[str]) -> str:
    if m.group("noon"):
        return "12:00"
    hour, minute = int(m.group("h")), int(m.group("m") or 0)
    ap = (m.group("ap") or "").replace(".", "")
    if ap.startswith("p") and hour < 12:
        hour += 12
    elif ap.startswith("a") and hour == 12:
        hour = 0
    elif not ap and 1 <= hour < 7:
        hour += 12  # "my 2" in a clinic's day is 14:00
    return f"{hour:02d}:{minute:02d}"


def _minutes(low: str) -> int | None:
    m = _MINUTES.search(low)
    if m is None:
        bare = _BARE_MINUTES.search(low)  # "gonna run 15 over", "10 behind"
        return int(bare.group("n")) if bare else None
    return 60 if m.group("h") else int(m.group("n"))

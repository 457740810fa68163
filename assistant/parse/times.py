"""Time expressions → a window, following the request-frame contract's x-time-conventions.

Two steps: `extract` finds the pieces (a day, a part of the day, a clock time, "after 3",
"next week", "running 20 min late"...) and records the characters it used; `resolve` turns the
pieces into [start, end) in the facility's timezone. Wall-clock times are built with zoneinfo and
normalised through UTC, so DST days are 23 or 25 hours long and "now + 4 hours" is real time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from clinic.timeutil import PARTS_OF_DAY

_PART_WORDS = {
    "morning": "morning",
    "mornings": "morning",
    "am": "morning",
    "afternoon": "afternoon",
    "afternoons": "afternoon",
    "aft": "afternoon",
    "arvo": "afternoon",
    "pm": "afternoon",
    "evening": "evening",
    "evenings": "evening",
    "eve": "evening",
    "tonight": "evening",
    "tonite": "evening",
    "night": "evening",
    "first thing": "morning",
}
_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WD = (
    "monday|mon|tuesday|tues|tue|wednesday|weds|wed|thursday|thurs|thur|thu"
    "|friday|fri|saturday|sat|sunday|sun"
)
_MON = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_TOMORROW = r"tomorrow|tmrw|tmrow|tmw|tmr|tomorow|tommorow|tommorrow|tomoro|2morrow|2moro"


_HOUR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty-five": 45, "forty five": 45}
_HW = "|".join(sorted(_HOUR_WORDS, key=len, reverse=True))


def _t(n: int) -> str:
    """A clock time with numbered groups: noon, 2, 2pm, 2:30, 14:00, 2 p.m., "three thirty"."""
    return (
        rf"(?:(?P<noon{n}>noon|midday|midnight)"
        rf"|(?:(?P<h{n}>[01]?\d|2[0-3])|(?P<hw{n}>{_HW})\b)"
        rf"(?::(?P<m{n}>[0-5]\d)|\s+(?P<mw{n}>thirty|fifteen|forty[-\s]five)\b(?!-?\s*min))?"
        rf"(?:\s?(?P<ap{n}>[ap])\.?m\b\.?|(?P<apx{n}>[ap])\b|\s?(?P<oc{n}>o'?clock)\b)?)"
    )


_NOT_AFTER_RANGE = (
    r"(?![\d/]|\s*(?:sessions?|times|days?|weeks?|hours?|hrs?|min|mins|minutes"
    r"|patients|people|pts|spots|slots|x)\b)"
)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
           "fourteen": 14, "thirty": 30, "few": 3, "couple": 2, "couple of": 2}  # fmt: skip
_UNIT_MIN = r"(?:min(?:ute)?s?|m)\b"
_UNIT_HOUR = r"(?:hours?|hrs?|h)\b"

# "running about thirty minutes late": minutes in words
_LATE_MINUTES = {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25,
                 "thirty": 30, "forty": 40, "forty five": 45}  # fmt: skip
_LATE_WORDS = r"twenty[-\s]five|forty[-\s]five|five|ten|fifteen|twenty|thirty|forty"

_P = {
    "late": re.compile(
        rf"\b(?:(?:running|gonna\s+be|going\s+to\s+be|be|i'?m|im|am)\s+)?(?:about\s+|like\s+|~\s*|around\s+|maybe\s+)?"
        rf"(?P<n>\d+|{_LATE_WORDS})\s*-?\s*(?:{_UNIT_MIN})?\s*(?:late|behind)\b"
        rf"|\blate\s+by\s+(?P<n2>\d+)\s*{_UNIT_MIN}"
        # "running late, ~10", "running behind 20 min", "running late, 15ish"
        rf"|\b(?:late|behind)[\s,]+(?:by\s+)?(?:about\s+|like\s+|~\s*|around\s+|maybe\s+)?"
        rf"(?P<n3>\d+)\s*(?:ish\b|{_UNIT_MIN}|(?=\s*(?:$|[,.!?;])))"
        r"|\b(?P<hour>an|one|1|a\s+half|half\s+an)\s+(?:hour|hr)\s+(?:late|behind)\b"
    ),
    "late_bare": re.compile(
        r"\b(?:running|gonna\s+be|going\s+to\s+be|be|i'?m|im)\s+(?:in\s+)?(?:a\s+(?:bit|little)\s+)?late\b"
    ),
    "in": re.compile(
        rf"\bin\s+(?:~\s*|about\s+)?(?P<n>\d+)\s*(?P<u>{_UNIT_MIN}|{_UNIT_HOUR})"
        # "be there in 25": minutes
        r"|\b(?:be\s+)?(?:there|here|in)\s+in\s+(?:~\s*|about\s+)?(?P<n2>\d+)(?![\d:]|\s*[ap]\.?m\b)"
        r"|\b(?:in|within|for)\s+the\s+next\s+(?P<hr>hour|couple\s+(?:of\s+)?hours|few\s+hours|\d+\s+(?:hours?|hrs?))\b"
        # "within the hour", "within 2 hrs": from now until then
        r"|\bwithin\s+(?:the\s+|an\s+|a\s+)?(?P<hr2>hour|couple\s+(?:of\s+)?hours|few\s+hours|\d+\s+(?:hours?|hrs?))\b"
        # "in the next 3 days", "for the next two weeks", "within 30 days": from now for so long
        r"|\b(?:(?:in|within|for|over)\s+)?(?:the\s+)?(?:next|coming|following)\s+(?P<dn>\d+|"
        + "|".join(_COUNTS)
        + r")\s+(?P<du>days?|weeks?|wks?)\b"
        r"|\bwithin\s+(?P<dn2>\d+|" + "|".join(_COUNTS) + r")\s+(?P<du2>days?|weeks?|wks?)\b"
    ),
    "now": re.compile(
        r"\b(?:right\s+now|right\s+away|asap|a\.s\.a\.p\.?|immediately|as\s+soon\s+as\s+possible"
        r"|stat|now|rn|urgently)\b"
    ),
    "range_between": re.compile(rf"\bbetween\s+{_t(1)}\s*(?:and|&|-|–)\s*{_t(2)}"),
    "range_from": re.compile(
        rf"\bfrom\s+{_t(1)}\s*(?:to|till|til|until|thru|through|-|–)\s*{_t(2)}"
    ),
    "range_bare": re.compile(rf"(?<![\d/:.-])\b{_t(1)}\s*(?:-|–|to)\s*{_t(2)}{_NOT_AFTER_RANGE}"),
    "leave": re.compile(
        r"\b(?:leaving|leave|head(?:ing)?\s+(?:out|home)|going\s+home|out|gone|off|done|taking\s+off"
        r"|clocking\s+out|cutting\s+out|bailing)(?:\s+early)?(?:\s+(?:today|tonight|tonite))?"
        rf"(?:\s+(?:at|after|from|around|by)|,?\s+(?:like|~|around|about))\s+~?{_t(1)}"
    ),
    "after": re.compile(
        rf"\b(?:after|past|later\s+than|starting(?:\s+at)?|from|any\s*time\s+after|no\s+earlier\s+than)\s+{_t(1)}"
    ),
    "before": re.compile(
        # "before we close at 5": the close is the end
        r"\b(?:before\s+(?:we|they|everyone|everybody|everything)\s+(?:close|closes|leave|go)"
        r"(?:\s+(?:at|@))?|before|by|until|till|til|no\s+later\s+than|earlier\s+than|up\s+to)\s+"
        # "til at least 2", "won't be back until after 2": still the end
        rf"(?:(?<=l\s)(?:at\s+least|after|about|around)\s+)?{_t(1)}"
    ),
    # "back at 3", "back around 4": an absence's end
    "back": re.compile(rf"\bback\s+(?:at|around|about|~)\s*~?\s*{_t(1)}"),
    "at": re.compile(rf"(?:\b(?:at|around|about|say)|@)\s*~?\s*{_t(1)}"),
    "clock": re.compile(rf"(?<![\d/:.-])\b{_t(1)}(?![\d/])"),
    "weekend": re.compile(r"\b(?P<q>this|next|the)\s+weekend\b"),
    "period": re.compile(
        r"\b(?P<q>this|next|last|past|previous|prev|coming|the\s+following)\s+(?P<u>week|wk|month|mo)\b"
    ),
    # "rest of the week" is this week's [now, next Monday); "for november" the whole month
    # (the nearest such month: a report for "january" said in December is the coming one).
    # "before lunch": up to noon; "by end of day": up to midnight; "rest of today": from now
    "before_lunch": re.compile(r"\bbefore\s+lunch(?:time)?\b"),
    "end_of_day": re.compile(
        r"\b(?:by|before|until|til|till)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:day|today)|eod)\b"
    ),
    "rest_of_day": re.compile(r"\b(?:the\s+)?rest\s+of\s+(?:the\s+day|today)\b"),
    "rest_of_week": re.compile(
        r"\b(?:the\s+)?(?:rest|remainder)\s+of\s+(?:the\s+|this\s+)?(?:week|wk)\b"
    ),
    "month_alone": re.compile(
        r"\b(?:for|in|during|of|since|thru|through)\s+(?P<mon>january|february|march|april|june"
        r"|july|august|september|october|november|december|jan|feb|apr|aug|sept?|oct|nov|dec)\b"
        r"(?![\s.]*\d)"
    ),
    # "the end of the month", "end of next week": the period's end (for "before"/"thru" it)
    "end_of": re.compile(
        r"\b(?:the\s+)?end\s+of\s+(?:the\s+)?(?P<q>this\s+|next\s+)?(?P<u>month|mo|week|wk)\b"
    ),
    "this_or_next": re.compile(
        r"\bthis\s+(?:week|wk)\s+or\s+(?:the\s+)?next(?:\s+(?:week|wk|one))?\b"
    ),
    "month_bare": re.compile(
        # "the dec court report", "grp rm a usage dec", "march utilization by clinician"
        r"(?:\b(?:the|,)\s*|^|\s(?=[a-z]{3,4}\.?\s*$))(?P<mon>jan|feb|mar|apr|aug|sept?|oct|nov|dec)\b"
        r"\.?(?![\s.]*\d)"
        r"|\b(?P<full>january|february|april|june|july|august|september|october|november|december"
        r"|march(?=\s+(?:utilization|usage|numbers|attendance|report|census|no[-\s]?shows?)))"
        r"\b(?![\s.]*\d)"
    ),
    "whole_month": re.compile(r"\b(?:the\s+)?(?:whole|entire|full)\s+month\b(?!\s+of\b)"),
    # "on leave starting monday for 6 weeks", "starts leave monday, 2 weeks": how long from the day
    "lasting": re.compile(
        r"(?:\bfor|,)\s+(?P<n>\d+|two|three|four|five|six|seven|eight|ten|twelve)\s+(?P<u>weeks?|wks?|days)\b"
    ),
    # "the past 30 days", "last 2 weeks": up to now (most writers count back from now)
    "days_back": re.compile(
        r"\b(?:last|past|previous)\s+(?P<n>\d+|two|three|four|thirty)\s+(?P<u>days|weeks|wks)\b"
    ),
    # "numbers for Q4": the nearest such quarter
    "quarter": re.compile(r"\bq(?P<q>[1-4])\b"),
    # "thurs and fri next week", "mon-wed next week": every weekday of the list is next week's
    "wd_next_week": re.compile(
        rf"\b(?:on\s+)?(?:(?P<wd0>{_WD})\.?\s*(?:and|&|\+|/|-|–|to|thru|through)\s*)?"
        rf"(?P<wd>{_WD})\.?\s+(?:of\s+)?next\s+(?:week|wk)\b"
    ),
    "day": re.compile(
        rf"\b(?P<d>today|tonight|tonite|yesterday|same[-\s]day|day\s+after\s+(?:{_TOMORROW})"
        rf"|{_TOMORROW})\b"
        r"(?:\s+(?P<ap>[ap])\.?m\b\.?|\s+(?P<night>night|nite)\b(?:'s)?)?"
    ),
    "weekday": re.compile(
        rf"\b(?:(?P<q>this|next|last|coming|on|past)\s+)?(?P<wd>{_WD})\b\.?(?:\s+(?P<ap>[ap])\.?m\b\.?)?"
    ),
    # "jan 18-22": two days of one month
    "date_name_span": re.compile(
        rf"\b(?P<mon>{_MON})\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s*(?:-|–|to|thru|through)\s*"
        r"(?P<d2>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b(?!\s*(?:[ap]\.?m\b|:|pm|am))"
    ),
    "date_name": re.compile(
        rf"\b(?P<mon>{_MON})\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?"
    ),
    "date_name_rev": re.compile(
        rf"\b(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MON})\b\.?(?:,?\s+(?P<y>\d{{4}}))?"
    ),
    # "the 24th", "on the 9th": a day of this month, or of next month once it has passed
    "date_ordinal": re.compile(
        r"(?<![\d/])\b(?:the\s+)?(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)\b"
        r"(?!\s*(?:of\s+)?(?:time|visit|session|appt|appointment|week|month|day|floor|group"
        r"|one|option|slot|choice|shift|class|dose|try|attempt|check|opening)s?\b)"
    ),
    "holiday": re.compile(
        r"\b(?P<h>(?:christmas|xmas|x-mas)\s+eve|new\s+year'?s'?\s+eve|nye"
        r"|(?:christmas|xmas|x-mas)(?:\s+day)?|new\s+year'?s'?(?:\s+day)?"
        r"|thanksgiving)\b"
    ),
    "date_iso": re.compile(r"\b(?P<y>\d{4})-(?P<mon>\d{2})-(?P<d>\d{2})\b"),
    "date_num": re.compile(
        r"(?<![\d/])\b(?P<mon>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?:/(?P<y>\d{4}|\d{2}))?\b(?![\d/])"
    ),
    "part": re.compile(
        r"\b(?P<p>mornings?|afternoons?|aft|arvo|evenings?|eve|tonight|tonite|first\s+thing"
        r"|(?<=this\s)[ap]m)\b"
    ),
    # "can his 9 be 11?", "asking for 3 instead": on a move, the new time
    "instead_clock": re.compile(rf"\b(?:be|for|do|try)\s+{_t(1)}(?=\s+instead\b|\s*\?)"),
    # "move her to 3", "push Tyler to 3 tomorrow": on a move, the new time
    "to_clock": re.compile(
        rf"\b(?:up\s+)?to\s+(?:at\s+)?{_t(1)}{_NOT_AFTER_RANGE}(?!\s*(?:'s|w/))"
    ),
}


@dataclass
class TimeFacts:
    """What the message said about time; `spans` are the characters used."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    day: date | None = None
    today_implied: bool = False  # "this morning", "tonight"
    to_part: bool = False  # "move it to the afternoon": on a move, the new part of the day
    rest_of_day: bool = False  # "the rest of today": from now
    later: bool = False  # "later this afternoon": from now when now is already in that part
    part: str | None = None
    exact: tuple[int, int] | None = None
    after: tuple[int, int] | None = None
    before: tuple[int, int] | None = None
    range: tuple[tuple[int, int], tuple[int, int]] | None = None
    range_to: bool = False  # "10am to 11:30": for a move, the second time is the new one
    leave: tuple[int, int] | None = None
    back: tuple[int, int] | None = None  # "back at 3": when an absence ends
    period: tuple[datetime, datetime] | None = None
    weekday_next_week: int | None = None
    days: tuple[date, date] | None = None  # "thursday and friday", "today-tomorrow": whole days
    to_day: date | None = None  # "from thursday to friday": for a move, the new day
    to_clock: tuple[int, int] | None = None  # "move her to 3": for a move, the new time
    # "cancel my 4": the time of a session meant, and its characters
    session_clock: tuple[tuple[int, int], tuple[int, int]] | None = None
    session_explicit: bool = False  # "my 4pm", not "my 4"
    until: datetime | None = None  # "before xmas", "thru the end of the month"
    until_at: int = 0
    period_at: int = 0
    to_period: bool = False
    within: timedelta | None = None  # "in the next hour"
    lasting: timedelta | None = None  # "out from the 21st for six weeks": an absence's length
    now: bool = False
    going_home: bool = False  # "heading home now"
    late: int | None = None
    late_bare: bool = False
    in_delta: timedelta | None = None
    unresolved: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.spans)


def _clock(m: re.Match[str], n: int, part: str | None = None) -> tuple[int, int]:
    noon = m.group(f"noon{n}")
    if noon:
        return (0, 0) if noon == "midnight" else (12, 0)
    digits, words = m.group(f"h{n}"), m.group(f"hw{n}")
    h = int(digits) if digits else _HOUR_WORDS[words]
    minute = int(m.group(f"m{n}") or 0)
    if m.group(f"mw{n}"):
        minute = _MINUTE_WORDS[" ".join(m.group(f"mw{n}").replace("-", " ").split())]
    ap = m.group(f"ap{n}") or m.group(f"apx{n}")
    if ap == "p" and h < 12:
        h += 12
    elif ap == "a" and h == 12:
        h = 0
    elif (
        ap is None
        and h < 12
        # "friday morning, out until 1": one to five o'clock is never a clinic's night
        and (part in ("afternoon", "evening") or (part is None and 1 <= h <= 7) or 1 <= h <= 5)
    ):
        h += 12
    return h, minute


def _explicit(m: re.Match[str], n: int) -> bool:
    """A bare number is a clock time only with am/pm, minutes or noon."""
    return bool(
        m.group(f"noon{n}")
        or m.group(f"m{n}")
        or m.group(f"mw{n}")
        or m.group(f"ap{n}")
        or m.group(f"apx{n}")
        or m.group(f"oc{n}")
    )


_GOING_HOME = re.compile(r"\b(?:heading|going|gone|leaving|head|go|went)\s+(?:home|out)\b\s*$")

# After an hour in words with nothing to mark it a time ("at three", "to two"), the words that
# keep it one; "about two weeks", "at one point", "to one of them" are not times.
_AFTER_WORD_HOUR = re.compile(
    rf"\s*(?:$|[,.!?;:)]|(?:today|tonight|tonite|{_TOMORROW}|on|with|w/|for|in\s+the|this|next"
    rf"|instead|if|so|and|or|then|same|works|is|please|pls|thanks|{_WD})\b)"
)


def _word_hour_ok(m: re.Match[str], n: int, text: str) -> bool:
    """A clock time written in words counts when marked (am/pm, o'clock, "thirty") or when it
    follows "at"/"to"/"after"... and is followed by words that keep it a time."""
    if m.group(f"hw{n}") is None or _explicit(m, n):
        return True
    return bool(_AFTER_WORD_HOUR.match(text, m.end()))


# A bare hour right after a day ("fri 10", "tomorrow 2") or after "my"/"his"/"her" ("cancel my
# 4", "her 11 today"), when the words after it keep it a time, not a count ("tomorrow 2 groups").
_HOUR_END = (
    rf"(?:\s*(?:$|[,.!?;:)])|\s+(?:today|tonight|tonite|{_TOMORROW}|with|w/|on|at|in|for|and|or"
    rf"|then|instead|works|is|was|ok|okay|please|pls|appt|appointment|session|slot|group|intake"
    rf"|1:1|start|meeting|mtg|{_WD})(?!\w))"
)
_DAY_HOUR = re.compile(
    rf"\b(?:{_WD}|today|{_TOMORROW})\.?\s+(?P<h>1[0-2]|[1-9])(?::(?P<m>[0-5]\d))?(?={_HOUR_END})"
)
# "cancel my 4", "move his 9am", "today's 10": the time of a session its owner names (a bare
# hour only when the words after it keep it a time).
_SESSION_TIME = re.compile(
    r"(?:\b(?:my|his|her|their|your)\s+|(?<=today's\s)|(?<=todays\s)|(?<=tmrw's\s)"
    rf"|(?<=tomorrow's\s))(?:(?:{_WD})\.?\s+)?{_t(1)}"
    # "cover my 10 and 1 o'clock": the others of a list are sessions too
    r"(?:\s*(?:,|and|&|\+)\s*(?:[01]?\d)(?::[0-5]\d)?(?:\s*[ap]\.?m\b|\s*o'?clock)?(?![\w/]))*"
)
# "move her to friday, same time": the session's own time on the new day
_SAME_TIME = re.compile(r"\bsame\s+time\b")


def _bare_hour(m: re.Match[str], part: str | None) -> tuple[int, int]:
    h, minute = int(m.group("h")), int(m.group("m") or 0)
    if h < 12 and (part in ("afternoon", "evening") or (part is None and 1 <= h <= 7)):
        h += 12
    return h, minute


# Times that say when something happened, not when it is wanted: "using since friday", "OD'd
# saturday", "last night", "two days ago", "right now, not tomorrow". A request for what comes
# (an emergency intake) never has its window there.
_PAST_MENTION = re.compile(
    rf"\bsince\s+(?:(?:last|this\s+past)\s+)?(?:{_WD}|yesterday|last\s+\w+|this\s+morning)\b"
    rf"|\byesterday(?:\s+(?:morning|afternoon|evening|night))?\b"
    rf"|\blast\s+(?:night|nite|week|weekend|month|{_WD})\b"
    r"|\b(?:over\s+the|this\s+past|past)\s+weekend\b"
    r"|\b(?:\d+|a|one|two|three|four|few|couple(?:\s+of)?)\s+(?:days?|weeks?|nights?|months?)\s+ago\b"
    rf"|\bnot\s+(?:today|tonight|{_TOMORROW}|{_WD})\b"
    r"|\b(?:od'?d|o\.d\.'?d|overdosed|relapsed|used|drank|stopped|started|quit|discharged|released"
    rf"|arrested|got\s+out|came\s+in)\s+(?:on\s+)?(?:{_WD}|{_TOMORROW})\b"
    # "ER discharged her this morning", "released this am", "the walk-in from this morning"
    r"|\b(?:discharged|released|let\s+(?:him|her|them)\s+go|issued|dropped\s+off|arrived|from"
    r"|od'?d|overdosed)(?:\s+\w+){0,2}?\s+this\s+(?:morning|am)\b"
)


# "monday instead of friday", "the 17th rather than the 10th": the time replaced is not the one
# asked for (the words after it, up to two besides an article, are read and set aside).
_REPLACED = re.compile(
    r"\b(?:instead\s+of|rather\s+than|in\s+place\s+of)(?:\s+(?:the|his|her|their|my|a|an))?"
    r"(?:\s+[\w'/:.-]+){1,2}"
    # "next friday 1pm (was thurs)", "(not 3pm)", ", was monday": the old value, set aside
    r"|\(\s*(?:was|not|orig(?:inally)?|prev(?:iously)?|formerly)\b[^)]*\)?"
    # "tuesday at 2. not 2:30, 2", "scratch that, 2 not 1": the time ruled out
    r"|\bnot\s+(?:at\s+)?\d{1,2}(?::[0-5]\d)?(?:\s*[ap]\.?m\b)?(?![\d/:])"
    r"|(?<=[,;]\s)(?:was|originally|previously)\s+(?:on\s+)?(?:the\s+)?[\w'/:.-]+(?:\s+(?:at\s+)?\d[\w:]*)?"
)


# "who's working today? it's saturday": the day it is, said in passing, is not the day asked.
_SAYS_TODAY = re.compile(
    rf"\bit'?s\s+(?:a\s+)?(?:{_WD})\b(?!\s+(?:at|morning|afternoon|evening|\d))"
)


# "walk in at 4:45", "came back at 3am", "1am walk in", "dropped off a veteran at 3": when someone
# arrived, not when they are to be seen (read so only when that time is past or just ahead)
_ARRIVED_AT = re.compile(
    r"\b(?:walk(?:ed)?[-\s]?ins?|came\s+(?:in|back)|arrived|showed\s+up|dropped\s+(?:off\s+)?"
    r"(?:\w+\s+){0,2}?(?:off\s+)?)\s*(?:at|around|@)\s+(?:almost\s+|about\s+)?"
    r"(?P<h>[01]?\d|2[0-3])(?::(?P<m>[0-5]\d))?\s*(?P<ap>[ap])?\.?m?\b"
    r"|(?<![\d:])(?P<h2>1[0-2]|[1-9])(?::(?P<m2>[0-5]\d))?\s*(?P<ap2>[ap])\.?m\.?\s+walk[-\s]?in"
)


_BARE_WEEKDAY = re.compile(rf"(?<!this\s)(?<!next\s)(?<!last\s)\b(?P<wd>{_WD})\b")


def past_spans(text: str, now: datetime | None = None) -> list[tuple[int, int]]:
    """The spans of lowercase `text` that date something past (see _PAST_MENTION, _ARRIVED_AT)."""
    spans = [m.span() for m in _PAST_MENTION.finditer(text)]
    if now is not None:
        spans += [m.span() for m in _ARRIVED_AT.finditer(text) if _arrived(m, now)]
        # "sunday walk in", "walk-in saturday" said on that day: the day it is, not the next one
        spans += [
            m.span()
            for m in _BARE_WEEKDAY.finditer(text)
            if _WEEKDAYS[m.group("wd")] == now.weekday()
        ]
    return spans


def _arrived(m: re.Match[str], now: datetime) -> bool:
    h = int(m.group("h") or m.group("h2"))
    minute = int(m.group("m") or m.group("m2") or 0)
    ap = m.group("ap") or m.group("ap2")
    if ap == "p" and h < 12:
        h += 12
    elif ap == "a" and h == 12:
        h = 0
    readings = [h]
    if not ap and h <= 7:  # a bare hour: the afternoon's (the rule), or at night the small hours'
        readings = [h + 12, h] if now.hour < 8 else [h + 12]
    here = now.hour * 60 + now.minute
    # within the last 12 hours or the next 30 minutes (across midnight too)
    return any((here - (r * 60 + minute)) % 1440 <= 720 or (r * 60 + minute - here) % 1440 <= 30
               for r in readings)  # fmt: skip


class _Cursor:
    """Runs patterns over lowercase text, never reusing a character."""

    def __init__(self, text: str, taken: list[tuple[int, int]]) -> None:
        self.text = text
        self.taken = list(taken)
        self.used: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in self.taken)

    def take(self, a: int, b: int) -> None:
        self.taken.append((a, b))
        self.used.append((a, b))

    def find(self, name: str) -> list[re.Match[str]]:
        return free_matches(_P[name], self.text, self.free)


def free_matches(
    pattern: re.Pattern[str], text: str, free: Callable[[int, int], bool]
) -> list[re.Match[str]]:
    """Non-overlapping matches that avoid used characters. A match that overlaps one is retried
    a character later, so "tomorrow afternoon" still yields "afternoon" once "tomorrow" is used."""
    out: list[re.Match[str]] = []
    pos = 0
    while pos <= len(text):
        m = pattern.search(text, pos)
        if m is None:
            break
        if m.end() > m.start() and free(m.start(), m.end()):
            out.append(m)
            pos = m.end()
        else:
            pos = m.start() + 1
    return out


def _local(day: date, hm: tuple[int, int], tz: ZoneInfo) -> datetime:
    naive = datetime(day.year, day.month, day.day, hm[0], hm[1], tzinfo=tz)
    return naive.astimezone(UTC).astimezone(tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return _local(day, (0, 0), tz)


def _nearest_year(month: int, day: int, today: date) -> date | None:
    best: date | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            cand = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((cand - today).days) < abs((best - today).days):
            best = cand
    return best


def _weekday(q: str | None, wd: int, today: date) -> date:
    if q == "this":
        return today - timedelta(days=today.weekday()) + timedelta(days=wd)
    if q in ("last", "past"):
        delta = (today.weekday() - wd) % 7 or 7
        return today - timedelta(days=delta)
    delta = (wd - today.weekday()) % 7 or 7
    return today + timedelta(days=delta)


def extract(text: str, now: datetime, taken: list[tuple[int, int]] | None = None) -> TimeFacts:
    """Find the time pieces in lowercase `text`; `now` is facility-local."""
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    today = now.date()
    facts = TimeFacts()
    cur = _Cursor(text, taken or [])
    for pattern in (_REPLACED, _SAYS_TODAY):
        for m in pattern.finditer(text):
            if cur.free(*m.span()):
                cur.take(*m.span())

    for m in cur.find("late"):
        hour = m.group("hour")
        if hour:
            facts.late = 30 if "half" in hour else 60
        else:
            raw = m.group("n") or m.group("n2") or m.group("n3")
            words = " ".join(raw.replace("-", " ").split())
            facts.late = int(raw) if raw.isdigit() else _LATE_MINUTES[words]
        cur.take(m.start(), m.end())
    for m in cur.find("late_bare"):
        facts.late_bare = True
        cur.take(m.start(), m.end())
    for m in cur.find("in"):
        if m.group("dn") or m.group("dn2"):
            raw = m.group("dn") or m.group("dn2")
            n = int(raw) if raw.isdigit() else _COUNTS[" ".join(raw.split())]
            unit = m.group("du") or m.group("du2")
            facts.within = timedelta(days=n * (7 if unit.startswith("w") else 1))
        elif m.group("hr") or m.group("hr2"):  # "in the next couple hours": from now until then
            hr = m.group("hr") or m.group("hr2")
            n = re.match(r"\d+", hr)
            hours = int(n.group()) if n else 1 if hr == "hour" else 2
            facts.within = timedelta(hours=hours)
        elif m.group("n2"):
            facts.in_delta = timedelta(minutes=int(m.group("n2")))
        else:
            n = int(m.group("n"))
            facts.in_delta = (
                timedelta(hours=n) if m.group("u").startswith("h") else timedelta(minutes=n)
            )
        cur.take(m.start(), m.end())
    for m in cur.find("now"):
        facts.now = True
        facts.going_home = bool(_GOING_HOME.search(text, max(0, m.start() - 20), m.start()))
        cur.take(m.start(), m.end())

    # Calendar pieces first, so "Dec 3 at 2" is read as a date and then a time.
    for m in cur.find("weekend"):
        sat = today + timedelta(days=(5 - today.weekday()) % 7)
        if m.group("q") == "next":
            sat += timedelta(days=7)
        facts.period = (_midnight(sat, tz), _midnight(sat + timedelta(days=2), tz))
        cur.take(m.start(), m.end())
    named: list[tuple[int, int, date]] = []  # days named, for "thursday and friday"
    dates: list[tuple[int, int, date]] = []
    for m in cur.find("wd_next_week"):
        facts.weekday_next_week = _WEEKDAYS[m.group("wd")]
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        facts.day = monday + timedelta(days=facts.weekday_next_week)
        if m.group("wd0"):
            first = monday + timedelta(days=_WEEKDAYS[m.group("wd0")])
            facts.days = (first, facts.day) if first <= facts.day else None
            named.append((m.start(), m.start("wd"), first))
        named.append((m.start("wd") if m.group("wd0") else m.start(), m.end(), facts.day))
        cur.take(m.start(), m.end())
    for m in cur.find("this_or_next"):
        facts.period = (now, _period("next", "week", now)[1])
        cur.take(m.start(), m.end())
    for m in cur.find("end_of"):
        q = (m.group("q") or "this").strip()
        facts.until = _period(q, m.group("u"), now)[1]
        facts.until_at = m.start()
        cur.take(m.start(), m.end())
    moved_to = False
    for m in cur.find("period"):
        cur.take(m.start(), m.end())
        if moved_to:
            continue  # "move it to next week, she works all this week": where it goes
        facts.period = _period(m.group("q"), m.group("u"), now)
        facts.period_at = m.start()
        facts.to_period = bool(_TO_DAY.search(text[: m.start()]))  # "move it to next week"
        moved_to = bool(_MOVED_INTO.search(text[: m.start()]))
    for m in cur.find("end_of_day"):
        facts.until, facts.until_at = _midnight(today + timedelta(days=1), tz), m.start()
        cur.take(m.start(), m.end())
    for m in cur.find("rest_of_day"):
        facts.day, facts.rest_of_day = today, True
        cur.take(m.start(), m.end())
    for m in cur.find("rest_of_week"):
        facts.period = _period("this", "week", now)
        cur.take(m.start(), m.end())
    for m in cur.find("month_alone"):
        facts.period = facts.period or _month(_MONTHS[m.group("mon")[:3]], now)  # the first
        cur.take(m.start(m.lastindex or 0), m.end())
    for m in cur.find("whole_month"):
        facts.period = _period("this", "month", now)
        cur.take(m.start(), m.end())
    if facts.period is None:
        for m in cur.find("month_bare"):  # "report, december", "february ... vs january"
            facts.period = facts.period or _month(
                _MONTHS[(m.group("mon") or m.group("full"))[:3]], now
            )
            cur.take(m.start("mon") if m.group("mon") else m.start("full"), m.end())
    for m in cur.find("lasting"):
        raw = m.group("n")
        n = int(raw) if raw.isdigit() else {"eight": 8, "twelve": 12}.get(raw) or _COUNTS[raw]
        facts.lasting = timedelta(days=n * (7 if m.group("u").startswith("w") else 1))
        cur.take(m.start(), m.end())
    for m in cur.find("days_back"):
        raw = m.group("n")
        n = (int(raw) if raw.isdigit() else _COUNTS[raw]) * (
            7 if m.group("u").startswith("w") else 1
        )
        facts.period = ((now.astimezone(UTC) - timedelta(days=n)).astimezone(tz), now)
        cur.take(m.start(), m.end())
    for m in cur.find("quarter"):
        first = _month(3 * int(m.group("q")) - 2, now)[0]
        facts.period = (first, _month(3 * int(m.group("q")), now)[1])
        cur.take(m.start(), m.end())
    for m in cur.find("date_name_span"):
        first = _date_from(m, today)
        if first is not None:
            try:
                last = first.replace(day=int(m.group("d2")))
            except ValueError:
                continue
            dates += [(m.start(), m.start("d2") - 1, first), (m.start("d2"), m.end(), last)]
            cur.take(m.start(), m.end())
    holidays: set[int] = set()
    reasons: list[tuple[int, int, date]] = []
    for name in ("date_iso", "date_name", "date_name_rev", "date_num", "holiday", "date_ordinal"):
        for m in cur.find(name):
            day = _date_from(m, today)
            if day is None:
                facts.unresolved.append(m.group())
                continue
            if _DAY_AFTER.search(text[: m.start()]):
                day += timedelta(days=1)  # "the day after thanksgiving"
            if name == "holiday":
                holidays.add(m.start())
                if _FOR_REASON.search(text[: m.start()]):
                    reasons.append((m.start(), m.end(), day))
                    cur.take(m.start(), m.end())
                    continue
            facts.day = day
            dates.append((m.start(), m.end(), day))
            cur.take(m.start(), m.end())
    for a, b, day in dates:
        week = _WEEK_OF.search(text[:a])
        if week or (a in holidays and _HOLIDAY_WEEK.match(text, b)):
            # "the week of dec 7", "christmas week": Monday to Monday ("the week after": the next)
            monday = day - timedelta(
                days=day.weekday() - (7 if week and week.group("after") else 0)
            )
            facts.period = (_midnight(monday, tz), _midnight(monday + timedelta(days=7), tz))
            facts.day = None
    span = _date_range(text, sorted(dates))
    if span is not None:  # "Dec 21 to Jan 1": both days whole
        first, last = span
        ends = sorted(dates)[0][0], sorted(dates)[-1][0]
        if re.search(r"\bbetween\s+$", text[: ends[0]]) and set(ends) <= holidays:
            # "between xmas and new years": the days between two holidays, not the holidays
            first, last = first + timedelta(days=1), last - timedelta(days=1)
        facts.day, facts.period = None, (_midnight(first, tz), _midnight(last + timedelta(1), tz))
    for m in cur.find("day"):
        word = m.group("d")
        if word == "today" or word.startswith("same"):  # "seen same day": today
            facts.day = today
        elif word in ("tonight", "tonite"):
            facts.day, facts.part = today, "evening"
        elif word == "yesterday":
            facts.day = today - timedelta(days=1)
        elif word.startswith("day"):
            facts.day = today + timedelta(days=2)
        else:
            facts.day = today + timedelta(days=1)
        if m.group("ap"):
            facts.part = "morning" if m.group("ap") == "a" else "afternoon"
        if m.group("night"):  # "tomorrow night"
            facts.part = "evening"
        named.append((m.start(), m.end(), facts.day))
        cur.take(m.start(), m.end())
    written_from: dict[int, int] = {}
    for m in cur.find("weekday"):
        q, wd = m.group("q"), m.group("wd")
        dated = next(
            (
                i
                for i, (a, _, _) in enumerate(dates)
                if a >= m.end()
                and _WEEKDAY_DATE.fullmatch(text[m.end() : a])
                and re.match(rf"(?:the\s+)?\d|(?:{_MON})\b", text[a:])  # not a holiday
            ),
            None,
        )
        if dated is not None:  # "fri the 11th", "tues 1/5": the date says which friday
            written_from[dated] = m.start()
            cur.take(m.start(), m.end())
            continue
        if wd in ("sat", "sun") and not q and not re.match(r"\s*(?:$|[,.!?;])", text[m.end() :]):
            continue  # "sat with", "sun" are words first (but "no actually sat" is the day)
        facts.day = _weekday(q, _WEEKDAYS[wd], today)
        if m.group("ap"):
            facts.part = "morning" if m.group("ap") == "a" else "afternoon"
        named.append((m.start(), m.end(), facts.day))
        cur.take(m.start(), m.end())
    if reasons and not (named or dates or facts.period or facts.now or facts.within):
        dates += reasons  # "slots for xmas eve?": the holiday is the day asked
        facts.day = reasons[-1][2]
    # a date and the weekday written before it are one mention ("from monday the 14th through...")
    every = sorted(named + [(written_from.get(i, a), b, d) for i, (a, b, d) in enumerate(dates)])
    if span is None:  # (a range of dates already gave the days)
        facts.days = _day_span(text, every) or facts.days
    timed = {d for _, b, d in every if _CLOCK_AFTER.match(text, b)}
    if facts.days is None and len(timed) == 1 and len({d for *_, d in every}) > 1:
        # "book reyes monday at 8, clocks change sunday": the day given a time is the one asked
        # for (a correction below still lets the last day win)
        facts.day = timed.pop()
    every = _return_days(text, every, facts, tz, today)
    for a, _, day in every:
        if _SINCE.search(text[:a]):  # "attendance since monday", "since Nov 1": up to now
            while day > today:
                day -= timedelta(days=7)
            facts.period, facts.day, facts.days = (_midnight(day, tz), now), None, None
            every = [e for e in every if e[0] != a]
            break
    for a, _, day in every:
        m = _BEFORE_DAY.search(text[:a])
        if m and not text[a:].split(" ", 1)[0].endswith("'s"):
            # "before xmas": up to that day; "by friday": that day included
            last = day + timedelta(days=1) if m.group("by") else day
            facts.until, facts.until_at = _midnight(last, tz), a
            facts.day, facts.days = None, None
    if facts.period and _BEFORE_DAY.search(text[: facts.period_at]):
        facts.until, facts.period = facts.period[0], None  # "before next week"
    facts.to_day = _moved_to(text, every)
    fix = _CORRECTION.search(text)
    if fix:  # "thursday, no wait, friday": what follows the correction wins (the first of it:
        # "tues, no wait, wednesday, tues is fine"; a range: "mon-weds, scratch that, mon-tues")
        after = [e for e in every if e[0] >= fix.end()]
        if after:
            facts.day, facts.to_day = after[0][2], after[0][2]
            facts.days = _day_span(text, after)
    for m in cur.find("part"):
        before = text[: m.start()].rstrip()
        if _NOT_PART.search(before):  # "fri morning, not afternoon": not the part asked for
            cur.take(m.start(), m.end())
            continue
        if facts.to_part:
            cur.take(m.start(), m.end())
            continue  # "to the afternoon, she's got court in the morning": where it goes
        facts.part = _PART_WORDS[m.group("p")]
        facts.to_part = bool(_TO_PART.search(before))
        if fix and m.start() < fix.start() and _P["clock"].search(text, fix.end()):
            facts.part = None  # "this afternoon, no wait he can only stay til 1": the time said
        if m.group("p") in ("tonight", "tonite") or before.endswith("this"):
            facts.today_implied = True
            facts.later = bool(re.search(r"\blater\s+this$", before))
            start = m.start() - (len(text[: m.start()]) - len(before)) - 4
            if before.endswith("this") and cur.free(start, m.start()):
                cur.take(start, m.start())
        cur.take(m.start(), m.end())

    for m in free_matches(_SESSION_TIME, text, cur.free):  # read by `own_session`
        if m.group("hw1") or not (_explicit(m, 1) or re.match(_HOUR_END, text[m.end() :])):
            continue  # "her 2 kids" is no time
        start = m.start("h1") if m.group("h1") else m.start("noon1")
        facts.session_clock = (_clock(m, 1, facts.part), (start, m.end()))
        facts.session_explicit = _explicit(m, 1)
        cur.take(*facts.session_clock[1])
        break
    # Clock times, most specific form first.
    for name in ("range_between", "range_from", "range_bare"):
        for m in cur.find(name):
            if name == "range_bare" and not _word_hour_ok(m, 2, text):
                continue  # "from ten to noon" and "between two and four" are times whatever follows
            if name == "range_bare" and not (_explicit(m, 1) or _explicit(m, 2)):
                # "out 1-3", "training 9-12": bare hours are a range of clinic hours when they
                # read forward within a working day (never "2-3 weeks": units are excluded)
                a, b = _clock(m, 1, facts.part), _clock(m, 2, facts.part)
                if not (a < b and b[0] - a[0] <= 10 and m.group("h1") and m.group("h2")):
                    continue
            ap2 = m.group("ap2") or m.group("apx2")
            first = _clock(m, 1, facts.part)
            if ap2 and not (m.group("ap1") or m.group("apx1")) and not m.group("noon1"):
                # "1-3pm": the second am/pm covers the first when that keeps the order
                h = int(m.group("h1"))
                h12 = h + 12 if ap2 == "p" and h < 12 else h
                first = (h12 if (h12, 0) <= _clock(m, 2) else h, first[1])
            facts.range = (first, _clock(m, 2, facts.part))
            # "10am to 11:30", "from 2 to 4": on a move, the second time is the new one
            facts.range_to = name == "range_from" or (name == "range_bare" and " to " in m.group())
            cur.take(m.start(), m.end())
    for name in ("leave", "before", "after", "back", "at"):  # "until after 2" ends at 2
        for m in cur.find(name):
            if not _word_hour_ok(m, 1, text) or (
                m.group("hw1")
                and name == "at"
                and not m.group().startswith(("at", "@"))
                and not _explicit(m, 1)
            ):
                continue
            if name == "after" and m.group().startswith("from") and not _explicit(m, 1):
                continue
            if (
                name == "before"
                and m.group().startswith("by")
                and not _explicit(m, 1)
                and not re.search(r"\b(?:in|here|back|there)\s+$", text[: m.start()])
            ):
                continue  # "by 3 people" is not a time; "be in by 10" is
            setattr(facts, "exact" if name == "at" else name, _clock(m, 1, facts.part))
            cur.take(m.start(), m.end())
    for m in cur.find("before_lunch"):
        facts.before = facts.before or (12, 0)
        cur.take(m.start(), m.end())
    to_explicit = False
    for m in cur.find("to_clock") + cur.find("instead_clock"):
        if not _word_hour_ok(m, 1, text):
            continue
        facts.to_clock, to_explicit = _clock(m, 1, facts.part), _explicit(m, 1)
        cur.take(m.start(), m.end())
    for m in cur.find("clock"):
        if _explicit(m, 1) or (fix and m.start() == fix.end() and (facts.exact or facts.to_clock)):
            facts.exact = _clock(m, 1, facts.part)  # "at 4, no wait, 5": the corrected time
            facts.to_clock = None if fix and m.start() == fix.end() else facts.to_clock
            cur.take(m.start(), m.end())
    if facts.to_clock and ((to_explicit and facts.exact is None) or facts.to_clock == facts.exact):
        facts.exact = facts.to_clock  # "call her back to 3pm": a time all the same
    if not any((facts.exact, facts.range, facts.after, facts.before, facts.leave)):
        for m in _DAY_HOUR.finditer(text):  # "book kim 1:1 fri 10": that day at ten
            if cur.free(*m.span("h")) and not facts.to_clock:
                facts.exact = _bare_hour(m, facts.part)
                cur.take(m.start("h"), m.end())
                break
    facts.spans = cur.used
    return facts


_DATE_LIST = re.compile(r"\s*,\s*")  # "the 8th, 9th and 10th": a list, once joined
_WEEKDAY_DATE = re.compile(r"\.?,?\s*(?:the\s+)?")
_DATE_TO = re.compile(r"\s*(?:to|till|til|until|thru|through|-|–|and|&|\+)\s*")


def _date_range(text: str, dates: list[tuple[int, int, date]]) -> tuple[date, date] | None:
    """Two dates joined by "to", "-" or "through": the first and last day (a last day that
    would come first is next year's: "Dec 21 to Jan 1")."""
    run: list[tuple[date, date, bool]] = []  # consecutive joined pairs; True: "to"/"and"
    for (_, end1, first), (start2, _, last) in pairwise(dates):
        between = text[end1:start2]
        joined = bool(_DATE_TO.fullmatch(between))
        if joined or _DATE_LIST.fullmatch(between):
            run.append((first, last, joined))
        elif any(j for *_, j in run):
            break
        else:
            run = []
    if not any(j for *_, j in run):
        return None  # "Dec 3, Dec 5" alone is two days, not a range
    first, last = run[0][0], run[-1][1]
    if last < first:
        last = last.replace(year=last.year + 1)
    return first, last


_DAYS_JOIN = re.compile(
    r"\s*(?:(?:and|&|\+)(?:\s+(?:prob(?:ably)?|maybe|possibly|likely|also|prolly))?"
    r"|or|/|to|till|til|until|thru|through|-|–)\s*"
)


def _day_span(text: str, named: list[tuple[int, int, date]]) -> tuple[date, date] | None:
    """Days named by word and joined ("thursday and friday", "thurs-fri", "today or
    tomorrow", "thursday through monday"): the first and the last, both whole days."""
    joined = [
        (first, last)
        for (_, end1, first), (start2, _, last) in pairwise(named)
        if _DAYS_JOIN.fullmatch(text[end1:start2])
    ]
    if not joined:
        return None
    first, last = joined[0][0], joined[-1][1]
    while last < first:  # "friday to monday": the Monday after
        last += timedelta(days=7)
    return first, last


def _period(q: str, unit: str, now: datetime) -> tuple[datetime, datetime]:
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    today = now.date()
    q = "next" if q.startswith("the") else q
    if unit in ("week", "wk"):
        monday = today - timedelta(days=today.weekday())
        if q == "this":
            return now, _midnight(monday + timedelta(days=7), tz)
        if q in ("next", "coming"):
            return _midnight(monday + timedelta(days=7), tz), _midnight(
                monday + timedelta(days=14), tz
            )
        return _midnight(monday - timedelta(days=7), tz), _midnight(monday, tz)
    first = today.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    if q == "this":
        return _midnight(first, tz), _midnight(nxt, tz)
    if q in ("next", "coming"):
        return _midnight(nxt, tz), _midnight((nxt + timedelta(days=32)).replace(day=1), tz)
    prev = (first - timedelta(days=1)).replace(day=1)
    return _midnight(prev, tz), _midnight(first, tz)


def _month(month: int, now: datetime) -> tuple[datetime, datetime]:
    """The whole named month nearest to now (this year's, last year's or next year's)."""
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    here = now.year * 12 + now.month - 1
    index = min((y * 12 + month - 1 for y in (now.year - 1, now.year, now.year + 1)),
                key=lambda i: abs(i - here))  # fmt: skip
    first = date(index // 12, index % 12 + 1, 1)
    nxt = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return _midnight(first, tz), _midnight(nxt, tz)


_HOLIDAYS = {"christmas eve": (12, 24), "christmas": (12, 25), "new year's eve": (12, 31),
             "new year's": (1, 1)}  # fmt: skip


def _holiday(name: str, today: date) -> date | None:
    """The nearest such holiday (Thanksgiving: the fourth Thursday of November)."""
    name = re.sub(r"\s+", " ", name.replace("x-mas", "christmas").replace("xmas", "christmas"))
    name = re.sub(r"\s+day$", "", re.sub(r"years?'?s?'?", "year's", name))
    if name == "nye":
        name = "new year's eve"
    if name == "thanksgiving":
        days = []
        for year in (today.year - 1, today.year, today.year + 1):
            first = date(year, 11, 1)
            days.append(first + timedelta(days=(3 - first.weekday()) % 7 + 21))
        return min(days, key=lambda d: abs((d - today).days))
    month, day = _HOLIDAYS[name]
    return _nearest_year(month, day, today)


def _ordinal(day: int, today: date) -> date | None:
    """ "the 24th": this month's when it is still ahead (or today), else the next month's."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            cand = date(year, month, day)
        except ValueError:
            cand = None
        if cand is not None and cand >= today:
            return cand
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


_CORRECTION = re.compile(
    r"\b(?:no[,\s]+wait|no[,\s]+sorry|no[,\s]+actually|(?:no|wait)[,\s]+make\s+(?:it|that)"
    r"|sorry\s+i\s+meant?"
    r"|i\s+meant?|correction|scratch\s+that|actually)\b[\s,:]*"
)
_CLOCK_AFTER = re.compile(
    r"\s*(?:at\s+|@\s*)?(?:(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s*(?:[ap]\.?m\b)?|noon)(?![\d/])"
)
_BEFORE_DAY = re.compile(r"\b(?:before|(?P<by>by))\s+(?:the\s+)?$")
# "back monday", "out until monday", "can wait till monday": the day the absence ends (or a day
# set aside); "out thru friday": the last day of it.
_RETURN_DAY = re.compile(
    r"\b(?:(?P<wait>wait)\s+)?(?:(?:un)?till?|(?<!come\s)(?<!came\s)(?<!coming\s)(?<!her\s)(?<!him\s)(?<!them\s)back(?:\s+(?:on|in))?|returns?(?:\s+on)?"
    r"|returning(?:\s+on)?)\s+(?:next\s+|this\s+)?(?:the\s+)?$"
    r"|\b(?P<thru>thru|through)\s+(?:next\s+|this\s+)?(?:the\s+)?$"
)


def _return_days(
    text: str, every: list[tuple[int, int, date]], facts: TimeFacts, tz: ZoneInfo, today: date
) -> list[tuple[int, int, date]]:
    """Days named as the end of an absence ("back monday", "out until monday", "out thru
    friday"). Beside another day or period they are set aside ("out fri, back mon"); alone, the
    window runs from now up to the return (through the "thru" day)."""
    if facts.days is not None:
        return every  # "monday thru wednesday": a span of days, read already
    ends = [(a, b, d, m) for a, b, d in every if (m := _RETURN_DAY.search(text[:a]))]
    if not ends:
        return every
    rest = [e for e in every if e[0] not in {a for a, *_ in ends}]
    if rest or facts.period is not None:
        if facts.day in {d for *_, d, _ in ends} and rest:
            facts.day = rest[-1][2]
        return rest
    a, _, day, m = ends[-1]
    while len(ends) > 1 and day < ends[-2][2]:  # "until next wednesday, back thurs": after it
        day += timedelta(days=7)
    if m.group("wait") or (day <= today and not m.group("thru")):
        return every  # "back in today" is not an end
    last = day + timedelta(days=1) if m.group("thru") else day
    facts.until, facts.until_at = _midnight(last, tz), a
    facts.day = None
    return []


_NOT_PART = re.compile(r"\b(?:not|no|but)(?:\s+in)?(?:\s+the)?$")
_TO_PART = re.compile(rf"\b(?:to|into|for)\s+(?:the|this|(?:{_WD}|today|{_TOMORROW})(?:'?s)?)$")
_DAY_AFTER = re.compile(r"\bday\s+after\s+(?:the\s+)?$")
_MOVED_INTO = re.compile(r"\b(?:to|into)\s+(?:some\s*time\s+|any\s*time\s+)?$")
_SINCE = re.compile(r"\bsince\s+(?:(?:last|this\s+past)\s+)?$")
_WEEK_OF = re.compile(r"\bweek\s+(?:(?P<after>after)|of)\s+(?:the\s+)?$")
_HOLIDAY_WEEK = re.compile(r"\s+week\b")  # "christmas week", "thanksgiving week"
# "traveling for xmas eve", "he's at his daughter's for thanksgiving": a reason, beside the day
_FOR_REASON = re.compile(r"\bfor\s+$")
_TO_DAY = re.compile(
    r"\b(?:to|till|til|until|for|into)\s+(?:some\s*time\s+|any\s*time\s+)?(?:the\s+|on\s+(?:the\s+)?)?$"
)


def _moved_to(text: str, days: list[tuple[int, int, date]]) -> date | None:
    """The day a move goes to: the last day named right after "to" ("from thursday to friday",
    "move her CM to the 23rd"), when another day is named too or the words say a move."""
    hits = [d for a, _, d in days if _TO_DAY.search(text[:a])]
    return hits[-1] if hits else None


def _date_from(m: re.Match[str], today: date) -> date | None:
    if "h" in m.groupdict():
        return _holiday(m.group("h"), today)
    if "mon" not in m.groupdict():
        return _ordinal(int(m.group("d")), today)
    raw = m.group("mon")
    month = int(raw) if raw.isdigit() else _MONTHS[raw[:3]]
    day = int(m.group("d"))
    year = m.groupdict().get("y")
    if year is None:
        return _nearest_year(month, day, today)
    y = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return date(y, month, day)
    except ValueError:
        return None


# "auths expiring before xmas", "which auths lapse jan 1": the day bounds what is asked about
_RUNS_OUT = re.compile(
    r"\b(?:expir\w*|run(?:s|ning)?\s+out|laps\w*|roll(?:s|ing)?\s+over|auths?\s+up"
    r"|new\s+(?:prior\s+)?auth)\b"
)


def due_only(facts: TimeFacts, text: str, today: date) -> bool:
    """A compliance report with only a day named ("by friday", "payer audit is thursday", "right
    now"): when the report is wanted, not the period it covers (most writers leave it empty).
    What "expires before xmas" is the period asked about."""
    if facts.period is not None or facts.days is not None or facts.within is not None:
        return False
    if _RUNS_OUT.search(text):
        return False
    return facts.now or facts.until is not None or (facts.day is not None and facts.day != today)


def own_session(facts: TimeFacts, text: str, intent: str) -> None:
    """Where the time of a session its owner names ("my 4pm", "his 9") goes. Every writer reads
    it as the session meant, never as the new time of a move nor the span of an absence: "sick
    today, cover my 10 and 2" is today; "move my 4pm to monday" is monday; "cancel my 4" is 4."""
    if facts.session_clock is None or intent == "staff_unavailable":
        return
    clock = facts.session_clock[0]
    if intent == "reschedule":
        new = (facts.exact, facts.range, facts.after, facts.before, facts.to_clock, facts.part)
        when = (facts.day, facts.days, facts.period, facts.until, facts.now, facts.in_delta)
        if (_SAME_TIME.search(text) and not any(new)) or not any(new + when):
            facts.exact = clock  # "to tmrw same time": the old time on the new day
        return
    if not facts.exact and not facts.range and (facts.session_explicit or intent == "cancel"):
        facts.exact = clock


def resolve(
    facts: TimeFacts, now: datetime, *, unavailable: bool = False
) -> tuple[datetime, datetime] | None:
    """The window the pieces describe (contract x-time-conventions), or None."""
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    today = now.date()
    if facts.late is not None:
        return now, (now.astimezone(UTC) + timedelta(minutes=facts.late)).astimezone(tz)
    if facts.within is not None:
        return now, (now.astimezone(UTC) + facts.within).astimezone(tz)
    if facts.in_delta is not None:
        at = (now.astimezone(UTC) + facts.in_delta).astimezone(tz)
        return (now, at) if unavailable else (at, at)  # "be there in 25": late until then
    if facts.until is not None and not any((facts.exact, facts.range, facts.after)):
        # "before xmas" from now; "monday thru the end of the month" from that day
        first = facts.days[0] if facts.days else facts.day
        begin = _midnight(first, tz) if first and first < facts.until.date() else now
        return begin, facts.until
    if facts.back and not (unavailable and facts.exact is None and facts.before is None):
        facts.exact = facts.exact or facts.back  # "call her back at 3": a time
        facts.back = None
    elif facts.back:  # "leaving at 1, back at 3": out until then
        facts.before, facts.back = facts.back, None
    has_clock = any((facts.exact, facts.after, facts.before, facts.range, facts.leave))
    first_day = facts.days[0] if facts.days else facts.day
    if unavailable and facts.lasting and first_day and not has_clock:
        return _midnight(first_day, tz), _midnight(first_day + facts.lasting, tz)
    if facts.days is not None and not has_clock and not facts.part:
        end = _midnight(facts.days[1] + timedelta(days=1), tz)
        if unavailable and facts.days[0] == today:
            return now, end  # "out today and tomorrow": from now, as "out today" is
        return _midnight(facts.days[0], tz), end
    if facts.days is not None:
        facts.day = facts.days[0]  # "thursday and friday at 2": the first of them
    bound = facts.exact or facts.range or facts.leave or (unavailable and has_clock)
    if facts.period is not None and facts.day is None and not bound:
        return facts.period  # "this week, only after 5": no one window says both; the week
    if facts.now and facts.day is None and not has_clock and not facts.part:
        if unavailable and facts.going_home:  # "migraine, heading home now": the rest of today
            return now, _midnight(today + timedelta(days=1), tz)
        return now, (now.astimezone(UTC) + timedelta(hours=4)).astimezone(tz)

    day = facts.day
    if day is None and (facts.today_implied or (facts.part and not has_clock)):
        day = today
    if day is None and has_clock:
        # today when the time is still ahead, else tomorrow (exact_time convention)
        probe = (
            facts.exact
            or facts.leave
            or facts.after
            or facts.before
            or (facts.range[1] if facts.range else None)
        )
        assert probe is not None
        day = today if _local(today, probe, tz) > now else today + timedelta(days=1)
    if day is None:
        if unavailable and facts.late_bare:
            return None
        return None
    start_of_day, next_day = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    if facts.range:
        return _local(day, facts.range[0], tz), _local(day, facts.range[1], tz)
    if facts.leave and unavailable:  # "appt at 3 so leaving at 2:30": out from 2:30
        back = (
            _local(day, facts.before, tz) if facts.before and facts.before > facts.leave else None
        )
        return _local(day, facts.leave, tz), back or next_day  # "leaving at 1, back at 3"
    if facts.exact:
        at = _local(day, facts.exact, tz)
        return at, at
    if facts.leave:
        return _local(day, facts.leave, tz), next_day
    if facts.after:
        return _local(day, facts.after, tz), next_day
    if facts.before:
        begin = max(start_of_day, now) if day == today else start_of_day
        part = PARTS_OF_DAY[facts.part] if facts.part else None
        if part and part.start < facts.before[0] * 60 + facts.before[1] <= part.end:
            # "out this morning, in by noon": from the part's start, however late it is said
            # ("friday morning, out until 1" runs past the morning: from the day's start)
            begin = _local(day, divmod(PARTS_OF_DAY[facts.part].start, 60), tz)
        return begin, _local(day, facts.before, tz)
    if facts.part:
        part = PARTS_OF_DAY[facts.part]
        begin = _local(day, divmod(part.start, 60), tz)
        end = _local(day, divmod(part.end, 60), tz)
        return (max(begin, now) if facts.later and begin < now < end else begin), end
    if (unavailable or facts.rest_of_day) and day == today:
        return now, next_day
    return start_of_day, next_day

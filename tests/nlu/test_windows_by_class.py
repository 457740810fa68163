"""Windows as most development writers label each class of phrasing (issue 16, nlu8): a session's
own time ("my 4pm") is never an absence's span nor a move's new time; a part of day with "in by
noon"; a holiday given as a reason; corrections inside ranges; an absence "for six weeks"; a
report's due day; arrivals and the day it is in an emergency; a confirm by number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

TUE = "2026-12-08T09:20:00-05:00"  # a Tuesday morning


def _frame(text: str, now: str = TUE, actor: str = "s-obrien") -> dict[str, Any]:
    return parse(text, roster=roster(), now=datetime.fromisoformat(now), actor=actor)


def _window(text: str, now: str = TUE) -> tuple[str, str] | None:
    window = _frame(text, now)["window"]
    return None if window is None else (window["start"][:16], window["end"][:16])


@pytest.mark.parametrize(
    ("text", "now", "start", "end"),
    [
        # the owner's session time: an absence is the day, a move goes where it is told
        ("sick today, pls cover my 10 and 1 o'clock", TUE, "2026-12-08T09:20", "2026-12-09T00:00"),
        ("reschedule my 4pm w/ Sofia to monday", TUE, "2026-12-14T00:00", "2026-12-15T00:00"),
        ("can u move my 2pm w/ jamie to tmrw same time", TUE, "2026-12-09T14:00", "2026-12-09T14:00"),
        ("can his 9 be 11?", TUE, "2026-12-08T11:00", "2026-12-08T11:00"),
        ("jackson wants to move today's 9am to this afternoon", TUE, "2026-12-08T12:00", "2026-12-08T17:00"),
        ("pls slide Alex Kim to the afternoon, she's got court in the morning", TUE,
         "2026-12-08T12:00", "2026-12-08T17:00"),
        ("robert chen wants to change his appt to fri morning, not afternoon", TUE,
         "2026-12-11T08:00", "2026-12-11T12:00"),
        # an absence: back at, a part with "in by noon", how long
        ("leaving at 1 for lunch + errands, back at 3", TUE, "2026-12-08T13:00", "2026-12-08T15:00"),
        ("out this morning for a doctor's appt, in by noon", TUE, "2026-12-08T08:00", "2026-12-08T12:00"),
        ("I have to take my dad to chemo friday morning so I'm out until 1", TUE,
         "2026-12-11T00:00", "2026-12-11T13:00"),
        ("okafor on paternity leave starting monday for 6 weeks", TUE, "2026-12-14T00:00", "2027-01-25T00:00"),
        ("running like ten minutes late the roads are icy", TUE, "2026-12-08T09:20", "2026-12-08T09:30"),
        # corrections, ranges included
        ("ill be out mon-weds next wk, scratch that, mon-tues", TUE, "2026-12-14T00:00", "2026-12-16T00:00"),
        ("I'm out Friday - no, sorry, Thursday. Friday I'm here", TUE, "2026-12-10T00:00", "2026-12-11T00:00"),
        ("move my 3pm to 1, scratch that, 2 not 1", TUE, "2026-12-08T14:00", "2026-12-08T14:00"),
        # holidays
        ("bump Alex Kim's 1:1 from today to monday, he's w/ family for xmas", "2026-12-24T10:00:00-05:00",
         "2026-12-28T00:00", "2026-12-29T00:00"),
        ("anything for Michael Brennan the week after christmas", "2026-12-23T15:30:00-05:00",
         "2026-12-28T00:00", "2027-01-04T00:00"),
        ("any openings between xmas and new years for Dorothy's family session", "2026-12-24T10:00:00-05:00",
         "2026-12-26T00:00", "2027-01-01T00:00"),
        # periods with a constraint no one window can say; a move "to next week"
        ("find a slot for Jamie Rivera this week, she can only do after 5", TUE,
         "2026-12-08T09:20", "2026-12-14T00:00"),
        ("liz nguyen asked to move her family session to next week, she works all this week", TUE,
         "2026-12-14T00:00", "2026-12-21T00:00"),
        # reports
        ("what's Elena's utilization been the past 30 days", TUE, "2026-11-08T09:20", "2026-12-08T09:20"),
        ("bill turner attendance since monday?", TUE, "2026-12-07T00:00", "2026-12-08T09:20"),
        ("board wants clinician productivity numbers for Q4", TUE, "2026-10-01T00:00", "2027-01-01T00:00"),
        # emergencies: the arrival and the day it is are not the window
        ("walk in at 4:45, pregnant, on fent, needs MAT intake tonight", "2027-03-12T16:40:00-05:00",
         "2027-03-12T17:00", "2027-03-12T21:00"),
        ("walk-in saturday, anybody on call for an intake now?", "2026-12-05T10:00:00-05:00",
         "2026-12-05T10:00", "2026-12-05T14:00"),
        ("walk in, wants an intake, can we fit him in before lunch?", TUE, "2026-12-08T09:20", "2026-12-08T12:00"),
        ("NYE walk-in, needs an intake before we close at 5", "2026-12-31T15:40:00-05:00",
         "2026-12-31T15:40", "2026-12-31T17:00"),
    ],
)  # fmt: skip
def test_window(text: str, now: str, start: str, end: str) -> None:
    assert _window(text, now) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "pls pull auth status for everyone in IOP, payer audit is thursday",
        "who's out of compliance w/ court orders right now",
        "first option please, the family prefers mornings",
        "can we squeeze in an urgent intake? referral from county jail, released this am",
    ],
)
def test_no_window(text: str) -> None:
    assert _window(text) is None

"""A request beside words that look like something else (issue 16): an ordinal that is not a
pick, a "how do I" around a real request, an arrival or a no-show with a new session asked for,
and day names that book no series. Written by us in our own wording."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.parse import parse
from assistant.roster import Roster
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-08T09:20:00-05:00")


@pytest.fixture(scope="module")
def r() -> Roster:
    return roster()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what's the first opening for a med check w/ Raman", "find_slot"),
        ("who has the 3 o'clock in the Oak Room today", "schedule_lookup"),
        ("find a CM slot for Tyler after 3 tmrw, then book it if there's one w/ me", "find_slot"),
        ("the second option for Sofia", "confirm"),
        ("yes please book the first option", "confirm"),
        ("2nd one works", "confirm"),
    ],
)
def test_an_ordinal_picks_an_offer_only_when_nothing_else_is_asked(
    r: Roster, text: str, intent: str
) -> None:
    frame = parse(text, roster=r, now=NOW, actor="s-okafor")
    assert frame["intent"] == intent
    if intent != "confirm":
        assert frame["option"] is None  # the contract: an option belongs to a confirm


def test_a_how_do_i_around_a_request_is_the_request(r: Roster) -> None:
    text = "how do i move an appt? Robert Chen wants his 1pm today moved to 3pm"
    assert parse(text, roster=r, now=NOW, actor="s-obrien")["intent"] == "reschedule"
    assert parse("how do I move an appointment?", roster=r, now=NOW)["intent"] == "help"


@pytest.mark.parametrize(
    "text",
    [
        "Jamie Rivera just showed up in crisis, can someone see her right now",
        "Will Turner's back in the lobby, wants to restart, readmit asap",
    ],
)
def test_an_arrival_or_no_show_with_a_new_session_asked_is_not_a_mark(r: Roster, text: str) -> None:
    frame = parse(text, roster=r, now=NOW, actor="s-obrien")
    assert frame.get("action") is None  # the request is answered, nothing is marked
    assert frame["intent"] != "unknown"


def test_a_plain_no_show_is_still_marked(r: Roster) -> None:
    frame = parse("Tyler no showed for his 10", roster=r, now=NOW, actor="s-okafor")
    assert frame["action"] == "no_show"


@pytest.mark.parametrize("text", ["ugh mondays", "weekly numbers for the board meeting?"])
def test_day_names_book_no_series(r: Roster, text: str) -> None:
    frame = parse(text, roster=r, now=NOW, actor="s-wright")
    assert not frame.get("repeat")
    assert frame["intent"] != "book"


def test_a_weekly_booking_is_still_a_series(r: Roster) -> None:
    frame = parse("book Jamie every tuesday at 2 for 6 weeks", roster=r, now=NOW, actor="s-okafor")
    assert frame["intent"] == "book" and frame["repeat"]["weekday"] == "tue"

"""Recurring series in the conversation: "book Jamie with Dana every Tuesday at 2 pm for 8
weeks", "cancel all of Jamie's Tuesday sessions with Dana", "cancel this and following",
"move all of Jamie's Tuesday sessions with Dana to 3 pm".

Each asks first: a dry run through the use case (assistant.usecases.series) checks every week
and the reply lists every date (and every week that would fail, with its reason); the change
waits in the conversation (`PendingChange`) and is made on "yes" (`confirm`). A booking with
failing weeks offers to book the others and skip those.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from assistant.dialogue import wording
from assistant.dialogue.handlers import cancel, reschedule
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, PendingChange
from assistant.dialogue.turn import Turn
from assistant.usecases import series
from clinic.errors import RotaError
from clinic.timeutil import parse_datetime

BOOK, CANCEL, MOVE = "series_book", "series_cancel", "series_move"
KINDS = (BOOK, CANCEL, MOVE)
DEFAULT_SESSION_TYPE = "individual"


def handle(turn: Turn, frame: Frame) -> Reply:
    """A frame with `repeat` (a weekly booking) or `scope` (a change to a series)."""
    turn.state.drop_offers()
    if frame["intent"] == "book":
        return ask_book(turn, frame)
    return ask_change(turn, frame)


# -- book ---------------------------------------------------------------------------------------


def ask_book(turn: Turn, frame: Frame) -> Reply:
    repeat = frame["repeat"]
    patient = (frame.get("patient") or {}).get("id")
    staff = (frame.get("staff") or {}).get("id")
    if not patient:
        return turn.reply(wording.SERIES_WHOSE)
    if not staff:
        return turn.reply(wording.SERIES_WITH_WHOM)
    if not repeat.get("time") or not repeat.get("weekday"):
        return turn.reply(wording.SERIES_WHAT_TIME)
    if repeat.get("until") == "?":
        return turn.reply(wording.SERIES_UNTIL_UNCLEAR)
    if repeat.get("count") is None and repeat.get("until") is None:
        return turn.reply(wording.SERIES_HOW_LONG)
    data: dict[str, Any] = {
        "patient": patient,
        "staff": staff,
        "session_type": frame.get("session_type") or DEFAULT_SESSION_TYPE,
        "weekday": repeat["weekday"],
        "time": repeat["time"],
        "count": repeat.get("count"),
        "until": repeat.get("until"),
        "minutes": frame.get("duration_minutes"),
        "room": (frame.get("room") or {}).get("id"),
    }
    checked = series.book_series(turn.db, turn.caller, _book_command(turn, data, dry_run=True))
    names = turn.names()
    text, actions = wording.confirm_series_book(
        names(patient),
        names(staff),
        wording.series_pattern(data["weekday"], data["time"]),
        checked.days,
        checked.failed,
        names,
    )
    if len(checked.failed) < len(checked.days):
        turn.state.change = PendingChange(BOOK, {**data, "skip_failing": bool(checked.failed)})
    return turn.reply(text, actions=actions)


def _book_command(turn: Turn, data: dict[str, Any], *, dry_run: bool) -> series.BookSeries:
    return series.BookSeries(
        patient=data["patient"],
        staff=data["staff"],
        session_type=data["session_type"],
        weekday=data["weekday"],
        time=data["time"],
        count=data.get("count"),
        until=date.fromisoformat(data["until"]) if data.get("until") else None,
        room=data.get("room"),
        minutes=data.get("minutes"),
        skip_failing=bool(data.get("skip_failing")),
        reason=wording.audit_reason("book", turn.cid),
        dry_run=dry_run,
    )


# -- cancel and move ----------------------------------------------------------------------------


def ask_change(turn: Turn, frame: Frame) -> Reply:
    """Which series, which occurrences (scope), then "yes"; with no series to change, the
    message is an ordinary cancellation or move."""
    found = _series_named(turn, frame)
    if found is None:
        fallback = cancel.cancel if frame["intent"] == "cancel" else reschedule.reschedule
        return fallback(turn, frame)
    if isinstance(found, Reply):
        return found
    scope = frame["scope"]
    occurrence = None if scope == "all" else _occurrence_on(turn, frame, found)
    names = turn.names()
    who, staff = names(found["patient"]), names(found["staff"])
    pattern = wording.series_pattern(found["weekday"], found["time"])
    data = {"series": found["id"], "scope": scope, "occurrence": occurrence}
    if frame["intent"] == "cancel":
        checked = series.cancel_series(
            turn.db, turn.caller, _cancel_command(turn, data, dry_run=True)
        )
        if not checked.days:
            return turn.reply(wording.SERIES_NOTHING_LEFT)
        turn.state.change = PendingChange(CANCEL, data)
        text, actions = wording.confirm_series_cancel(who, staff, pattern, checked.days)
        return turn.reply(text, actions=actions)
    window = frame.get("window")
    if not window or window["start"] != window["end"]:
        return turn.reply(wording.SERIES_NEW_TIME)
    data["time"] = f"{parse_datetime(window['start'], turn.tz).astimezone(turn.tz):%H:%M}"
    checked = series.change_series(turn.db, turn.caller, _move_command(turn, data, dry_run=True))
    if checked.failed:
        return turn.reply(wording.series_refused(checked.failed, names))
    if not checked.days:
        return turn.reply(wording.SERIES_NOTHING_LEFT)
    turn.state.change = PendingChange(MOVE, data)
    text, actions = wording.confirm_series_move(who, staff, pattern, checked.days, data["time"])
    return turn.reply(text, actions=actions)


def _series_named(turn: Turn, frame: Frame) -> dict[str, Any] | Reply | None:
    """The one series the message means: the patient's (narrowed by clinician and weekday), or
    the one this conversation last dealt with. None: the patient has no series."""
    patient = (frame.get("patient") or {}).get("id")
    if not patient:
        if turn.state.series:
            return series.show_series(turn.db, turn.caller, turn.state.series)
        return turn.reply(wording.SERIES_WHOSE)
    staff = (frame.get("staff") or {}).get("id")
    weekday = (frame.get("repeat") or {}).get("weekday")
    found = series.find_series(turn.db, turn.caller, patient, staff=staff, weekday=weekday)
    if not found:
        return None
    if len(found) > 1:
        return turn.reply(wording.which_series(found, turn.names()))
    return found[0]


def _occurrence_on(turn: Turn, frame: Frame, found: dict[str, Any]) -> int | None:
    """The occurrence on the day the message names (None: the next one still to come)."""
    window = frame.get("window")
    if not window:
        return None
    day = parse_datetime(window["start"], turn.tz).astimezone(turn.tz).date()
    for occ in found["occurrences"]:
        if datetime.fromisoformat(occ["start"]).astimezone(turn.tz).date() == day:
            return int(occ["occurrence"])
    return None


def _cancel_command(turn: Turn, data: dict[str, Any], *, dry_run: bool) -> series.CancelSeries:
    return series.CancelSeries(
        data["series"],
        data["scope"],
        wording.audit_reason("cancel", turn.cid),
        occurrence=data.get("occurrence"),
        dry_run=dry_run,
    )


def _move_command(turn: Turn, data: dict[str, Any], *, dry_run: bool) -> series.ChangeSeries:
    return series.ChangeSeries(
        data["series"],
        data["scope"],
        wording.audit_reason("move", turn.cid),
        occurrence=data.get("occurrence"),
        time=data["time"],
        dry_run=dry_run,
    )


# -- yes / no -----------------------------------------------------------------------------------


def confirm(turn: Turn) -> Reply:
    """ "yes": make the series change waiting in the conversation (asked once)."""
    change = turn.state.change
    assert change is not None and change.kind in KINDS
    turn.state.change = None
    data, names = change.data, turn.names()
    if change.kind == BOOK:
        done = series.book_series(turn.db, turn.caller, _book_command(turn, data, dry_run=False))
        if not done.written:
            return turn.reply(wording.series_refused(done.failed, names))
        turn.state.series = (done.series or {}).get("id")
        return turn.reply(
            wording.series_booked(len(done.done), done.failed, names),
            appointments=[a.id for a in done.done],
        )
    if change.kind == CANCEL:
        done = series.cancel_series(
            turn.db, turn.caller, _cancel_command(turn, data, dry_run=False)
        )
        turn.state.series = data["series"]
        return turn.reply(
            wording.series_cancelled(len(done.done)),
            notify=done.notify,
            appointments=[a.id for a in done.done],
        )
    if change.kind == MOVE:
        done = series.change_series(turn.db, turn.caller, _move_command(turn, data, dry_run=False))
        if not done.written:
            return turn.reply(wording.series_refused(done.failed, names))
        turn.state.series = data["series"]
        return turn.reply(
            wording.series_moved(len(done.done), data["time"]),
            notify=done.notify,
            appointments=[a.id for a in done.done],
        )
    raise RotaError(f"unknown change {change.kind!r}")


def decline(turn: Turn) -> Reply:
    turn.state.change = None
    return turn.reply(wording.LEFT_AS_IT_WAS)

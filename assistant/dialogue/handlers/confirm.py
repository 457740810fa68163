"""confirm / decline / override / "never mind": book or move the chosen option, or let go."""

from __future__ import annotations

from datetime import datetime

from assistant.dialogue import wording
from assistant.dialogue.handlers import attendance, cancel, records, undo
from assistant.dialogue.handlers.find_slot import more, present
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, LastChange
from assistant.dialogue.turn import Turn
from assistant.usecases import appointments
from clinic.errors import BookingConflict, RuleViolation
from clinic.timeutil import parse_datetime


def confirm(turn: Turn, option: int | None, override_reason: str | None = None) -> Reply:
    state = turn.state
    if state.record:
        return records.confirm(turn, override_reason)
    if state.attendance:
        return attendance.answer(turn, option)
    if state.confirm:
        return cancel.confirm_cancel(turn, override_reason)
    options = state.options
    if not options:
        return turn.reply(wording.NOTHING_TO_CONFIRM)
    if option is None:
        if len(options) > 1:
            return turn.reply(wording.which_option(len(options)))
        option = 1
    if not 1 <= option <= len(options):
        return turn.reply(wording.no_such_option(option, len(options)))
    chosen = options[option - 1]
    request = state.request
    assert request is not None
    try:
        if state.move_of:
            before = appointments.current(turn.db, state.move_of)
            after = appointments.move(
                turn.db,
                turn.caller,
                appointments.Move(
                    before.id,
                    wording.audit_reason("move", turn.cid),
                    start=chosen.start,
                    staff=tuple(chosen.staff),
                    room=chosen.room,
                    override_reason=override_reason,
                ),
            )
            state.last_change = LastChange("move", before.id, before.as_record())
        else:
            after = appointments.book(
                turn.db,
                turn.caller,
                appointments.Book(
                    session_type=request.session_type,
                    start=chosen.start,
                    staff=tuple(chosen.staff),
                    patients=(request.patient,),
                    room=chosen.room,
                    minutes=request.minutes,
                    reason=wording.audit_reason("book", turn.cid),
                    override_reason=override_reason,
                ),
            )
            state.last_change = LastChange("book", after.id)
    except BookingConflict as exc:
        state.offered = []
        return present(turn, wording.no_longer_free(exc, turn.names()))
    except RuleViolation:
        state.awaiting_override = option
        raise
    moved = state.last_change.kind == "move"
    state.options = []
    state.awaiting_override = None
    return turn.reply(
        wording.booked(turn.describe(after), moved=moved),
        actions=[wording.UNDO_ACTION],
        appointments=[after.id],
    )


def decline(turn: Turn, frame: Frame) -> Reply:
    """ "no": keep what a confirmation question asked about, or else show other options."""
    if turn.state.record:
        return records.decline(turn)
    if turn.state.attendance:
        turn.state.attendance = None
        return turn.reply(wording.LEFT_AS_IT_WAS)
    if turn.state.confirm:
        turn.state.confirm = None
        return turn.reply(wording.LEFT_AS_IT_WAS)
    return more(turn)


def override(turn: Turn, reason: str) -> Reply:
    """ "override: <reason>": retry what a rule refused, with the reason on record."""
    waiting = turn.state.awaiting_override
    if turn.state.record:
        return records.confirm(turn, reason)
    if turn.state.attendance and turn.state.attendance.kind == "one":
        return attendance.answer(turn, None, override_reason=reason)
    if turn.state.confirm:
        return cancel.confirm_cancel(turn, reason)
    if waiting is None:
        return turn.reply(wording.NOTHING_TO_OVERRIDE)
    if waiting == "undo":
        return undo.undo(turn, override_reason=reason)
    return confirm(turn, waiting, override_reason=reason)


def drop(turn: Turn) -> Reply:
    turn.state.drop_offers()
    return turn.reply(wording.DROPPED)


def denied(turn: Turn, exc: RuleViolation) -> Reply:
    """A rule refused: say which and why; forget the attempt unless it can be overridden."""
    fired = getattr(exc.decision, "fired", []) or []
    blocking = [r for r in fired if r.get("severity") in {"deny", "require_override"}]
    overridable = any(r.get("severity") == "require_override" for r in fired)
    if not overridable:
        turn.state.awaiting_override = None
        turn.state.confirm = None
        turn.state.attendance = None
    return turn.reply(wording.denied(exc, blocking, overridable, turn.names()))


def option_named(turn: Turn, frame: Frame) -> int | None:
    """The option a confirm names: by number, else by what it is ("the 3pm one", "the thursday
    one", "the one with Dana", "the one in the Oak room") when exactly one option matches."""
    options = turn.state.options
    if frame.get("option") is not None:
        return int(frame["option"])
    window = frame.get("window")
    staff = (frame.get("staff") or {}).get("id")
    room = (frame.get("room") or {}).get("id")
    if not options or not (window or staff or room):
        return None
    matching = [
        i
        for i, o in enumerate(options, 1)
        if (window is None or _within(o.start, window, turn))
        and (staff is None or staff in o.staff)
        and (room is None or o.room == room)
    ]
    return matching[0] if len(matching) == 1 else None


def _within(start: datetime, window: dict[str, str], turn: Turn) -> bool:
    """An exact time matches by the clock (a bare "3pm" may have been read as today or
    tomorrow); a day or a part of one by the period."""
    a, b = parse_datetime(window["start"], turn.tz), parse_datetime(window["end"], turn.tz)
    if a == b:
        s, t = start.astimezone(turn.tz), a.astimezone(turn.tz)
        return (s.hour, s.minute) == (t.hour, t.minute)
    return a <= start < b

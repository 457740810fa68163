"""undo: reverse the last change made in this conversation."""

from __future__ import annotations

from datetime import datetime

from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import LastChange
from assistant.dialogue.turn import Turn
from assistant.usecases import appointments
from clinic.errors import RuleViolation


def undo(turn: Turn, override_reason: str | None = None) -> Reply:
    """Reverse the last change; a rule that refuses the reversal can be overridden like any."""
    last = turn.state.last_change
    if last is None:
        return turn.reply(wording.NOTHING_TO_UNDO)
    try:
        text, appointment = _reverse(turn, last, override_reason)
    except RuleViolation:
        turn.state.awaiting_override = "undo"
        raise
    turn.state.last_change = None
    turn.state.awaiting_override = None
    return turn.reply(text, appointments=[appointment])


def _reverse(turn: Turn, last: LastChange, override_reason: str | None) -> tuple[str, str]:
    """The change undone: what to say, and the appointment it leaves in place."""
    current = appointments.current(turn.db, last.appointment)
    reason = wording.audit_reason("undo", turn.cid)
    db, caller = turn.db, turn.caller
    if last.kind == "book":
        appointments.cancel(
            db, caller, appointments.Cancel(current.id, reason, override_reason=override_reason)
        )
        text = wording.undone_booking(turn.describe(current))
    elif last.kind == "move":
        before = last.before or {}
        current = appointments.move(
            db,
            caller,
            appointments.Move(
                current.id,
                reason,
                start=datetime.fromisoformat(before["start"]),
                staff=tuple(before["staff"]),
                room=before["room"],
                override_reason=override_reason,
            ),
        )
        text = wording.undone_move(turn.describe(current))
    else:  # a cancellation is final in the record, so undo books the same session again
        rebooked = appointments.book(
            db,
            caller,
            appointments.Book(
                session_type=current.session_type,
                start=current.start,
                staff=tuple(current.staff),
                patients=tuple(current.patients),
                room=current.room,
                group=current.group,
                reason=reason,
                override_reason=override_reason,
            ),
        )
        text = wording.undone_cancel(turn.describe(rebooked))
        current = rebooked
    return text, current.id

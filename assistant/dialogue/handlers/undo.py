"""undo: reverse the last change made in this conversation."""

from __future__ import annotations

from datetime import datetime

from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.turn import Turn
from assistant.usecases import appointments


def undo(turn: Turn) -> Reply:
    last = turn.state.last_change
    if last is None:
        return turn.reply(wording.NOTHING_TO_UNDO)
    current = appointments.current(turn.db, last.appointment)
    reason = wording.audit_reason("undo", turn.cid)
    db, caller = turn.db, turn.caller
    if last.kind == "book":
        appointments.cancel(db, caller, appointments.Cancel(current.id, reason))
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
            ),
        )
        text = wording.undone_cancel(turn.describe(rebooked))
        current = rebooked
    turn.state.last_change = None
    return turn.reply(text, appointments=[current.id])

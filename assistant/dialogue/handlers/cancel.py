"""cancel: find the patient's next appointment, ask, and cancel it on "yes"."""

from __future__ import annotations

import re
from datetime import timedelta

from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_patient
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, LastChange, PendingCancel
from assistant.dialogue.turn import Turn
from assistant.usecases import appointments
from clinic.booking import AppointmentView
from clinic.errors import InvalidInput
from clinic.queries import appointments_between

_REASON = re.compile(r"\b(?:because|reason:?|due to)\s+(.+)$", re.I)


def find_appointment(turn: Turn, frame: Frame, verb: str) -> AppointmentView | Reply:
    """The patient's next booked appointment (in the frame's window when cancelling)."""
    patient = need_patient(turn, frame)
    if isinstance(patient, Reply):
        return patient
    authorize(turn.db, turn.caller, verb, patient_id=patient)
    window = frame.get("window") if frame["intent"] == "cancel" else None
    start, end = turn.window({"window": window}, default=timedelta(days=30))
    with turn.db.read() as session:
        rows = appointments_between(session, start, end, patient=patient, include_cancelled=False)
    rows = [r for r in rows if r.status in {"booked", "proposed"}]
    if not rows:
        return turn.reply(wording.no_upcoming(turn.names()(patient)))
    return rows[0]


def cancel(turn: Turn, frame: Frame) -> Reply:
    found = find_appointment(turn, frame, "cancel")
    if isinstance(found, Reply):
        return found
    match = _REASON.search(turn.text)
    reason = (
        match.group(1).strip()
        if match
        else wording.audit_reason("cancel", turn.cid, turn.caller.name)
    )
    turn.state.confirm = PendingCancel(found.id, reason)
    text, actions = wording.confirm_cancel(turn.describe(found))
    return turn.reply(text, actions=actions, appointments=[found.id])


def confirm_cancel(turn: Turn, override_reason: str | None) -> Reply:
    """ "yes" to a cancellation (the question stays until it succeeds, for an override)."""
    pending = turn.state.confirm
    if pending is None:
        raise InvalidInput(wording.NOTHING_TO_CONFIRM_ERROR)
    appointment = appointments.cancel(
        turn.db,
        turn.caller,
        appointments.Cancel(pending.appointment, pending.reason, override_reason=override_reason),
    )
    turn.state.confirm = None
    turn.state.last_change = LastChange("cancel", appointment.id)
    return turn.reply(
        wording.cancelled(turn.describe(appointment)),
        actions=[wording.UNDO_ACTION],
        appointments=[appointment.id],
    )

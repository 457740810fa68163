"""schedule_lookup: a person's, a patient's or a room's appointments (today by default)."""

from __future__ import annotations

from assistant import schedule
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn


def lookup(turn: Turn, frame: Frame) -> Reply:
    patient = (frame.get("patient") or {}).get("id")
    staff = (frame.get("staff") or {}).get("id")
    room = (frame.get("room") or {}).get("id")
    if not (patient or staff or room):
        staff = turn.caller.staff_id
    start, end = turn.asked_period(frame, turn.today())
    rows = schedule.list_appointments(
        turn.db,
        turn.caller,
        schedule.Period(start, end),
        staff=staff,
        patient=patient,
        room=room,
    )
    names = turn.names()
    mine = staff == turn.caller.staff_id and not patient
    owner = None if mine else names(patient or staff or room)
    return turn.reply(
        wording.schedule(owner, wording.span(start, end, turn.tz), rows, names, turn.tz),
        appointments=[r["id"] for r in rows],
    )

"""emergency_intake: the earliest safe slots today, or which appointments could make room."""

from __future__ import annotations

from datetime import timedelta

from assistant import proposals
from assistant.access import authorize, may
from assistant.dialogue import wording
from assistant.dialogue.handlers.clarify import need_patient
from assistant.dialogue.handlers.find_slot import offer
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn

HORIZON = timedelta(hours=4)


def emergency(turn: Turn, frame: Frame) -> Reply:
    patient = need_patient(turn, frame)
    if isinstance(patient, Reply):
        return patient
    authorize(turn.db, turn.caller, "emergency_intake", patient_id=patient)
    frame = dict(frame)
    frame["session_type"] = frame.get("session_type") or "intake_assessment"
    start, end = turn.window(frame, default=HORIZON)
    frame["window"] = {"start": start.isoformat(), "end": end.isoformat()}
    reply = offer(turn, frame, note=wording.EARLIEST_SAFE, soonest=True)
    if any(start <= o.start < end for o in turn.state.options):
        return reply
    # Nothing inside the window (at best the nearest slots outside it): say what could make room.
    ways = proposals.emergency_bumps(turn.db, patient, frame["session_type"], start, end, turn.now)
    if ways:
        clinical = may(turn.caller, "see_clinical_detail")
        reply.reply = wording.with_bumps(
            reply.reply, ways, turn.names(), turn.tz, clinical=clinical
        )
    return reply

"""reschedule: offer new times for the patient's next appointment; booking one moves it."""

from __future__ import annotations

from assistant.dialogue import wording
from assistant.dialogue.handlers.cancel import find_appointment
from assistant.dialogue.handlers.find_slot import present
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame, SlotSearch
from assistant.dialogue.turn import Turn


def reschedule(turn: Turn, frame: Frame) -> Reply:
    found = find_appointment(turn, frame, "reschedule")
    if isinstance(found, Reply):
        return found
    start, end = turn.window(frame)
    turn.state.request = SlotSearch(
        patient=found.patients[0],
        session_type=found.session_type,
        start=start,
        end=end,
        minutes=found.minutes,
    )
    turn.state.offered = []
    turn.state.move_of = found.id
    reply = present(turn, wording.moving(turn.describe(found)))
    reply.appointments = [found.id]
    return reply

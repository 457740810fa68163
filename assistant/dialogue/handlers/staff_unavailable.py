"""staff_unavailable: an absence becomes a proposal of cover, applied only once approved."""

from __future__ import annotations

from assistant import callers
from assistant.access import may
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn
from assistant.usecases import absences


def staff_unavailable(turn: Turn, frame: Frame) -> Reply:
    staff = (frame.get("staff") or {}).get("id") or turn.caller.staff_id
    start, end = turn.asked_period(frame, (turn.now, turn.today()[1]))
    proposal = absences.report_absence(
        turn.db, turn.caller, absences.ReportAbsence(staff, max(start, turn.now), end, turn.now)
    )
    names = turn.names()
    text = wording.absence(proposal, names, turn.tz)
    if may(turn.caller, "approve_absence"):
        reply, actions = wording.apply_or_adjust(text, proposal["id"])
        return turn.reply(reply, actions=actions)
    approvers = [c.staff_id for c in callers.approvers(turn.db)]
    return turn.reply(
        wording.sent_for_approval(text, [names(a) for a in approvers], proposal["id"]),
        notify=[
            {"staff": a, "kind": "approval_needed", "proposal": proposal["id"], "text": text}
            for a in approvers
        ],
    )

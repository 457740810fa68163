"""staff_unavailable: an absence becomes a proposal of cover, applied only once approved."""

from __future__ import annotations

from assistant import proposals
from assistant.access import authorize, may
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.state import Frame
from assistant.dialogue.turn import Turn


def staff_unavailable(turn: Turn, frame: Frame) -> Reply:
    staff = (frame.get("staff") or {}).get("id") or turn.caller.staff_id
    if staff != turn.caller.staff_id:
        authorize(turn.db, turn.caller, "report_absence_for_others")
    start, end = turn.asked_period(frame, (turn.now, turn.today()[1]))
    proposal = proposals.propose_absence(
        turn.db, turn.caller, staff, max(start, turn.now), end, turn.now
    )
    names = turn.names()
    text = wording.absence(proposal, names, turn.tz)
    if may(turn.caller, "approve_absence"):
        reply, actions = wording.apply_or_adjust(text, proposal["id"])
        return turn.reply(reply, actions=actions)
    approvers = proposals.approvers(turn.db)
    return turn.reply(
        wording.sent_for_approval(text, [names(a) for a in approvers], proposal["id"]),
        notify=[
            {"staff": a, "kind": "approval_needed", "proposal": proposal["id"], "text": text}
            for a in approvers
        ],
    )

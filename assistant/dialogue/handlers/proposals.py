"""Proposals waiting for approval: list them, apply one, or set one aside."""

from __future__ import annotations

from assistant import proposals
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.turn import Turn


def waiting(turn: Turn) -> Reply:
    authorize(turn.db, turn.caller, "approve_absence")
    pending = proposals.pending(turn.db)
    if not pending:
        return turn.reply(wording.NOTHING_TO_APPROVE)
    names = turn.names()
    text, actions = wording.proposals_waiting(
        [(p["id"], wording.absence(p, names, turn.tz)) for p in pending]
    )
    return turn.reply(text, actions=actions)


def apply(turn: Turn, proposal_id: str | None) -> Reply:
    authorize(turn.db, turn.caller, "approve_absence")
    outcome = proposals.apply(turn.db, turn.caller, proposal_id)
    return turn.reply(wording.applied(outcome, turn.names()), notify=outcome["notify"])


def reject(turn: Turn, proposal_id: str | None) -> Reply:
    authorize(turn.db, turn.caller, "approve_absence")
    return turn.reply(wording.set_aside(proposals.reject(turn.db, turn.caller, proposal_id)))

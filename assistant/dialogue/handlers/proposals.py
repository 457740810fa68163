"""Proposals waiting for approval: list them, apply one, adjust one (another cover for a
session, or withdraw the absence), or set one aside. Each is one use case call."""

from __future__ import annotations

from typing import Any

from assistant.access import may
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.turn import Turn
from assistant.usecases import absences, emergencies, knock_on
from clinic.errors import InvalidInput, NotFound

MAX_SESSIONS = 8  # sessions offered for another cover in one answer (Slack shows one row each)


def waiting(turn: Turn) -> Reply:
    pending = absences.pending(turn.db, turn.caller)
    if not pending:
        return turn.reply(wording.NOTHING_TO_APPROVE)
    names = turn.names()
    clinical = may(turn.caller, "see_clinical_detail")

    def described(p: dict[str, Any]) -> str:
        if p["kind"] == emergencies.KIND:
            return wording.emergency_waiting(p, names, turn.tz, clinical=clinical)
        if p["kind"] == knock_on.KIND:
            return wording.knock_on_proposal(p, names, turn.tz)
        return wording.absence(p, names, turn.tz)

    text, actions = wording.proposals_waiting([(p["id"], described(p)) for p in pending])
    return turn.reply(text, actions=actions)


def apply(turn: Turn, proposal_id: str | None) -> Reply:
    """ "approve" / "apply P-…": the one use case every door applies a proposal through."""
    outcome = absences.apply_proposal(turn.db, turn.caller, absences.ApplyProposal(proposal_id))
    if outcome["kind"] == emergencies.KIND:
        text = wording.emergency_applied(outcome, turn.names(), turn.tz)
        return turn.reply(
            text, notify=outcome["notify"], appointments=[outcome["booked"]["appointment"]]
        )
    return turn.reply(wording.applied(outcome, turn.names()), notify=outcome["notify"])


def reject(turn: Turn, proposal_id: str | None) -> Reply:
    rejected = absences.reject_proposal(turn.db, turn.caller, absences.RejectProposal(proposal_id))
    return turn.reply(wording.set_aside(rejected))


def withdraw(turn: Turn, proposal_id: str | None) -> Reply:
    done = absences.withdraw_absence(turn.db, turn.caller, absences.WithdrawAbsence(proposal_id))
    return turn.reply(wording.withdrawn(done["id"], turn.names()(done["staff"])))


def adjust(turn: Turn, proposal_id: str | None) -> Reply:
    """Each session of the proposal, who covers it now and who else could."""
    proposal = _pending(turn, proposal_id)
    names = turn.names()
    sessions = []
    for n, entry in enumerate(_sessions(proposal)[:MAX_SESSIONS], start=1):
        others = absences.covers(turn.db, turn.caller, proposal["id"], entry["appointment"])
        sessions.append((n, entry, others))
    text, actions = wording.adjust_menu(
        proposal["id"], names(proposal["staff"]), sessions, names, turn.tz
    )
    return turn.reply(text, actions=actions)


def cover(turn: Turn, proposal_id: str | None, number: int, who: str) -> Reply:
    """'cover 2 with Chad Davis': that session is covered by them, at its own time."""
    proposal = _pending(turn, proposal_id)
    sessions = _sessions(proposal)
    if not 1 <= number <= len(sessions):
        raise InvalidInput(wording.no_such_session(number, len(sessions)))
    staff = _staff_named(turn, who)
    updated = absences.change_cover(
        turn.db,
        turn.caller,
        absences.ChangeCover(proposal["id"], sessions[number - 1]["appointment"], (staff,)),
    )
    names = turn.names()
    text, actions = wording.apply_or_adjust(wording.absence(updated, names, turn.tz), updated["id"])
    return turn.reply(wording.cover_chosen(names(staff), number) + text, actions=actions)


def _pending(turn: Turn, proposal_id: str | None) -> dict[str, Any]:
    pending = absences.pending(turn.db, turn.caller)
    absences_only = [p for p in pending if p["kind"] != emergencies.KIND or p["id"] == proposal_id]
    for proposal in reversed(absences_only):  # no id: the newest sick call's
        if proposal_id in (None, proposal["id"]):
            return proposal
    raise NotFound(wording.no_pending_proposal(proposal_id))


def _sessions(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """The proposal's sessions in a stable order (a new cover does not renumber them)."""
    entries = [*proposal["moves"], *proposal["unplaced"]]
    return sorted(entries, key=lambda e: (e["before"]["start"], e["appointment"]))


def _staff_named(turn: Turn, who: str) -> str:
    """A staff id from an id, a full name, or a first or last name that only one person has."""
    wanted = who.strip().casefold()
    staff = turn.facts.roster().staff
    for entry in staff:
        if wanted in {entry.id.casefold(), entry.name.casefold()}:
            return entry.id
    matches = [e.id for e in staff if wanted in e.name.casefold().split()]
    if len(matches) == 1:
        return matches[0]
    raise InvalidInput(wording.unknown_staff(who, len(matches)))

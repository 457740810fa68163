"""'open <patient> — reason: …': a clinician opens a patient outside their caseload in an
emergency (break the glass). The role and the reason are judged by assistant.break_glass through
the use cases' own authorization; the answer is the record's essentials and the agenda."""

from __future__ import annotations

from datetime import timedelta

from assistant import break_glass, schedule
from assistant.access import authorize
from assistant.dialogue import wording
from assistant.dialogue.reply import Reply
from assistant.dialogue.turn import Turn
from assistant.parse.names import index_for
from assistant.usecases import patients

BEFORE, AFTER = timedelta(days=7), timedelta(days=21)
"""The agenda shown: as the patient page's."""


def open_patient(turn: Turn, who: str, reason: str) -> Reply:
    authorize(turn.db, turn.caller, break_glass.ACTION)  # front desk, intake: refused by role
    found = _patients(turn, who)
    if not found:
        return turn.reply(f"{wording.unknown_patient(who)} {wording.OPEN_HOW}")
    if len(found) > 1:
        listed = " or ".join(turn.names()(p) for p in found[:5])
        return turn.reply(f"Which patient — {listed}? Say 'open' with their full name.")
    patient = found[0]
    emergency = break_glass.of(reason, turn.door) or break_glass.Emergency(None, turn.door)
    shown = patients.show(turn.db, turn.caller, patients.Show(patient, emergency))
    rows = schedule.list_appointments(
        turn.db,
        turn.caller,
        schedule.Period(turn.now - BEFORE, turn.now + AFTER),
        patient=patient,
        emergency=emergency,
    )
    names = turn.names()
    period = wording.span(turn.now - BEFORE, turn.now + AFTER, turn.tz)
    text = wording.schedule(names(patient), period, rows, names, turn.tz)
    return turn.reply(
        wording.opened(names(patient), shown["patient"], names, text),
        appointments=[r["id"] for r in rows],
    )


def _patients(turn: Turn, who: str) -> list[str]:
    """The patients `who` names: an id, or a name on the roster (forgiving a misspelling)."""
    roster = turn.facts.roster()
    if any(p.id == who.strip() for p in roster.patients):
        return [who.strip()]
    hits = index_for(roster).find(who)
    return sorted({p.id for h in hits for p in h.people if p.kind == "patient"})

"""The proposals waiting for a decision, in plain words for a person (the web's Approvals page):
who moves, from when to when, and why; and whether this caller may decide each one.

Who may see and decide comes from the permissions pack (assistant.access.may): the actions
that decide a proposal of each kind are the ones absences.apply_proposal authorizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from assistant.access import may, session_fields
from assistant.usecases import absences, emergencies, knock_on, morning_plan
from assistant.usecases.records import names
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.tokens import Caller

DECIDER = {
    emergencies.KIND: emergencies.APPROVE,
    knock_on.KIND: knock_on.APPROVE,
}
"""Who may decide a proposal, by kind (every other kind: absences.APPROVE), as apply does."""
KIND_WORDS = {
    "absence": "Sick call",
    emergencies.KIND: "Emergency admission",
    knock_on.KIND: "Running late",
    morning_plan.KIND: "Morning plan",
}


@dataclass(frozen=True)
class Line:
    """One change of a proposal: who, from when to when, why."""

    appointment: str | None
    who: str
    before: str | None
    after: str | None
    why: str


@dataclass(frozen=True)
class ProposalView:
    id: str
    kind: str
    title: str
    summary: str
    lines: tuple[Line, ...]
    may_decide: bool
    adjustable: bool
    """A sick call's sessions can be given another cover before it is applied."""


def decider_of(kind: str) -> str:
    return DECIDER.get(kind, absences.APPROVE)


def waiting_for(db: Database, caller: Caller) -> list[ProposalView]:
    """Pending proposals the caller's role may see, oldest first; PermissionDenied when the
    role decides no kind of proposal at all."""
    deciders = {absences.APPROVE, *DECIDER.values()}
    if not any(may(caller, action) for action in deciders):
        raise PermissionDenied(
            f"a {caller.role.replace('_', ' ')} does not approve schedule changes"
        )
    tz = db.facility_tz()
    known = names(db)
    out = []
    for proposal in absences.waiting(db):
        deciding = may(caller, decider_of(proposal["kind"]))
        if not (deciding or may(caller, absences.APPROVE)):
            continue
        out.append(describe(proposal, known, tz, deciding, caller))
    return out


def describe(
    proposal: dict[str, Any], known: dict[str, str], tz: ZoneInfo, may_decide: bool, caller: Caller
) -> ProposalView:
    """The proposal in words, each session's type only where the caller may see it (the
    front desk decides a late patient's knock-on from times, rooms and names)."""
    kind = proposal["kind"]

    def name(i: str | None) -> str:
        return known.get(i or "", i or "someone")

    def when(iso: str | None) -> str:
        if not iso:
            return ""
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%a %d %b %H:%M")

    def place(slot: dict[str, Any]) -> str:
        staff = ", ".join(name(s) for s in slot.get("staff") or []) or "no clinician"
        room = f", {name(slot['room'])}" if slot.get("room") else ""
        return f"{when(slot.get('start'))} with {staff}{room}"

    def who(slot: dict[str, Any]) -> str:
        shown = "session_type" in session_fields(caller, slot.get("staff") or [])
        kind_words = str((shown and slot.get("session_type")) or "session").replace("_", " ")
        people = ", ".join(name(p) for p in slot.get("patients") or [])
        return f"{people} — {kind_words}" if people else kind_words

    lines = [
        Line(
            m["appointment"],
            who(m["before"]),
            place(m["before"]),
            place(m["after"]),
            str(m.get("reason") or ""),
        )
        for m in proposal.get("moves", [])
    ]
    lines += [
        Line(
            u["appointment"],
            who(u["before"]),
            place(u["before"]),
            None,
            str(u.get("reason") or "no place found"),
        )
        for u in [*proposal.get("unplaced", []), *proposal.get("cancel", [])]
    ]
    if kind == morning_plan.KIND:
        lines += [
            Line(None, who(b), None, place(b), "open demand the plan places")
            for b in proposal.get("bookings", [])
        ]
    if kind == emergencies.KIND:
        slot = proposal["slot"]
        lines.append(
            Line(
                None,
                who({"patients": [proposal["patient"]], "session_type": proposal["session_type"]}),
                None,
                place(slot),
                "the emergency admission, booked once room is made",
            )
        )
    if kind == "absence" and proposal.get("room"):
        summary = f"{name(proposal['room'])} closed from {when(proposal['start'])} to {when(proposal['end'])}"
    elif kind == "absence":
        summary = f"{name(proposal['staff'])} is out from {when(proposal['start'])} to {when(proposal['end'])}"
    elif kind == morning_plan.KIND:
        summary = f"The plan for {proposal.get('day', 'the coming days')}: {len(proposal.get('bookings', []))} new sessions"
    else:
        summary = f"{len(lines)} changes"
    return ProposalView(
        id=proposal["id"],
        kind=kind,
        title=KIND_WORDS.get(kind, kind.replace("_", " ").capitalize()),
        summary=summary,
        lines=tuple(lines),
        may_decide=may_decide,
        adjustable=may_decide and kind == "absence" and bool(lines),
    )


def one(db: Database, caller: Caller, proposal_id: str) -> ProposalView | None:
    """One pending proposal as `waiting_for` shows it (None when it is no longer pending)."""
    return next((p for p in waiting_for(db, caller) if p.id == proposal_id), None)

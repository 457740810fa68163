"""The Approvals page: pending sick-call, emergency and morning-plan proposals with their changes
in plain words; Apply, Reject and (a sick call's) another cover for a session, each through the
same use cases as "apply P-…" in chat and POST /api/proposals/{id}/apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from assistant.usecases import absences, approval_views
from assistant.usecases.records import names
from clinic.db import Database
from integrations.web.render import fragment, page
from integrations.web.session import Visitor

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class CoverForm:
    appointment: str
    staff: str


@get("/approvals", sync_to_thread=True)
def approvals_page(db: NamedDependency[Database], visitor: NamedDependency[Visitor]) -> Template:
    proposals = approval_views.waiting_for(db, visitor.caller)
    return page(
        "approvals.html", visitor, title="Approvals — Rota", active="approvals", proposals=proposals
    )


@post("/approvals/{proposal_id:str}/apply", sync_to_thread=True, status_code=200)
def apply(
    db: NamedDependency[Database], visitor: NamedDependency[Visitor], proposal_id: FromPath[str]
) -> Template:
    view = approval_views.one(db, visitor.caller, proposal_id)
    outcome = absences.apply_proposal(db, visitor.caller, absences.ApplyProposal(proposal_id))
    known = names(db)
    told = [known.get(n["staff"], n["staff"]) for n in outcome.get("notify", []) if n.get("staff")]
    return fragment(
        "approvals_outcome.html", visitor, view=view, outcome=outcome, decision="applied", told=told
    )


@post("/approvals/{proposal_id:str}/reject", sync_to_thread=True, status_code=200)
def reject(
    db: NamedDependency[Database], visitor: NamedDependency[Visitor], proposal_id: FromPath[str]
) -> Template:
    view = approval_views.one(db, visitor.caller, proposal_id)
    absences.reject_proposal(db, visitor.caller, absences.RejectProposal(proposal_id))
    return fragment(
        "approvals_outcome.html", visitor, view=view, outcome={}, decision="rejected", told=[]
    )


@get("/approvals/{proposal_id:str}/covers/{appointment:str}", sync_to_thread=True)
def covers(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    proposal_id: FromPath[str],
    appointment: FromPath[str],
) -> Template:
    """Who could take this session instead (the booking service judges each now)."""
    found = absences.covers(db, visitor.caller, proposal_id, appointment)
    known = names(db)
    return fragment(
        "approvals_covers.html",
        visitor,
        proposal_id=proposal_id,
        appointment=appointment,
        covers=[{"id": s, "name": known.get(s, s)} for s in found],
    )


@post("/approvals/{proposal_id:str}/cover", sync_to_thread=True, status_code=200)
def change_cover(
    db: NamedDependency[Database],
    visitor: NamedDependency[Visitor],
    proposal_id: FromPath[str],
    data: Annotated[CoverForm, FORM],
) -> Template:
    """Give one session another cover; the proposal stays pending, shown again with it."""
    absences.change_cover(
        db, visitor.caller, absences.ChangeCover(proposal_id, data.appointment, (data.staff,))
    )
    view = approval_views.one(db, visitor.caller, proposal_id)
    return fragment("approvals_card.html", visitor, p=view)


HANDLERS: list[Any] = [approvals_page, apply, reject, covers, change_cover]

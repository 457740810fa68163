"""REST resources over proposals (a sick call's repair, an emergency admission's bumps): list
what waits, apply or reject one. The same use cases as "approve" and "reject P-…" in chat."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from assistant.usecases import absences
from clinic.db import Database
from clinic.tokens import Caller
from integrations.http.api import ApiController


class ProposalController(ApiController):
    path = "/api/proposals"
    tags = ["proposals"]

    @get("", sync_to_thread=True)
    def waiting(
        self, db: NamedDependency[Database], caller: NamedDependency[Caller]
    ) -> dict[str, Any]:
        """Proposals waiting for a decision, oldest first."""
        return {"proposals": absences.pending(db, caller)}

    @post("/{proposal_id:str}/apply", sync_to_thread=True, status_code=200)
    def apply(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        proposal_id: FromPath[str],
    ) -> dict[str, Any]:
        """Make every change of the proposal, all or nothing, exactly once (409 when the
        schedule changed under it: nothing is changed and it stays pending)."""
        return absences.apply_proposal(db, caller, absences.ApplyProposal(proposal_id))

    @post("/{proposal_id:str}/reject", sync_to_thread=True, status_code=200)
    def reject(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        proposal_id: FromPath[str],
    ) -> dict[str, Any]:
        """Set the proposal aside; nothing changes."""
        return {"id": absences.reject_proposal(db, caller, absences.RejectProposal(proposal_id))}

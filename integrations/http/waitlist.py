"""/api/waitlist: patients waiting for a freed time, and the offers made to them.

POST adds an entry, GET lists them, DELETE /{id} withdraws one; GET /offers lists the open
offers and POST /offers/{id}/accept books one for the patient (the first to accept wins: a
later acceptance of the same time is a 409 "that time was just taken", and the patient stays
on the list)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from assistant.usecases import waitlist
from clinic.db import Database
from clinic.tokens import Caller
from clinic.waitlist_models import ENTRY_STATUSES, OFFER_STATUSES
from integrations.http.api import ApiController
from integrations.http.auth import BOOKING
from integrations.http.fields import WEEKDAYS, OptionalTimeOfDay, RowId, described


@dataclass(frozen=True)
class NewEntry:
    """Who waits for what: a session type, optionally a clinician, weekdays ("tue"), a time of
    day (facility time, "08:00"-"12:00"), dates, and a priority (0 normal, 1 high, 2 urgent)."""

    patient: str
    session_type: str
    staff: str | None = None
    days: Annotated[
        list[str] | None, described(schema_extra={"items": {"type": "string", "enum": WEEKDAYS}})
    ] = None
    time_from: OptionalTimeOfDay = None
    time_until: OptionalTimeOfDay = None
    earliest: date | None = None
    latest: date | None = None
    priority: Annotated[
        int, described("0 normal, 1 high, 2 urgent", le=2, schema_extra={"minimum": 0})
    ] = 0
    note: str | None = None


class WaitlistController(ApiController):
    path = "/api/waitlist"
    tags = ["waitlist"]

    @post("/", sync_to_thread=True, status_code=201)
    def add(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: JSONBody[NewEntry],
    ) -> dict[str, Any]:
        """Put a patient on the waitlist."""
        cmd = waitlist.AddEntry(
            patient=data.patient,
            session_type=data.session_type,
            staff=data.staff,
            days=tuple(data.days or ()),
            time_from=data.time_from,
            time_until=data.time_until,
            earliest=data.earliest,
            latest=data.latest,
            priority=data.priority,
            note=data.note,
        )
        return waitlist.as_record(waitlist.add(db, caller, cmd))

    @get("/", sync_to_thread=True)
    def list_entries(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        status: list[str] | None = QueryParameter(
            default=None, schema_extra={"items": {"type": "string", "enum": ENTRY_STATUSES}}
        ),
        patient: FromQuery[str | None] = None,
    ) -> list[dict[str, Any]]:
        """Who is waiting (and who has an offer open), oldest first."""
        cmd = waitlist.ListEntries(patient=patient)
        if status:
            cmd = waitlist.ListEntries(statuses=tuple(status), patient=patient)
        return [waitlist.as_record(e) for e in waitlist.entries(db, caller, cmd)]

    @delete("/{entry_id:int}", sync_to_thread=True, status_code=200)
    def withdraw(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        entry_id: RowId,
        reason: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Take an entry off the list (its open offers close)."""
        return waitlist.as_record(
            waitlist.withdraw(db, caller, waitlist.Withdraw(entry_id, reason=reason))
        )

    @get("/offers", sync_to_thread=True)
    def list_offers(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        status: list[str] | None = QueryParameter(
            default=None, schema_extra={"items": {"type": "string", "enum": OFFER_STATUSES}}
        ),
    ) -> list[dict[str, Any]]:
        """Offers (open ones by default), newest first, each with its rank's reasons."""
        cmd = waitlist.ListOffers(statuses=tuple(status)) if status else waitlist.ListOffers()
        return [waitlist.as_record(o) for o in waitlist.offers(db, caller, cmd)]

    @post("/offers/{offer_id:int}/accept", sync_to_thread=True, status_code=200, opt=BOOKING)
    def accept(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        offer_id: RowId,
    ) -> dict[str, Any]:
        """Book the offered time for the patient (409 when someone else just took it)."""
        return waitlist.as_record(waitlist.accept(db, caller, waitlist.AcceptOffer(offer_id)))

"""A patient's paperwork: payer authorizations (add, renew, adjust), court orders (add, end) and
Part 2 consents (record, revoke). Each is a change to the patient's record in the facility
file's shape, made by `patients.change_record`: one authorization step, the file's own checks,
one transaction, one audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from assistant.usecases.patients import (
    Record,
    authorization_index,
    change_record,
    facility_today,
    items_of,
    new_id,
)
from clinic.consents import in_force
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.timeutil import parse_date
from clinic.tokens import Caller


@dataclass(frozen=True)
class AddAuthorization:
    patient_id: str
    authorization: Record
    reason: str | None = None


@dataclass(frozen=True)
class RenewAuthorization:
    """A new period of the same payer's authorization (same session types unless given)."""

    patient_id: str
    authorization_id: str
    start: str
    end: str
    units: int
    new_id: str | None = None
    session_types: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class AdjustAuthorization:
    """Change units, dates, session types or documented use of one authorization."""

    patient_id: str
    authorization_id: str
    changes: Record
    reason: str | None = None


@dataclass(frozen=True)
class AddCourtOrder:
    patient_id: str
    court_order: Record
    reason: str | None = None


@dataclass(frozen=True)
class EndCourtOrder:
    patient_id: str
    end: str
    reason: str | None = None


@dataclass(frozen=True)
class RecordConsent:
    """A Part 2 consent: to whom, what, until when (the file's `contact.consents` item)."""

    patient_id: str
    consent: Record
    reason: str | None = None


@dataclass(frozen=True)
class RevokeConsent:
    patient_id: str
    recipient: str
    reason: str | None = None
    on: date | None = None


# ------------------------------------------------------------------------------------ use cases


def add_authorization(db: Database, caller: Caller, cmd: AddAuthorization) -> Record:
    if not isinstance(cmd.authorization, dict):
        raise InvalidInput("an authorization must be a JSON object", ["$: expected an object"])

    def edit(record: Record, session: Session) -> Record:
        auth = {"id": new_id("AUTH"), **cmd.authorization}
        return {**record, "authorizations": [*items_of(record, "authorizations"), auth]}

    return change_record(
        db,
        caller,
        cmd.patient_id,
        "manage_authorizations",
        "authorization.add",
        cmd.reason,
        edit,
    )


def renew_authorization(db: Database, caller: Caller, cmd: RenewAuthorization) -> Record:
    """A new authorization of the same payer for the next period (the old one stays as it
    was: its units were for its own period)."""

    def edit(record: Record, session: Session) -> Record:
        auths = items_of(record, "authorizations")
        old = auths[authorization_index(auths, cmd.authorization_id)]
        new = {
            "id": cmd.new_id or new_id("AUTH"),
            "payer": old["payer"],
            "session_types": list(cmd.session_types) or old["session_types"],
            "units": cmd.units,
            "used": 0,
            "start": cmd.start,
            "end": cmd.end,
        }
        return {**record, "authorizations": [*auths, new]}

    return change_record(
        db,
        caller,
        cmd.patient_id,
        "manage_authorizations",
        "authorization.renew",
        cmd.reason,
        edit,
    )


ADJUSTABLE = ("units", "used", "start", "end", "session_types")


def adjust_authorization(db: Database, caller: Caller, cmd: AdjustAuthorization) -> Record:
    unknown = sorted(set(cmd.changes) - set(ADJUSTABLE))
    if unknown:
        raise InvalidInput(
            f"an authorization's {', '.join(unknown)} cannot be adjusted "
            f"(only {', '.join(ADJUSTABLE)}; a new payer is a new authorization)",
            [f"$.{key}: cannot be adjusted" for key in unknown],
        )

    def edit(record: Record, session: Session) -> Record:
        auths = [dict(a) for a in items_of(record, "authorizations")]
        index = authorization_index(auths, cmd.authorization_id)
        auths[index].update(cmd.changes)
        return {**record, "authorizations": auths}

    return change_record(
        db,
        caller,
        cmd.patient_id,
        "manage_authorizations",
        "authorization.adjust",
        cmd.reason,
        edit,
    )


def add_court_order(db: Database, caller: Caller, cmd: AddCourtOrder) -> Record:
    """The patient's court order (a patient has one at a time: a new order replaces one that
    has ended)."""

    def edit(record: Record, session: Session) -> Record:
        current = record.get("court_order")
        if current and parse_date(current["end"]) >= facility_today(db):
            raise InvalidInput(
                f"patient {cmd.patient_id} already has court order {current['case_number']} "
                f"in force until {current['end']}; end it first",
                ["$.court_order: a court order is already in force"],
            )
        return {**record, "court_order": cmd.court_order}

    return change_record(
        db, caller, cmd.patient_id, "update_patient", "court_order.add", cmd.reason, edit
    )


def end_court_order(db: Database, caller: Caller, cmd: EndCourtOrder) -> Record:
    def edit(record: Record, session: Session) -> Record:
        order = record.get("court_order")
        if not order:
            raise NotFound(f"patient {cmd.patient_id} has no court order")
        return {**record, "court_order": {**order, "end": cmd.end}}

    return change_record(
        db, caller, cmd.patient_id, "update_patient", "court_order.end", cmd.reason, edit
    )


def record_consent(db: Database, caller: Caller, cmd: RecordConsent) -> Record:
    """Record a consent (`contact.consents`); every disclosure check reads it from now on."""
    if not isinstance(cmd.consent, dict):
        raise InvalidInput("a consent must be a JSON object", ["$: expected an object"])

    def edit(record: Record, session: Session) -> Record:
        contact = dict(record.get("contact") or {})
        consent = {"given": facility_today(db).isoformat(), **cmd.consent}
        contact["consents"] = [*contact.get("consents", []), consent]
        return {**record, "contact": contact}

    return change_record(
        db, caller, cmd.patient_id, "manage_consents", "consent.record", cmd.reason, edit
    )


def revoke_consent(db: Database, caller: Caller, cmd: RevokeConsent) -> Record:
    """Revoke every consent in force to the recipient, from today (or `on`). A recipient only
    in the file's plain list is recorded as revoked too, so it stops counting."""

    def edit(record: Record, session: Session) -> Record:
        on = cmd.on or facility_today(db)
        contact = dict(record.get("contact") or {})
        consents = [dict(c) for c in contact.get("consents", [])]
        wanted = cmd.recipient.strip().lower()
        hits = [c for c in consents if c["recipient"].lower() == wanted and in_force(c, on)]
        plain = [r for r in contact.get("consent_disclose_to", []) if r.lower() == wanted]
        if not hits and not plain:
            raise InvalidInput(
                f"patient {cmd.patient_id} has no consent in force to disclose to "
                f"{cmd.recipient!r}",
                ["$.recipient: no consent in force to this recipient"],
            )
        for consent in hits:
            consent["revoked"] = on.isoformat()
        if not hits:  # given before Rota: record it, revoked, so it decides from now on
            consents.append(
                {"recipient": plain[0], "information": "as given", "revoked": on.isoformat()}
            )
        contact["consents"] = consents
        return {**record, "contact": contact}

    return change_record(
        db, caller, cmd.patient_id, "manage_consents", "consent.revoke", cmd.reason, edit
    )

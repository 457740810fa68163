"""The outbox as people see it: what is queued, sent or dead, and a dead message retried;
patients' replies to reminders, recorded and listed for their case managers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant import outbox
from assistant.access import authorize, permits
from assistant.usecases import waitlist
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import Appointment, AppointmentPatient, Patient
from clinic.outbox_models import PatientReply
from clinic.timeutil import now_utc
from clinic.tokens import Caller

MANAGE = "manage_outbox"
VIEW_REPLIES = "view_replies"
ANSWERS = {"C": "confirm", "R": "callback", "Y": "accept"}  # Y/YES takes a waitlist offer


@dataclass(frozen=True)
class ListMessages:
    dead: bool = False
    limit: int = 50


@dataclass(frozen=True)
class Retry:
    message_id: int


def list_messages(db: Database, caller: Caller, cmd: ListMessages) -> list[outbox.MessageView]:
    authorize(db, caller, MANAGE)
    if cmd.limit < 1:
        raise InvalidInput("limit must be at least 1", problems=["$.limit: must be at least 1"])
    with db.read() as session:
        return outbox.rows(session, ["dead"] if cmd.dead else [], cmd.limit)


def retry(db: Database, caller: Caller, cmd: Retry) -> outbox.MessageView:
    authorize(db, caller, MANAGE)
    with db.session() as session:
        return outbox.revive(session, cmd.message_id, now_utc(), caller.staff_id)


# --- replies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordReply:
    """An SMS that came back: who from, what it said, the provider's id for it."""

    phone: str
    body: str
    message_id: str


@dataclass(frozen=True)
class ReplyView:
    id: int
    patient: str | None
    answer: str
    appointments: tuple[str, ...]
    received_at: datetime


def record_reply(db: Database, cmd: RecordReply) -> ReplyView | None:
    """Record what a patient answered: "C" confirms, "R" asks for a call back, "Y" accepts their
    open waitlist offer (anything else is kept as unknown, so a person calls). The words
    themselves are not kept. None when the provider sent the same message again. Called by the
    SMS webhook, whose signature is the caller's authority."""
    if not cmd.message_id.strip():
        raise InvalidInput("the reply has no message id", problems=["$.MessageSid: required"])
    now = now_utc()
    answer = ANSWERS.get(cmd.body.strip().upper()[:1], "unknown")
    try:
        with db.session() as session:
            patient = _patient_by_phone(session, cmd.phone)
            appointments = _next_booked(session, patient, now) if patient else []
            row = PatientReply(
                key=cmd.message_id,
                patient_id=patient,
                answer=answer,
                appointment_ids=appointments,
                received_at=now,
            )
            session.add(row)
            session.flush()
            append_event(
                session,
                actor="sms",
                action="patient.reply",
                entity_type="patient",
                entity_id=patient,
                after={"answer": answer, "appointments": appointments},
            )
            view = _reply_view(row)
    except IntegrityError:  # the provider retried a webhook it had already delivered
        return None
    if answer == "accept" and patient:  # first to accept books it; a loser is told by SMS
        waitlist.accept_by_sms(db, patient)
    return view


def replies(db: Database, caller: Caller, *, since: datetime | None = None) -> list[ReplyView]:
    """The answers patients sent, newest first; a case manager sees their own caseload's."""
    authorize(db, caller, VIEW_REPLIES)
    with db.read() as session:
        query = select(PatientReply).order_by(PatientReply.id.desc())
        if since is not None:
            query = query.where(PatientReply.received_at >= since)
        rows = [_reply_view(r) for r in session.scalars(query)]
    return [r for r in rows if r.patient is None or _may_see(db, caller, r.patient)]


def _may_see(db: Database, caller: Caller, patient: str) -> bool:
    return permits(db, caller, VIEW_REPLIES, patient_id=patient)


def _reply_view(row: PatientReply) -> ReplyView:
    return ReplyView(
        row.id, row.patient_id, row.answer, tuple(row.appointment_ids), row.received_at
    )


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-10:]


def _patient_by_phone(session: Session, phone: str) -> str | None:
    wanted = _digits(phone)
    if not wanted:
        return None
    for pid, contact in session.execute(select(Patient.id, Patient.contact)):
        if contact and _digits(str(contact.get("phone") or "")) == wanted:
            return pid
    return None


def _next_booked(session: Session, patient: str, now: datetime) -> list[str]:
    """The patient's next booked session: what a "C" or an "R" answers."""
    first = session.scalar(
        select(Appointment.id)
        .join(AppointmentPatient, AppointmentPatient.appointment_id == Appointment.id)
        .where(
            AppointmentPatient.patient_id == patient,
            Appointment.active,
            Appointment.status == "booked",
            Appointment.start > now,
        )
        .order_by(Appointment.start)
        .limit(1)
    )
    return [first] if first else []


def as_record(view: Any) -> dict[str, Any]:
    """A view as JSON (times in ISO)."""
    out = {}
    for key, value in vars(view).items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
        if isinstance(value, tuple):
            out[key] = list(value)
    return out

"""Standing therapy groups as the clinic's day changes them: created, members enrolled and
removed, ended.

Enrolment is judged by the rule packs' `enroll` action (groups pack: closed cohorts, size, the
group's capacity, keep-apart pairs), through the same rules service as a booking, inside the
transaction that writes it; a refusal names the rule and the request's field (`$.patient`).
The group record is the facility file's (checked by its validator, written by its row builder).
Ending a group cancels its future sessions through the booking service, with the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.access import authorize
from assistant.wiring import booking_service
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, RuleViolation
from clinic.facility_file.export import group_record
from clinic.facility_file.load import group_row, insert_group_people
from clinic.facility_file.records import check_record
from clinic.models import SCHEDULED_STATUSES, Appointment, Group, Patient, group_member
from clinic.placement import load_row
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from rules.facts import build_situation
from rules.policy import to_policy_decision
from rules.service import default_service

MANAGE = "manage_groups"
ENROLL = "enroll"


@dataclass(frozen=True)
class CreateGroup:
    record: dict[str, Any]
    """The facility file's group object; each member is enrolled as `Enrol` would."""


@dataclass(frozen=True)
class Enrol:
    group_id: str
    patient_id: str
    now: datetime | None = None
    """From when the group's booked sessions take the new member (default: now)."""


@dataclass(frozen=True)
class Unenrol:
    group_id: str
    patient_id: str
    now: datetime | None = None


@dataclass(frozen=True)
class EndGroup:
    group_id: str
    now: datetime
    reason: str | None = None
    override_reason: str | None = None


def create_group(db: Database, caller: Caller, cmd: CreateGroup) -> dict[str, Any]:
    authorize(db, caller, MANAGE)
    record = cmd.record
    with db.session() as session:
        check_record(session, "groups", record)
        position = (session.scalar(select(func.max(Group.position))) or 0) + 1
        session.add(group_row(record, position))
        session.flush()
        insert_group_people(session, {**record, "members": []})
        for i, patient in enumerate(record["members"]):
            _enrol_in(session, caller, record["id"], patient, field=f"$.members[{i}]")
        session.flush()
        created = group_record(_group(session, record["id"]))
        append_event(
            session,
            actor=caller.staff_id,
            action="group.create",
            entity_type="group",
            entity_id=record["id"],
            after=created,
        )
    return created


def enrol(db: Database, caller: Caller, cmd: Enrol) -> dict[str, Any]:
    """Add a patient to a group (rules `enroll`) and to its booked sessions ahead (each moved
    through the booking service; one the patient cannot join is listed with why). Returns
    `{"group": the group record, "joined": [ids], "not_joined": [{appointment, reason}]}`."""
    authorize(db, caller, ENROLL, patient_id=cmd.patient_id)
    with db.session() as session:
        decision = _enrol_in(session, caller, cmd.group_id, cmd.patient_id, field="$.patient")
        after = group_record(_group(session, cmd.group_id))
        check_record(session, "groups", after, replaces=cmd.group_id)
        joined, not_joined = _sessions_ahead_change(
            db, session, caller, cmd.group_id, cmd.patient_id, cmd.now or now_utc(), join=True
        )
        append_event(
            session,
            actor=caller.staff_id,
            action="group.enroll",
            entity_type="group",
            entity_id=cmd.group_id,
            after={
                "patient": cmd.patient_id,
                "members": len(after["members"]),
                "joined": joined,
                "not_joined": not_joined,
            },
            decision=decision,
        )
    return {"group": after, "joined": joined, "not_joined": not_joined}


def unenrol(db: Database, caller: Caller, cmd: Unenrol) -> dict[str, Any]:
    """Take a patient out of a group and out of its booked sessions ahead. Returns
    `{"group": the group record, "left": [ids], "not_left": [{appointment, reason}]}`."""
    authorize(db, caller, ENROLL, patient_id=cmd.patient_id)
    with db.session() as session:
        group = _group(session, cmd.group_id)
        if cmd.patient_id not in {p.id for p in group.members}:
            raise InvalidInput(
                f"{cmd.patient_id} is not a member of group {cmd.group_id}",
                [f"$.patient: {cmd.patient_id} is not a member of group {cmd.group_id}"],
            )
        session.execute(
            delete(group_member).where(
                group_member.c.group_id == cmd.group_id,
                group_member.c.patient_id == cmd.patient_id,
            )
        )
        session.expire(group)
        after = group_record(_group(session, cmd.group_id))
        left, not_left = _sessions_ahead_change(
            db, session, caller, cmd.group_id, cmd.patient_id, cmd.now or now_utc(), join=False
        )
        append_event(
            session,
            actor=caller.staff_id,
            action="group.unenroll",
            entity_type="group",
            entity_id=cmd.group_id,
            after={
                "patient": cmd.patient_id,
                "members": len(after["members"]),
                "left": left,
                "not_left": not_left,
            },
        )
    return {"group": after, "left": left, "not_left": not_left}


def end_group(db: Database, caller: Caller, cmd: EndGroup) -> dict[str, Any]:
    """The group stops meeting: its sessions from now on are cancelled through the booking
    service (every rule, one transaction), its members released and its weekly meetings
    removed, so no plan places it again. Returns the group as it was and the cancelled list."""
    authorize(db, caller, MANAGE)
    reason = cmd.reason or f"group ended by {caller.staff_id}"
    with db.session() as session:
        group = _group(session, cmd.group_id)
        before = group_record(group)
        future = session.scalars(
            select(Appointment.id)
            .where(
                Appointment.group_id == cmd.group_id,
                Appointment.start >= cmd.now,
                Appointment.status.in_(SCHEDULED_STATUSES),
            )
            .order_by(Appointment.start)
        ).all()
        bookings = booking_service(db, session)
        cancelled = [
            bookings.cancel(
                caller.staff_id, a, reason=reason, override_reason=cmd.override_reason
            ).as_record()
            for a in future
        ]
        session.execute(delete(group_member).where(group_member.c.group_id == cmd.group_id))
        group.sessions_per_week = None
        group.schedule = None
        append_event(
            session,
            actor=caller.staff_id,
            action="group.end",
            entity_type="group",
            entity_id=cmd.group_id,
            before=before,
            after={"cancelled": [c["id"] for c in cancelled]},
            reason=reason,
        )
    return {"group": before, "cancelled": cancelled}


def find_group(db: Database, caller: Caller, words: str) -> list[dict[str, Any]]:
    """The groups a phrase names ("the Tuesday relapse-prevention group"): every word of the
    phrase found in a group's name, id, session type or meeting days. Best (fewest extra words)
    first; for the conversation, which then asks when there are several."""
    authorize(db, caller, "view_schedule")
    wanted = [w for w in _words(words) if w not in {"the", "group", "groups", "my"}]
    if not wanted:
        return []
    found: list[tuple[int, dict[str, Any]]] = []
    with db.read() as session:
        for group in session.scalars(select(Group).order_by(Group.position)):
            days = " ".join(str(s.get("day", "")) for s in group.schedule or [])
            known = _words(f"{group.name} {group.id} {group.session_type_id} {days}")
            if all(any(k.startswith(w[:3]) and w.startswith(k[:3]) for k in known) for w in wanted):
                found.append((len(known), group_record(group)))
    return [record for _, record in sorted(found, key=lambda f: f[0])]


# --- the unit of work's parts ------------------------------------------------------------------


def _group(session: Session, group_id: str) -> Group:
    return load_row(session, Group, group_id, "group")


def _enrol_in(
    session: Session, caller: Caller, group_id: str, patient_id: str, *, field: str
) -> dict[str, Any]:
    """Judge the enrolment by the rules (`enroll`) and write it; returns the decision.
    A refusal names `field`, the request's place for the patient."""
    group = _group(session, group_id)
    load_row(session, Patient, patient_id, "patient")
    if patient_id in {p.id for p in group.members}:
        raise InvalidInput(
            f"{patient_id} is already a member of group {group_id}",
            [f"{field}: {patient_id} is already a member of group {group_id}"],
        )
    service = default_service()
    actor, situation = build_situation(
        session, service.packs, actor=caller.staff_id, patient=patient_id, group=group_id
    )
    decision = to_policy_decision(service.evaluate(ENROLL, actor, situation))
    if not decision.allowed:
        blocking = [f for f in decision.fired if f["severity"] in ("deny", "require_override")]
        raise RuleViolation(
            decision.message or "not allowed by the facility's rules",
            decision=decision,
            problems=[f"{field}: {f['message']} ({f['id']})" for f in blocking],
        )
    position = session.scalar(
        select(func.max(group_member.c.position)).where(group_member.c.group_id == group_id)
    )
    session.execute(
        group_member.insert().values(
            group_id=group_id, patient_id=patient_id, position=(position or 0) + 1
        )
    )
    session.expire(group)
    return {"allowed": True, "fired": decision.fired}


def _sessions_ahead_change(
    db: Database,
    session: Session,
    caller: Caller,
    group_id: str,
    patient_id: str,
    now: datetime,
    *,
    join: bool,
) -> tuple[list[str], list[dict[str, str]]]:
    """The patient joins (or leaves) each booked session of the group from `now` on, each a
    move through the booking service (its checks and rules) in a savepoint of its own: one the
    patient cannot join (a clash, a rule) is left as it was and listed with the reason."""
    ahead = session.scalars(
        select(Appointment)
        .where(
            Appointment.group_id == group_id,
            Appointment.start >= now,
            Appointment.status == "booked",
        )
        .order_by(Appointment.start)
    ).all()
    bookings = booking_service(db, session)
    done: list[str] = []
    skipped: list[dict[str, str]] = []
    why = f"{patient_id} {'joined' if join else 'left'} group {group_id}"
    for appointment in ahead:
        patients = appointment.patient_ids
        if (patient_id in patients) == join:
            continue
        patients = [*patients, patient_id] if join else [p for p in patients if p != patient_id]
        try:
            with session.begin_nested():
                bookings.move(caller.staff_id, appointment.id, patients=patients, reason=why)
            done.append(appointment.id)
        except (BookingConflict, RuleViolation, InvalidInput) as exc:
            skipped.append({"appointment": appointment.id, "reason": str(exc)})
    return done, skipped


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())

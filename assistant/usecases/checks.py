"""May this staff member do this? The rules' full decision, without changing anything
(`rota check`): for an existing appointment, a move or status change of it, or a new one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import selectinload

from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import Appointment, SessionType, Staff
from rules import vocabulary as V
from rules.decision import Decision
from rules.facts import appointment_facts, build_situation
from rules.model import AppointmentFacts
from rules.service import default_service


@dataclass(frozen=True)
class Check:
    actor: str
    action: str
    patient: str | None = None
    staff: tuple[str, ...] = ()
    session_type: str | None = None
    start: datetime | None = None
    minutes: int | None = None
    room: str | None = None
    appointment: str | None = None
    status: str | None = None
    override_reason: str | None = None


def check(db: Database, cmd: Check) -> Decision:
    if cmd.action not in V.ACTIONS:
        raise InvalidInput(f"unknown action {cmd.action!r}; use one of {', '.join(V.ACTIONS)}")
    service = default_service()
    with db.read() as session:
        if session.get(Staff, cmd.actor) is None:
            raise NotFound(f"no staff member with id {cmd.actor!r} (--actor takes a staff id)")
        before: AppointmentFacts | None = None
        after: AppointmentFacts | None = None
        if cmd.appointment is not None:
            row = session.get(
                Appointment,
                cmd.appointment,
                options=[
                    selectinload(Appointment.staff_links),
                    selectinload(Appointment.patient_links),
                ],
            )
            if row is None:
                raise NotFound(f"no appointment with id {cmd.appointment!r}")
            before = after = appointment_facts(row)
            if cmd.action == "move":
                after = _moved(before, cmd)
            elif cmd.action == "set_status":
                after = replace(before, status=cmd.status or before.status)
        elif cmd.session_type is not None or cmd.start is not None:
            after = _new(session, cmd)
        _, situation = build_situation(
            session,
            service.packs,
            actor=cmd.actor,
            appointment=after,
            before=before if cmd.action == "move" else None,
            patient=cmd.patient if after is None else None,
            new_status=cmd.status if cmd.action == "set_status" else None,
            override_reason=cmd.override_reason,
        )
    return service.evaluate(cmd.action, situation.staff[cmd.actor], situation)


def _moved(before: AppointmentFacts, cmd: Check) -> AppointmentFacts:
    new_start = cmd.start or before.start
    length = timedelta(minutes=cmd.minutes) if cmd.minutes else before.end - before.start
    return replace(
        before,
        start=new_start,
        end=new_start + length,
        staff=cmd.staff or before.staff,
        room=cmd.room or before.room,
    )


def _new(session: Any, cmd: Check) -> AppointmentFacts:
    if cmd.session_type is None or cmd.start is None:
        raise InvalidInput("a new appointment needs both --type and --start")
    stype = session.get(SessionType, cmd.session_type)
    if stype is None:
        raise NotFound(f"no session type {cmd.session_type!r}")
    return AppointmentFacts(
        id="(proposed)",
        session_type=cmd.session_type,
        start=cmd.start,
        end=cmd.start + timedelta(minutes=cmd.minutes or stype.minutes),
        staff=cmd.staff or (cmd.actor,),
        patients=(cmd.patient,) if cmd.patient else (),
        room=cmd.room,
    )

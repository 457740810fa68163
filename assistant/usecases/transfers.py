"""A patient transferred between programs of a network: discharged from one facility, admitted
to another (a step-down from residential at one site to IOP at another).

The new record at the receiving facility carries the patient's identity, needs, acuity,
authorizations (their units and periods) and court order (its court, case and required
sessions); what names people or rooms of the sending facility (the primary clinician, the
court liaison) is left for the receiving facility to assign. Past sessions stay where they
happened: the receiving facility's audit log holds a summary (sessions attended, missed, the
last one) and the network's transfer row links both records, so each facility can follow the
patient back. Both facilities' audit logs record the transfer.

The admission and the discharge at the sending facility (its sessions ahead cancelled, through
the booking service and its rules) commit together or not at all.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from assistant.access import authorize
from assistant.usecases import patients
from clinic import network
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.facility_file.export import patient_record
from clinic.models import OUTCOME_STATUSES, AppointmentPatient
from clinic.timeutil import now_utc
from clinic.tokens import Caller

Record = dict[str, Any]


@dataclass(frozen=True)
class Transfer:
    patient_id: str
    """The patient's id at the sending facility (the database the use case is given first)."""
    reason: str
    level_of_care: str | None = None
    """The level of care at the receiving program (default: the same)."""
    override_reason: str | None = None
    """For the sending facility's cancellations a rule allows with a reason (a court's
    required session, approved by its liaison)."""
    now: datetime | None = None


@dataclass(frozen=True)
class Transferred:
    from_facility: str
    from_patient: str
    to_facility: str
    to_patient: str
    record: Record
    """The new record at the receiving facility."""
    cancelled: int
    """Sessions ahead at the sending facility, cancelled by the discharge."""


def transfer(
    source: Database,
    target: Database,
    at_source: Caller,
    at_target: Caller,
    cmd: Transfer,
) -> Transferred:
    if source.facility is None or target.facility is None:
        raise InvalidInput(
            "a transfer is between two facilities of a network: name both (--facility, --to)"
        )
    if source.facility == target.facility:
        raise InvalidInput("a transfer goes to another facility than the patient's own")
    if not cmd.reason or not cmd.reason.strip():
        raise InvalidInput("a transfer needs a reason", ["$.reason: a reason is required"])
    authorize(source, at_source, "discharge_patient", patient_id=cmd.patient_id)
    authorize(target, at_target, "admit_patient")
    now = cmd.now or now_utc()
    with source.read() as session:
        row = patients.find_patient(session, cmd.patient_id)
        if row is None:
            raise NotFound(f"no patient {cmd.patient_id!r} at facility {source.facility!r}")
        if row.phase == "discharged":
            raise InvalidInput(f"patient {cmd.patient_id} is discharged: there is no one to move")
        before = patient_record(row)
        history = _history(session, cmd.patient_id, now)
    record = _carried(before, cmd.level_of_care)
    # Two units of work, one per facility's schema: the sending facility's commits inside the
    # receiving one's, so a refusal at either (a court's required session, a duplicate
    # patient) leaves both as they were.
    with target.session() as arriving:
        admitted = patients.admit_in(
            target,
            arriving,
            at_target,
            patients.Admit(record, reason=f"transfer from {source.facility}"),
        )
        new_id = str(admitted["id"])
        append_event(
            arriving,
            actor=at_target.staff_id,
            action="patient.transfer_in",
            entity_type="patient",
            entity_id=new_id,
            after={
                "from": {"facility": source.facility, "patient": cmd.patient_id},
                "history": history,
            },
            reason=cmd.reason,
        )
        with source.session() as leaving:
            gone = patients.discharge_in(
                source,
                leaving,
                at_source,
                patients.Discharge(
                    cmd.patient_id,
                    f"transferred to {target.facility}: {cmd.reason}",
                    override_reason=cmd.override_reason,
                    now=cmd.now,
                ),
            )
            append_event(
                leaving,
                actor=at_source.staff_id,
                action="patient.transfer_out",
                entity_type="patient",
                entity_id=cmd.patient_id,
                after={"to": {"facility": target.facility, "patient": new_id}},
                reason=cmd.reason,
            )
            leaving.add(
                network.NetworkTransfer(
                    from_facility=source.facility,
                    from_patient=cmd.patient_id,
                    to_facility=target.facility,
                    to_patient=new_id,
                    at=now,
                    actor=at_source.staff_id,
                    reason=cmd.reason,
                )
            )
    return Transferred(
        source.facility,
        cmd.patient_id,
        target.facility,
        new_id,
        admitted,
        len(gone.get("cancelled", [])),
    )


def _carried(before: Record, level_of_care: str | None) -> Record:
    """The record the receiving facility admits: the sending facility's people and ids out."""
    record = copy.deepcopy(before)
    for key in ("id", "primary_clinician", "admitted", "groups"):
        record.pop(key, None)
    if level_of_care:
        record["level_of_care"] = level_of_care
    if record.get("phase") in ("intake", "discharged"):
        record["phase"] = "active_treatment"
    # The level of care's sessions are derived again for the new level; the plan's, court's
    # and payer's stay.
    record["requirements"] = [
        r for r in record.get("requirements") or [] if r.get("source") != "level_of_care"
    ]
    if not record["requirements"]:
        record.pop("requirements")
    for auth in record.get("authorizations") or []:
        auth.pop("id", None)
    order = record.get("court_order")
    if isinstance(order, dict):
        order.pop("liaison", None)
    return record


def _history(session: Any, patient_id: str, now: datetime) -> Record:
    """What happened at the sending facility, in numbers (the sessions stay there)."""
    rows = session.execute(
        select(AppointmentPatient.status, AppointmentPatient.start).where(
            AppointmentPatient.patient_id == patient_id, AppointmentPatient.start < now
        )
    ).all()
    outcomes = [r for r in rows if r.status in OUTCOME_STATUSES]
    last = max((r.start for r in outcomes), default=None)
    return {
        "attended": sum(1 for r in outcomes if r.status == "attended"),
        "no_show": sum(1 for r in outcomes if r.status == "no_show"),
        "late_cancelled": sum(1 for r in outcomes if r.status == "late_cancelled"),
        "last_session": last.isoformat() if last else None,
    }

"""Appointment: search by patient, practitioner and date, read, and create through the booking
use case (every check and rule of Rota's own booking; a refusal is an OperationOutcome)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body

from assistant import schedule
from assistant.access import redact_for
from assistant.usecases import appointments
from assistant.usecases import directory as directory_uc
from clinic import access_log
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import day_bounds, now_utc
from clinic.tokens import Caller
from integrations.fhir.mapping import (
    appointment_from_fhir,
    appointment_to_fhir,
    fhir_id,
    validated,
)
from integrations.fhir.mapping.common import Json
from integrations.http.api import BEARER
from integrations.http.fhir.capability import allowed
from integrations.http.fhir.context import Facade, facade, fhir, strict
from integrations.http.fhir.outcome import FHIR_JSON, outcome_responses
from integrations.http.fhir.resources import (
    COUNT,
    OFFSET,
    READ_ERRORS,
    LogicalId,
    dates,
    reference,
)
from integrations.http.fhir.search import count, date_bound, reference_id, searchset, skip
from integrations.http.fhir.slots import parse_slot_id

WRITE_ERRORS = outcome_responses(400, 401, 403, 404, 406, 409, 422)
BOOKABLE = frozenset({"booked", "proposed", "pending"})
"""Appointment.status a create may carry: it is booked (Rota books what it is asked to)."""
_REF = r"[A-Za-z0-9\-.]{1,64}$"
NEW_APPOINTMENT: dict[str, Any] = {
    "description": (
        "A FHIR R4 Appointment to book (application/json is read too): the patient as a "
        "participant, and either a Slot or the clinician, serviceType and start."
    ),
    "type": "object",
    "additionalProperties": False,
    "required": ["resourceType", "participant"],
    # A Slot says who, what and when; without one, the Appointment must.
    "anyOf": [{"required": ["slot"]}, {"required": ["start", "serviceType"]}],
    "properties": {
        "resourceType": {"enum": ["Appointment"]},
        "status": {"enum": sorted(BOOKABLE)},
        "slot": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reference"],
                "properties": {"reference": {"type": "string", "pattern": "^Slot/" + _REF}},
            },
        },
        "participant": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["actor"],
                "properties": {
                    "actor": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["reference"],
                        "properties": {
                            "reference": {
                                "type": "string",
                                "pattern": "^(Patient|Practitioner|PractitionerRole|Location)/"
                                + _REF,
                            }
                        },
                    },
                    "status": {"enum": ["accepted", "declined", "tentative", "needs-action"]},
                },
            },
        },
        "serviceType": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["coding"],
                "properties": {
                    "coding": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["code"],
                            "properties": {
                                "system": {"type": "string", "format": "uri"},
                                "code": {"type": "string", "pattern": r"^[A-Za-z0-9_.:\-]{1,64}$"},
                            },
                        },
                    }
                },
            },
        },
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "minutesDuration": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "comment": {"type": "string"},
    },
}
"""What the create reads, as the OpenAPI document declares it. Other Appointment elements are
not declared; sent anyway, the R4B model checks them (422 when they are not FHIR)."""


def as_record(record: Json) -> Json:
    """An appointment as the caller may see it (`assistant.access.redact_for`) → the facility
    file's appointment record the mapping reads (hidden people are simply not there)."""
    start = datetime.fromisoformat(record["start"])
    end = datetime.fromisoformat(record["end"])
    return {
        **{k: v for k, v in record.items() if k != "end" and v is not None},
        "minutes": int((end - start).total_seconds() // 60),
        "staff": record.get("staff") or [],
        "patients": record.get("patients") or [],
    }


HIDDEN_TYPE = "-"
"""Stands for a session type the caller may not see, while mapping; its serviceType is then
dropped (optional in R4)."""


def to_fhir(view: Facade, record: Json) -> Json:
    """The Appointment as the caller may see it: what the role hides is not in it."""
    shown = as_record(record)
    hidden = "session_type" not in shown
    resource = appointment_to_fhir({"session_type": HIDDEN_TYPE, **shown}, view.ctx)
    if hidden:
        del resource["serviceType"]
    return resource


class AppointmentFhirController(Controller):
    path = "/fhir/r4/Appointment"
    tags = ["fhir"]
    security = BEARER

    @get("/", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def search(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        patient: str | None = reference("patient", "Patient"),
        practitioner: str | None = reference("practitioner", "Practitioner"),
        date: list[str] | None = dates(
            "date", "[prefix]date or dateTime of the start (default: today)"
        ),
        limit: int | None = COUNT,
        offset: int | None = OFFSET,
    ) -> Response[dict[str, Any]]:
        """Appointments starting in the dates asked (searchset Bundle), as the caller may see
        them; a patient's appointments need the right to manage that patient (else 403)."""
        strict(request, allowed("Appointment"))
        view = facade(request, directory_uc.directory(db, caller))
        bound = date_bound("date", date or [], view.tz)
        today = now_utc().astimezone(view.tz).date()
        # One bound alone means a day from it; none, today.
        lo, hi = day_bounds(today, view.tz)
        if bound.start is not None:
            lo, hi = bound.start, bound.end or bound.start + timedelta(days=1)
        elif bound.end is not None:
            lo, hi = bound.end - timedelta(days=1), bound.end
        staff = _staff_id(view, practitioner) if practitioner else None
        pid = reference_id("patient", patient, "Patient") if patient else None
        warnings = []
        if hi - lo > schedule.MAX_RANGE:
            hi = lo + schedule.MAX_RANGE
            warnings.append(
                f"only appointments starting before {hi.astimezone(view.tz).isoformat()} were "
                f"searched (at most {schedule.MAX_RANGE.days} days at a time): ask again from there"
            )
        # No time between the dates asked: nothing matches (the rights are checked all the same).
        period = schedule.Period(
            lo, hi if hi > lo and not bound.empty else lo + timedelta(seconds=1)
        )
        rows = schedule.list_appointments(
            db, caller, period, staff=staff, patient=pid, action=access_log.FHIR_READ
        )
        if bound.empty or hi <= lo:
            rows = []
        first, size = skip(offset), count(limit)
        resources = [to_fhir(view, r) for r in rows]
        bundle = searchset(resources, view.base, str(request.url), size, warnings, first)
        return fhir(bundle)

    @get("/{logical_id:str}", sync_to_thread=True, media_type=FHIR_JSON, responses=READ_ERRORS)
    def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        logical_id: LogicalId,
    ) -> Response[dict[str, Any]]:
        """One appointment, with the fields the caller's role may see."""
        strict(request, frozenset())
        view = facade(request, directory_uc.directory(db, caller))
        record = directory_uc.appointment(db, caller, logical_id)
        return fhir(to_fhir(view, record))

    @post("/", sync_to_thread=True, media_type=FHIR_JSON, status_code=201, responses=WRITE_ERRORS)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: Annotated[dict[str, Any], Body(schema_extra=NEW_APPOINTMENT, media_type=FHIR_JSON)],
    ) -> Response[dict[str, Any]]:
        """Book an Appointment: the patient as a participant, and either a Slot from a Slot
        search (`slot`) or the clinician, serviceType and start. Answers 201 with the booked
        Appointment and its Location."""
        strict(request, frozenset())
        view = facade(request, directory_uc.directory(db, caller))
        cmd = booking_of(view, data)
        booked = appointments.book(db, caller, cmd)
        record = redact_for(db, caller, booked, view.tz)
        resource = to_fhir(view, record)
        where = f"{view.base}/Appointment/{resource['id']}"
        return fhir(resource, 201, headers={"Location": where})


def _staff_id(view: Facade, reference: str) -> str:
    """A Practitioner's logical id → the staff member's Rota id (unknown: as given)."""
    logical = reference_id("practitioner", reference, "Practitioner")
    by_fhir = {fhir_id(s["id"]): s["id"] for s in view.directory.staff}
    return by_fhir.get(logical, logical)


def booking_of(view: Facade, resource: Json) -> appointments.Book:
    """The booking an Appointment asks for; what a Slot it names says fills what it leaves out."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise InvalidInput("the body must be a FHIR Appointment (resourceType 'Appointment')")
    status = resource.get("status", "booked")
    if not isinstance(status, str) or status not in BOOKABLE:
        raise InvalidInput(
            f"Appointment.status {status!r}: a new appointment is booked "
            f"(send one of {', '.join(sorted(BOOKABLE))})"
        )
    given = {k: v for k, v in resource.items() if k not in ("id", "meta", "status")}
    given.update(id="new", status="booked")
    parts = given.get("participant")
    if isinstance(parts, list):  # R4 wants each participant's status; "accepted" unless said
        given["participant"] = [
            {"status": "accepted", **p} if isinstance(p, dict) else p for p in parts
        ]
    given = validated(given)  # any shape the R4B model refuses is a 422 naming the field
    slots = given.pop("slot", [])
    if slots:
        given = _from_slot(view, given, reference_id("slot", slots[0].get("reference", ""), "Slot"))
    if not given.get("end") and not given.get("minutesDuration"):
        given["minutesDuration"] = _minutes_of(view, given)
    record = appointment_from_fhir(given)
    assert record is not None  # status is booked
    start = datetime.fromisoformat(record["start"])
    if start.tzinfo is None:
        start = start.replace(tzinfo=view.tz)
    staff_ids = {fhir_id(s["id"]): s["id"] for s in view.directory.staff}
    room_ids = {fhir_id(r["id"]): r["id"] for r in view.directory.rooms}
    texts = [c.get("text") for c in given.get("reasonCode") or []]
    return appointments.Book(
        session_type=record["session_type"],
        start=start,
        staff=tuple(staff_ids.get(s, s) for s in record["staff"]),
        patients=tuple(record["patients"]),
        room=room_ids.get(record["room"], record["room"]) if record.get("room") else None,
        minutes=record.get("minutes"),
        note=record.get("note"),
        reason=given.get("description") or next((t for t in texts if t), None),
    )


def _minutes_of(view: Facade, given: Json) -> int | None:
    """The session type's own length, for an Appointment that gives a start only."""
    codes = [
        c.get("code")
        for concept in given.get("serviceType") or []
        if isinstance(concept, dict)
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]
    lengths = {t["id"]: t["minutes"] for t in view.directory.session_types}
    return next((lengths[c] for c in codes if c in lengths), None)


def _from_slot(view: Facade, given: Json, slot: str) -> Json:
    """The Appointment with the Slot's clinician, session type, start and end where it said
    none (what it did say stands: the booking checks it all)."""
    staff, session_type, start = parse_slot_id(slot)
    minutes = next(
        (t["minutes"] for t in view.directory.session_types if t["id"] == session_type), None
    )
    if minutes is None:
        raise InvalidInput(f"slot {slot!r}: Rota no longer offers {session_type!r}")
    out = dict(given)
    parts = list(out.get("participant") or [])
    kinds = {str((p.get("actor") or {}).get("reference", "")).split("/")[0] for p in parts}
    if "Practitioner" not in kinds:
        parts.append(
            {"actor": {"reference": f"Practitioner/{fhir_id(staff)}"}, "status": "accepted"}
        )
    out["participant"] = parts
    out.setdefault(
        "serviceType",
        [{"coding": [{"system": view.ctx.system("session-type"), "code": session_type}]}],
    )
    if "start" not in out:
        out["start"] = start.astimezone(view.tz).isoformat()
        out["end"] = (start + timedelta(minutes=minutes)).astimezone(view.tz).isoformat()
    return out

"""Rota → FHIR R4: one function per resource, each taking the facility file's record and the
facility's context and returning the resource as JSON, validated by its R4B model."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from integrations.fhir.mapping.common import (
    CPT,
    FACILITY_LOCATION_ID,
    IDENTIFIER_TYPE,
    PARTICIPATION,
    PHYSICAL_TYPE,
    ROLE_CODE,
    TIMEZONE_EXT,
    WEEKDAYS,
    FhirContext,
    Json,
    available_time,
    coding,
    extensions,
    fhir_id,
    reference,
    validated,
)

# Rota's appointment status → Appointment.status (a late cancellation is `cancelled` with
# Rota's cancellation reason `late`).
STATUS_TO_FHIR = {
    "proposed": "proposed",
    "booked": "booked",
    "checked_in": "checked-in",
    "attended": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
    "late_cancelled": "cancelled",
}
# Family relations the v3 RoleCode names (the text keeps Rota's word whatever it is).
RELATION_CODES = {
    "mother": "MTH",
    "father": "FTH",
    "sister": "SIS",
    "brother": "BRO",
    "spouse": "SPS",
    "husband": "HUSB",
    "wife": "WIFE",
    "partner": "SIGOTHR",
    "son": "SON",
    "daughter": "DAU",
    "child": "CHILD",
    "parent": "PRN",
    "sibling": "SIB",
    "aunt": "AUNT",
    "uncle": "UNCLE",
    "grandmother": "GRMTH",
    "grandfather": "GRFTH",
    "grandparent": "GRPRN",
    "cousin": "COUSN",
    "friend": "FRND",
    "guardian": "GUARD",
}
NO_REASON = "unavailable"

PATIENT_EXTENSIONS = (
    "level_of_care",
    "phase",
    "admitted",
    "acuity",
    "needs",
    "requirements",
    "court_order",
    "availability",
    "preferences",
)
CONTACT_EXTENSIONS = ("channel", "consent_reminders", "consent_disclose_to", "consents")
SESSION_TYPE_EXTENSIONS = (
    "minutes",
    "room_kinds",
    "room_features",
    "staff_roles",
    "credentials_any",
    "min_patients",
    "max_patients",
)
GROUP_EXTENSIONS = (
    "session_type",
    "facilitators",
    "capacity",
    "closed",
    "sessions_per_week",
    "min_days_apart",
    "schedule",
    "room",
    "availability",
)


def _name(text: str) -> Json:
    """A person's name: the text as Rota keeps it, and a best guess at family and given."""
    parts = text.split()
    out: Json = {"use": "official", "text": text}
    if len(parts) > 1:
        out["family"] = parts[-1]
        out["given"] = [p for p in parts[:-1] if not p.endswith(".")] or None
        prefix = [p for p in parts[:-1] if p.endswith(".")]
        if prefix:
            out["prefix"] = prefix
    elif parts:
        out["family"] = parts[0]
    return {k: v for k, v in out.items() if v is not None}


def facility_location_to_fhir(facility: Json, ctx: FhirContext) -> Json:
    """The facility itself: a building Location whose hours are the facility's opening hours."""
    days = facility.get("open_days", ["mon", "tue", "wed", "thu", "fri"])
    return validated(
        {
            "resourceType": "Location",
            "id": FACILITY_LOCATION_ID,
            "identifier": [ctx.identifier("facility", ctx.namespace)],
            "status": "active",
            "name": facility["name"],
            "mode": "instance",
            "physicalType": {"coding": [{"system": PHYSICAL_TYPE, "code": "bu"}]},
            "hoursOfOperation": [
                {
                    "daysOfWeek": [d for d in WEEKDAYS if d in days],
                    "openingTime": f"{facility.get('open', '08:00')}:00",
                    "closingTime": f"{facility.get('close', '18:00')}:00",
                }
            ],
            "extension": [
                {"url": TIMEZONE_EXT, "valueCode": facility["timezone"]},
                *extensions(facility, ("slot_minutes",)),
            ],
        }
    )


def location_to_fhir(room: Json, ctx: FhirContext) -> Json:
    """A room: a Location (physicalType `ro`) within the facility; its kind and features as
    types, its capacity and closures as Rota extensions."""
    types = [{"coding": [coding("room-kind", room["kind"])]}]
    types += [{"coding": [coding("room-feature", f)]} for f in room.get("features", [])]
    return validated(
        {
            "resourceType": "Location",
            "id": fhir_id(room["id"]),
            "identifier": [ctx.identifier("room", room["id"])],
            "status": "active",
            "name": room["name"],
            "mode": "instance",
            "type": types,
            "physicalType": {"coding": [{"system": PHYSICAL_TYPE, "code": "ro"}]},
            "partOf": {"reference": f"Location/{FACILITY_LOCATION_ID}"},
            "extension": extensions(room, ("capacity", "unavailable")),
        }
    )


def practitioner_to_fhir(staff: Json, ctx: FhirContext) -> Json:
    """A staff member's person: name, email, credentials (qualifications), Slack user."""
    identifiers = [ctx.identifier("practitioner", staff["id"])]
    if staff.get("slack_user_id"):
        identifiers.append(
            {"use": "secondary", "system": ctx.system("slack"), "value": staff["slack_user_id"]}
        )
    out: Json = {
        "resourceType": "Practitioner",
        "id": fhir_id(staff["id"]),
        "identifier": identifiers,
        "active": True,
        "name": [_name(staff["name"])],
        "qualification": [
            {"code": {"coding": [coding("credential", c)], "text": c}}
            for c in staff.get("credentials", [])
        ],
        "extension": extensions(staff, ("supervisor",)),
    }
    if staff.get("email"):
        out["telecom"] = [{"system": "email", "value": staff["email"], "use": "work"}]
    return validated(out)


def practitioner_role_to_fhir(staff: Json, ctx: FhirContext) -> Json:
    """A staff member's work here: role, specializations, weekly hours (availableTime),
    absences (notAvailable) and weekly cap."""
    out: Json = {
        "resourceType": "PractitionerRole",
        "id": fhir_id(staff["id"]),
        "identifier": [ctx.identifier("practitioner-role", staff["id"])],
        "active": True,
        "practitioner": reference("Practitioner", staff["id"], staff["name"]),
        "location": [{"reference": f"Location/{FACILITY_LOCATION_ID}"}],
        "code": [{"coding": [coding("staff-role", staff["role"])]}],
        "specialty": [
            {"coding": [coding("specialization", s)]} for s in staff.get("specializations", [])
        ],
        "notAvailable": [
            {
                "description": u.get("reason") or NO_REASON,
                "during": {"start": u["start"], "end": u["end"]},
            }
            for u in staff.get("unavailable", [])
        ],
        "extension": extensions(staff, ("max_minutes_per_week",)),
    }
    if "availability" in staff:
        out["availableTime"] = available_time(staff["availability"])
        if not staff["availability"]:  # no weekly hours at all, unlike "whenever open"
            out["extension"] += extensions({"availability": {}}, ("availability",))
    return validated(out)


def healthcare_service_to_fhir(session_type: Json, ctx: FhirContext) -> Json:
    """A session type of the catalogue: a HealthcareService typed by Rota's session-type code
    (and its CPT code), its length and who and where it needs as Rota extensions."""
    type_codes = [
        {"system": ctx.system("session-type"), "code": session_type["id"]}
        | ({"display": session_type["name"]} if session_type.get("name") else {})
    ]
    if session_type.get("cpt"):
        type_codes.append({"system": CPT, "code": session_type["cpt"]})
    out: Json = {
        "resourceType": "HealthcareService",
        "id": fhir_id(session_type["id"]),
        "identifier": [ctx.identifier("session-type", session_type["id"])],
        "active": True,
        "type": [{"coding": type_codes}],
        "location": [{"reference": f"Location/{FACILITY_LOCATION_ID}"}],
        "extension": extensions(session_type, SESSION_TYPE_EXTENSIONS),
    }
    if session_type.get("name"):
        out["name"] = session_type["name"]
    return validated(out)


def schedule_to_fhir(
    kind: str,
    rota_id: str,
    ctx: FhirContext,
    *,
    display: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Json:
    """The Schedule of one clinician (`kind` "staff": actors Practitioner and PractitionerRole)
    or one room (`kind` "room": actor Location), over the period given."""
    if kind == "staff":
        actors = [
            reference("Practitioner", rota_id, display),
            reference("PractitionerRole", rota_id),
        ]
    elif kind == "room":
        actors = [reference("Location", rota_id, display)]
    else:
        raise ValueError(f"a Schedule is a clinician's or a room's, not a {kind!r}'s")
    out: Json = {
        "resourceType": "Schedule",
        "id": schedule_id(kind, rota_id),
        "identifier": [ctx.identifier(f"{kind}-schedule", rota_id)],
        "active": True,
        "actor": actors,
    }
    if start and end:
        out["planningHorizon"] = {"start": start.isoformat(), "end": end.isoformat()}
    return validated(out)


def schedule_id(kind: str, rota_id: str) -> str:
    return fhir_id(f"{kind}-{rota_id}")


def patient_to_fhir(patient: Json, ctx: FhirContext) -> Json:
    """A patient: name, birth date, sex, MRN, phone and email, primary clinician; the clinical
    scheduling facts (level of care, phase, needs, requirements, court order, hours,
    preferences, reminder consent and 42 CFR Part 2 consents) as Rota extensions."""
    identifiers = [ctx.identifier("patient", patient["id"])]
    if patient.get("mrn"):
        identifiers.append(
            {
                "use": "official",
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]},
                "system": ctx.system("mrn"),
                "value": patient["mrn"],
            }
        )
    contact = patient.get("contact") or {}
    telecom = [
        {"system": system, "value": contact[key], "use": "mobile" if key == "phone" else "home"}
        for key, system in (("phone", "phone"), ("email", "email"))
        if contact.get(key)
    ]
    exts = extensions(patient, PATIENT_EXTENSIONS)
    if "contact" in patient:
        rest = {k: v for k, v in contact.items() if k in CONTACT_EXTENSIONS}
        exts += extensions({"contact": rest}, ("contact",))
    out: Json = {
        "resourceType": "Patient",
        "id": fhir_id(patient["id"]),
        "identifier": identifiers,
        "active": patient.get("phase") != "discharged",
        "name": [_name(patient["name"])],
        "telecom": telecom,
        "extension": exts,
    }
    if patient.get("dob"):
        out["birthDate"] = patient["dob"]
    if patient.get("sex"):
        out["gender"] = patient["sex"]
    if patient.get("primary_clinician"):
        out["generalPractitioner"] = [reference("Practitioner", patient["primary_clinician"])]
    return validated(out)


def coverage_id(patient_id: str, index: int, authorization: Json) -> str:
    return fhir_id(authorization.get("id") or f"{patient_id}-auth-{index + 1}")


def coverage_to_fhir(patient_id: str, index: int, authorization: Json, ctx: FhirContext) -> Json:
    """One payer authorization of a patient: Coverage with the payer, the authorized period,
    and as Rota extensions the units authorized and used and the session types they cover."""
    out: Json = {
        "resourceType": "Coverage",
        "id": coverage_id(patient_id, index, authorization),
        "status": "active",
        "beneficiary": reference("Patient", patient_id),
        "payor": [{"display": authorization["payer"]}],
        "period": {"start": authorization["start"], "end": authorization["end"]},
        "extension": extensions(authorization, ("units", "used", "session_types")),
    }
    if authorization.get("id"):
        out["identifier"] = [ctx.identifier("authorization", authorization["id"])]
    return validated(out)


def related_person_id(patient_id: str, index: int) -> str:
    return fhir_id(f"{patient_id}-contact-{index + 1}")


def related_person_to_fhir(patient_id: str, index: int, contact: Json, ctx: FhirContext) -> Json:
    """A patient's family contact: RelatedPerson with the relation (v3 RoleCode where one
    fits; the text is Rota's word) and, as a Rota extension, the hours they can come."""
    out: Json = {
        "resourceType": "RelatedPerson",
        "id": related_person_id(patient_id, index),
        "identifier": [ctx.identifier("related-person", f"{patient_id}#{index + 1}")],
        "active": True,
        "patient": reference("Patient", patient_id),
        "extension": extensions(contact, ("availability",)),
    }
    if contact.get("name"):
        out["name"] = [_name(contact["name"])]
    relation = contact.get("relation")
    if relation:
        code = RELATION_CODES.get(relation.lower())
        concept: Json = {"text": relation}
        if code:
            concept["coding"] = [{"system": ROLE_CODE, "code": code}]
        out["relationship"] = [concept]
    return validated(out)


def group_to_fhir(group: Json, ctx: FhirContext) -> Json:
    """A standing therapy group: Group of its member Patients, managed by its first
    facilitator; its session type, facilitators, capacity and meeting plan as Rota extensions."""
    out: Json = {
        "resourceType": "Group",
        "id": fhir_id(group["id"]),
        "identifier": [ctx.identifier("group", group["id"])],
        "active": True,
        "type": "person",
        "actual": True,
        "name": group["name"],
        "quantity": len(group.get("members", [])),
        "managingEntity": reference("Practitioner", group["facilitators"][0]),
        "member": [{"entity": reference("Patient", p)} for p in group.get("members", [])],
        "extension": extensions(group, GROUP_EXTENSIONS),
    }
    return validated(out)


def appointment_to_fhir(appointment: Json, ctx: FhirContext) -> Json:
    """An appointment: status, serviceType (the session type), start and end, its clinicians,
    patients and room as participants; a group session names its Group, a member's own
    outcome (a no-show in a group) rides on their participant."""
    start = datetime.fromisoformat(appointment["start"])
    end = start + timedelta(minutes=appointment["minutes"])
    status = appointment.get("status", "booked")
    outcomes: dict[str, str] = appointment.get("outcomes") or {}
    participants: list[Json] = [
        {
            "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF" if i == 0 else "SPRF"}]}],
            "actor": reference("Practitioner", s),
            "required": "required",
            "status": "accepted",
        }
        for i, s in enumerate(appointment["staff"])
    ]
    for p in appointment["patients"]:
        part: Json = {
            "actor": reference("Patient", p),
            "required": "required",
            "status": "accepted",
        }
        if p in outcomes:
            part["extension"] = extensions({"outcome": outcomes[p]}, ("outcome",))
            if outcomes[p] in ("cancelled", "late_cancelled"):
                part["status"] = "declined"
        participants.append(part)
    if appointment.get("room"):
        participants.append(
            {
                "actor": reference("Location", appointment["room"]),
                "required": "required",
                "status": "accepted",
            }
        )
    session_type = appointment["session_type"]
    service = {"system": ctx.system("session-type"), "code": session_type}
    if ctx.session_type_names.get(session_type):
        service["display"] = ctx.session_type_names[session_type]
    out: Json = {
        "resourceType": "Appointment",
        "id": fhir_id(appointment["id"]),
        "identifier": [ctx.identifier("appointment", appointment["id"])],
        "status": STATUS_TO_FHIR[status],
        "serviceType": [{"coding": [service]}],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "minutesDuration": appointment["minutes"],
        "participant": participants,
        "extension": extensions(appointment, ("group", "pinned")),
    }
    if status in ("cancelled", "late_cancelled"):
        code = "late" if status == "late_cancelled" else "timely"
        out["cancelationReason"] = {"coding": [coding("cancellation", code)]}
    if appointment.get("note"):
        out["comment"] = appointment["note"]
    if appointment.get("booked_at"):
        out["created"] = appointment["booked_at"]
    return validated(out)


def resources_of_patient(patient: Json, ctx: FhirContext) -> list[Json]:
    """A patient and what hangs off them: Coverage per authorization, RelatedPerson per
    family contact."""
    out = [patient_to_fhir(patient, ctx)]
    out += [
        coverage_to_fhir(patient["id"], i, a, ctx)
        for i, a in enumerate(patient.get("authorizations", []))
    ]
    out += [
        related_person_to_fhir(patient["id"], i, c, ctx)
        for i, c in enumerate(patient.get("family_contacts", []))
    ]
    return out


def facility_to_bundle(
    data: Json,
    *,
    start: date | None = None,
    end: date | None = None,
    base_url: str | None = None,
    timestamp: datetime | None = None,
) -> Json:
    """The whole facility file as a Bundle of type `collection` (appointments starting in
    [start, end] when given, facility days). Deterministic: the same file gives the same
    Bundle, timestamp aside."""
    ctx = FhirContext.for_facility(data, base_url)
    resources: list[Json] = [facility_location_to_fhir(data["facility"], ctx)]
    resources += [location_to_fhir(r, ctx) for r in data.get("rooms", [])]
    resources += [
        r
        for s in data.get("staff", [])
        for r in (practitioner_to_fhir(s, ctx), practitioner_role_to_fhir(s, ctx))
    ]
    resources += [healthcare_service_to_fhir(t, ctx) for t in data.get("session_types", [])]
    resources += [r for p in data.get("patients", []) for r in resources_of_patient(p, ctx)]
    resources += [group_to_fhir(g, ctx) for g in data.get("groups", [])]
    appointments = [a for a in data.get("appointments", []) if _within(a, start, end)]
    horizon = _horizon(appointments, start, end)
    resources += [
        schedule_to_fhir("staff", s["id"], ctx, display=s["name"], start=horizon[0], end=horizon[1])
        for s in data.get("staff", [])
    ]
    resources += [
        schedule_to_fhir("room", r["id"], ctx, display=r["name"], start=horizon[0], end=horizon[1])
        for r in data.get("rooms", [])
    ]
    resources += [appointment_to_fhir(a, ctx) for a in appointments]
    bundle: Json = {
        "resourceType": "Bundle",
        "type": "collection",
        "meta": {"tag": [coding("source", "rota", "Rota facility export")]},
        "identifier": {"system": ctx.system("export"), "value": ctx.namespace},
        "entry": [
            {"fullUrl": ctx.full_url(r["resourceType"], r["id"]), "resource": r} for r in resources
        ],
    }
    if timestamp is not None:
        bundle["timestamp"] = timestamp.isoformat()
    return bundle


def _within(appointment: Json, start: date | None, end: date | None) -> bool:
    day = datetime.fromisoformat(appointment["start"]).date()
    return (start is None or day >= start) and (end is None or day <= end)


def _horizon(
    appointments: list[Json], start: date | None, end: date | None
) -> tuple[date | None, date | None]:
    days = [datetime.fromisoformat(a["start"]).date() for a in appointments]
    return (start or (min(days) if days else None), end or (max(days) if days else None))

"""The CapabilityStatement: what this facade implements, and nothing more. The routes read
their search parameters from the same table (`SEARCH`), so the statement cannot drift from
them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.fhir.mapping import FHIR_VERSION

SP = "http://hl7.org/fhir/SearchParameter/"


@dataclass(frozen=True)
class Param:
    type: str
    definition: str | None
    documentation: str


COUNT = Param("number", None, "at most this many entries (default 100, at most 1000)")
OFFSET = Param("number", None, "skip this many matches (what the Bundle's `next` link sends)")

SEARCH: dict[str, dict[str, Param]] = {
    "Practitioner": {
        "_id": Param("token", SP + "Resource-id", "the logical id"),
        "name": Param("string", SP + "Practitioner-name", "part of the name, any case"),
        "_count": COUNT,
        "_offset": OFFSET,
    },
    "Location": {
        "_id": Param("token", SP + "Resource-id", "the logical id"),
        "name": Param("string", SP + "Location-name", "part of the name, any case"),
        "_count": COUNT,
        "_offset": OFFSET,
    },
    "Schedule": {
        "_id": Param("token", SP + "Resource-id", "the logical id"),
        "actor": Param("reference", SP + "Schedule-actor", "Practitioner/ID: that clinician's"),
        "service-type": Param(
            "token", SP + "Schedule-service-type", "a session type code the clinician provides"
        ),
        "_count": COUNT,
        "_offset": OFFSET,
    },
    "Slot": {
        "schedule": Param(
            "reference",
            SP + "Slot-schedule",
            "Schedule/ID; chained as schedule.actor=Practitioner/ID (the only chain)",
        ),
        "schedule.actor": Param(
            "reference", None, "Practitioner/ID: the free slots of that clinician's Schedule"
        ),
        "service-type": Param("token", SP + "Slot-service-type", "a session type code"),
        "start": Param(
            "date",
            SP + "Slot-start",
            "prefixes eq, lt, le, gt, ge; default: the next 7 days; at most 31 days (a "
            "warning says where it stopped)",
        ),
        "status": Param("token", SP + "Slot-status", "free only: busy time is not published"),
        "_count": COUNT,
        "_offset": OFFSET,
    },
    "Appointment": {
        "patient": Param(
            "reference", SP + "Appointment-patient", "Patient/ID (needs the right to see them)"
        ),
        "practitioner": Param("reference", SP + "Appointment-practitioner", "Practitioner/ID"),
        "date": Param(
            "date",
            SP + "Appointment-date",
            "the start; prefixes eq, lt, le, gt, ge; default: today; one bound alone: the "
            "day from it; at most 62 days (a warning says where it stopped)",
        ),
        "_count": COUNT,
        "_offset": OFFSET,
    },
}

INTERACTIONS: dict[str, tuple[str, ...]] = {
    "Practitioner": ("read", "search-type"),
    "Location": ("read", "search-type"),
    "Schedule": ("read", "search-type"),
    "Slot": ("read", "search-type"),
    "Appointment": ("read", "search-type", "create"),
}

DOCUMENTATION = {
    "Location": "The facility (Location/facility) and its rooms.",
    "Schedule": "One per clinician who may provide a session booked one to one.",
    "Slot": (
        "Free slots only, from Rota's slot finder: a clinician's free time with a free room, "
        "tiled by the session type's length, one set per session type they provide (so slots "
        "of different types overlap). Time held for emergency admissions is not published."
    ),
    "Appointment": (
        "Create books through Rota's booking service with every rule applied; name the "
        "patient, and either a Slot (Appointment.slot) or the clinician, serviceType and start. "
        "A refusal is an OperationOutcome (409 the time is taken, 422 a rule says no). Fields "
        "the caller's role may not see are left out."
    ),
}


def allowed(resource_type: str) -> frozenset[str]:
    return frozenset(SEARCH[resource_type])


def capability_statement(base: str, date: str, *, bulk_publish: bool) -> dict[str, Any]:
    resources = []
    for rtype, interactions in INTERACTIONS.items():
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [
                {"name": name, "type": p.type, "documentation": p.documentation}
                | ({"definition": p.definition} if p.definition else {})
                for name, p in SEARCH[rtype].items()
            ],
        }
        if rtype in DOCUMENTATION:
            entry["documentation"] = DOCUMENTATION[rtype]
        if rtype == "Appointment":
            entry["conditionalCreate"] = False
        resources.append(entry)
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": (
            "Every interaction but metadata needs 'Authorization: Bearer <token>' (rota token "
            "create --staff ID) and answers as the staff member's roles allow."
        ),
        "security": {
            "cors": False,
            "description": "Bearer tokens issued by Rota; the same roles as Rota's /api.",
        },
        "resource": resources,
    }
    if bulk_publish:
        # Said in words: the bulk publication has no OperationDefinition to point at.
        rest["documentation"] += (
            " Free slots are also published as SMART Scheduling Links bulk files: GET "
            "$bulk-publish is a manifest of Location, Schedule and Slot NDJSON files (free "
            "slots only, no patient data, no token)."
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Rota",
        "kind": "instance",
        "software": {"name": "Rota"},
        "implementation": {"description": "Rota's FHIR R4 facade", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json", "application/fhir+json"],
        "rest": [rest],
    }

"""FHIR R4 → Rota: each resource, validated by its R4B model, read back into the facility file's
record; a Bundle into a whole facility file.

Rota's own resources carry their Rota id as a business identifier (urn:rota:<facility>:<kind>)
and their Rota-only fields as extensions, so they come back exactly. A foreign resource (an
EHR's) is read from its standard elements; its Rota id is its logical id, and what FHIR cannot
say (a room's kind, a session's length) takes a stated default, listed in `warnings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from clinic.errors import InvalidInput
from integrations.fhir.mapping.common import (
    CPT,
    CS,
    FACILITY_LOCATION_ID,
    PHYSICAL_TYPE,
    TIMEZONE_EXT,
    Json,
    codes,
    label,
    read_extensions,
    rota_id_from,
    rota_identifier,
    validated,
    weekly_hours,
)
from integrations.fhir.mapping.to_fhir import (
    CONTACT_EXTENSIONS,
    GROUP_EXTENSIONS,
    NO_REASON,
    PATIENT_EXTENSIONS,
    SESSION_TYPE_EXTENSIONS,
)

# Appointment.status → Rota's status; entered-in-error means the appointment never was.
STATUS_FROM_FHIR = {
    "proposed": "proposed",
    "pending": "proposed",
    "booked": "booked",
    "arrived": "checked_in",
    "checked-in": "checked_in",
    "fulfilled": "attended",
    "noshow": "no_show",
    "cancelled": "cancelled",
}
DELETED_STATUSES = frozenset({"entered-in-error"})
KIND_OF = {
    "Patient": "patient",
    "Practitioner": "practitioner",
    "PractitionerRole": "practitioner-role",
    "Location": "room",
    "HealthcareService": "session-type",
    "Group": "group",
    "Appointment": "appointment",
    "Coverage": "authorization",
    "RelatedPerson": "related-person",
}
DEFAULT_ROLE = "therapist"
DEFAULT_ROOM_KIND = "individual"
DEFAULT_ROOM_CAPACITY = 2
DEFAULT_SESSION_MINUTES = 60


@dataclass
class Resolver:
    """References → Rota ids: a resource in the same Bundle answers with its Rota identifier,
    one known from an earlier import with the stored map (`known`), any other with its
    logical id."""

    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    known: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, resource: Json) -> str:
        rtype, logical = resource["resourceType"], resource.get("id")
        rota = rota_id_of(resource)
        if logical:
            self.ids[(rtype, logical)] = rota
        return rota

    def rota_id(self, ref: Json | None, *, where: str) -> str:
        text = (ref or {}).get("reference") or ""
        parts = text.rstrip("/").split("/")
        if len(parts) < 2:
            raise InvalidInput(f"{where}: reference {text!r} is not Type/id")
        key = (parts[-2], parts[-1])
        if key[0] == "PractitionerRole":  # a role stands for its practitioner (same Rota id)
            key = ("Practitioner", key[1]) if key not in self.ids else key
        return self.ids.get(key) or self.known.get(key) or rota_id_from(key[1])

    def type_of(self, ref: Json | None) -> str:
        parts = ((ref or {}).get("reference") or "").rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 else ""


def rota_id_of(resource: Json) -> str:
    """The Rota id a resource stands for: its Rota business identifier, else its logical id."""
    kind = KIND_OF.get(resource["resourceType"], "")
    found = rota_identifier(resource, kind)
    if found:
        return found
    if not resource.get("id"):
        raise InvalidInput(f"{label(resource)}: neither a Rota identifier nor a logical id")
    return rota_id_from(resource["id"])


def _name_text(names: list[Json] | None) -> str | None:
    for name in names or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*(name.get("prefix") or []), *(name.get("given") or []), name.get("family")]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return None


def _clean(record: Json) -> Json:
    return {k: v for k, v in record.items() if v is not None}


def _hhmm(fhir_time: str | None, default: str) -> str:
    return fhir_time[:5] if fhir_time else default


def facility_from_fhir(location: Json) -> Json:
    """The facility Location (physicalType `bu`) → the facility file's `facility`."""
    location = validated(location)
    tz = next(
        (e.get("valueCode") for e in location.get("extension") or [] if e["url"] == TIMEZONE_EXT),
        None,
    )
    if not tz:
        raise InvalidInput(f"{label(location)}: Location.extension[timezone] is missing")
    hours = (location.get("hoursOfOperation") or [{}])[0]
    return _clean(
        {
            "name": location.get("name") or "Facility",
            "timezone": tz,
            "open_days": hours.get("daysOfWeek"),
            "open": _hhmm(hours.get("openingTime"), "08:00"),
            "close": _hhmm(hours.get("closingTime"), "18:00"),
            **read_extensions(location),
        }
    )


def is_facility_location(location: Json) -> bool:
    if rota_identifier(location, "facility"):
        return True
    physical = codes([location.get("physicalType") or {}], PHYSICAL_TYPE)
    return "bu" in physical or (location.get("id") == FACILITY_LOCATION_ID and not physical)


def room_from_fhir(location: Json, warnings: list[str] | None = None) -> Json:
    """A room's Location → the facility file's room."""
    location = validated(location)
    ext = read_extensions(location)
    kinds = codes(location.get("type"), CS + "room-kind")
    if not kinds and warnings is not None:
        warnings.append(f"{label(location)}: no Rota room kind; taken as {DEFAULT_ROOM_KIND}")
    if "capacity" not in ext and warnings is not None:
        warnings.append(f"{label(location)}: no capacity; taken as {DEFAULT_ROOM_CAPACITY}")
    return _clean(
        {
            "id": rota_id_of(location),
            "name": location.get("name") or location.get("id"),
            "kind": kinds[0] if kinds else DEFAULT_ROOM_KIND,
            "capacity": ext.get("capacity", DEFAULT_ROOM_CAPACITY),
            "features": codes(location.get("type"), CS + "room-feature") or None,
            "unavailable": ext.get("unavailable"),
        }
    )


def staff_from_fhir(
    practitioner: Json, role: Json | None = None, warnings: list[str] | None = None
) -> Json:
    """A Practitioner and their PractitionerRole here → the facility file's staff member."""
    practitioner = validated(practitioner)
    role = validated(role) if role else {}
    pext, rext = read_extensions(practitioner), read_extensions(role)
    roles = codes(role.get("code"), CS + "staff-role")
    if not roles and warnings is not None:
        warnings.append(f"{label(practitioner)}: no Rota staff role; taken as {DEFAULT_ROLE}")
    email = next(
        (t["value"] for t in practitioner.get("telecom") or [] if t.get("system") == "email"),
        None,
    )
    slack = next(
        (
            i["value"]
            for i in practitioner.get("identifier") or []
            if (i.get("system") or "").endswith(":slack")
        ),
        None,
    )
    credentials = [
        (codes([q["code"]], CS + "credential") or [q["code"].get("text")])[0]
        for q in practitioner.get("qualification") or []
    ]
    record: Json = {
        "id": rota_id_of(practitioner),
        "name": _name_text(practitioner.get("name")) or practitioner.get("id"),
        "role": roles[0] if roles else DEFAULT_ROLE,
        "credentials": [c for c in credentials if c] or None,
        "specializations": codes(role.get("specialty"), CS + "specialization") or None,
        "supervisor": pext.get("supervisor"),
        "max_minutes_per_week": rext.get("max_minutes_per_week"),
        "unavailable": [
            _clean(
                {
                    "start": n["during"]["start"],
                    "end": n["during"]["end"],
                    "reason": None if n["description"] == NO_REASON else n["description"],
                }
            )
            for n in role.get("notAvailable") or []
            if (n.get("during") or {}).get("start") and (n.get("during") or {}).get("end")
        ]
        or None,
        "slack_user_id": slack,
        "email": email,
    }
    if role.get("availableTime"):
        record["availability"] = weekly_hours(role["availableTime"])
    elif rext.get("availability") == {}:
        record["availability"] = {}
    return _clean(record)


def session_type_from_fhir(service: Json, warnings: list[str] | None = None) -> Json:
    """A HealthcareService → the facility file's session type."""
    service = validated(service)
    ext = read_extensions(service)
    if "minutes" not in ext and warnings is not None:
        warnings.append(f"{label(service)}: no length; taken as {DEFAULT_SESSION_MINUTES} minutes")
    cpt = codes(service.get("type"), CPT)
    return _clean(
        {
            "id": rota_id_of(service),
            "name": service.get("name"),
            "minutes": ext.get("minutes", DEFAULT_SESSION_MINUTES),
            "cpt": cpt[0] if cpt else None,
            **{k: ext[k] for k in SESSION_TYPE_EXTENSIONS if k in ext and k != "minutes"},
        }
    )


def patient_from_fhir(
    patient: Json,
    coverages: Iterable[Json] = (),
    related: Iterable[Json] = (),
    resolver: Resolver | None = None,
) -> Json:
    """A Patient, their Coverages and RelatedPersons → the facility file's patient."""
    patient = validated(patient)
    resolver = resolver or Resolver()
    ext = read_extensions(patient)
    mrn = next(
        (
            i["value"]
            for i in patient.get("identifier") or []
            if (i.get("system") or "").endswith(":mrn")
            or "MR" in codes([i.get("type") or {}], "http://terminology.hl7.org/CodeSystem/v2-0203")
        ),
        None,
    )
    telecom = {t.get("system"): t.get("value") for t in reversed(patient.get("telecom") or [])}
    contact = {k: v for k, v in (ext.get("contact") or {}).items() if k in CONTACT_EXTENSIONS}
    for key in ("phone", "email"):
        if telecom.get(key):
            contact[key] = telecom[key]
    gp = (patient.get("generalPractitioner") or [None])[0]
    record: Json = {
        "id": rota_id_of(patient),
        "name": _name_text(patient.get("name")) or patient.get("id"),
        "dob": patient.get("birthDate"),
        "mrn": mrn,
        **{k: ext[k] for k in PATIENT_EXTENSIONS if k in ext},
        "sex": patient.get("gender"),
        "primary_clinician": resolver.rota_id(gp, where=f"{label(patient)}.generalPractitioner")
        if gp
        else None,
        "authorizations": [authorization_from_fhir(c) for c in coverages] or None,
        "contact": contact if (contact or "contact" in ext) else None,
        "family_contacts": [family_contact_from_fhir(r) for r in related] or None,
    }
    return _clean(record)


def authorization_from_fhir(coverage: Json) -> Json:
    """A Coverage → one payer authorization (units from Rota's extension; 0 when absent)."""
    coverage = validated(coverage)
    ext = read_extensions(coverage)
    period = coverage.get("period") or {}
    if not period.get("start") or not period.get("end"):
        raise InvalidInput(f"{label(coverage)}: Coverage.period needs a start and an end")
    payer = coverage["payor"][0]
    return _clean(
        {
            "id": rota_identifier(coverage, "authorization"),
            "payer": payer.get("display") or payer.get("reference") or "unknown payer",
            "session_types": ext.get("session_types", []),
            "units": ext.get("units", 0),
            "used": ext.get("used"),
            "start": str(period["start"])[:10],
            "end": str(period["end"])[:10],
        }
    )


def family_contact_from_fhir(related: Json) -> Json:
    related = validated(related)
    ext = read_extensions(related)
    relation = next(
        (
            c.get("text") or next((x.get("code") for x in c.get("coding") or []), None)
            for c in related.get("relationship") or []
        ),
        None,
    )
    return _clean(
        {
            "name": _name_text(related.get("name")),
            "relation": relation,
            "availability": ext.get("availability"),
        }
    )


def group_from_fhir(group: Json, resolver: Resolver | None = None) -> Json:
    """A Group → the facility file's standing group (facilitators: Rota's extension, else the
    managing practitioner)."""
    group = validated(group)
    resolver = resolver or Resolver()
    ext = read_extensions(group)
    where = label(group)
    facilitators = ext.get("facilitators") or (
        [resolver.rota_id(group["managingEntity"], where=f"{where}.managingEntity")]
        if group.get("managingEntity")
        else []
    )
    if "session_type" not in ext:
        raise InvalidInput(f"{where}: Group.extension[session_type] is missing")
    return _clean(
        {
            "id": rota_id_of(group),
            "name": group.get("name") or group.get("id"),
            "members": [
                resolver.rota_id(m["entity"], where=f"{where}.member")
                for m in group.get("member") or []
                if not m.get("inactive")
            ],
            **{k: ext[k] for k in GROUP_EXTENSIONS if k in ext},
            "facilitators": facilitators,
        }
    )


def appointment_from_fhir(appointment: Json, resolver: Resolver | None = None) -> Json | None:
    """An Appointment → the facility file's appointment; None for one entered in error (it
    never was). Clinicians are the Practitioner (or PractitionerRole) participants, patients
    the Patient ones, the room the Location one."""
    appointment = validated(appointment)
    resolver = resolver or Resolver()
    where = label(appointment)
    status = appointment["status"]
    if status in DELETED_STATUSES:
        return None
    if status not in STATUS_FROM_FHIR:
        raise InvalidInput(f"{where}: Appointment.status {status!r} has no Rota meaning")
    for key in ("start", "end"):
        if not appointment.get(key) and not (key == "end" and appointment.get("minutesDuration")):
            raise InvalidInput(f"{where}: Appointment.{key} is missing")
    rota_status = STATUS_FROM_FHIR[status]
    if status == "cancelled" and "late" in codes(
        [appointment.get("cancelationReason") or {}], CS + "cancellation"
    ):
        rota_status = "late_cancelled"
    start = datetime.fromisoformat(appointment["start"])
    minutes = appointment.get("minutesDuration") or int(
        (datetime.fromisoformat(appointment["end"]) - start).total_seconds() // 60
    )
    service = [
        c
        for concept in appointment.get("serviceType") or []
        for c in concept.get("coding") or []
        if c.get("code")
    ]
    rota_service = [c for c in service if (c.get("system") or "").endswith(":session-type")]
    if not (rota_service or service):
        raise InvalidInput(f"{where}: Appointment.serviceType names no session type")
    staff: list[str] = []
    patients: list[str] = []
    rooms: list[str] = []
    outcomes: dict[str, str] = {}
    for i, part in enumerate(appointment["participant"]):
        actor = part.get("actor")
        if not actor:
            continue
        kind = resolver.type_of(actor)
        rid = resolver.rota_id(actor, where=f"{where}.participant[{i}].actor")
        if kind in ("Practitioner", "PractitionerRole"):
            staff.append(rid)
        elif kind == "Patient":
            patients.append(rid)
            outcome = read_extensions(part).get("outcome")
            if outcome:
                outcomes[rid] = outcome
        elif kind == "Location":
            rooms.append(rid)
    if not staff:
        raise InvalidInput(f"{where}: Appointment.participant names no Practitioner")
    ext = read_extensions(appointment)
    return _clean(
        {
            "id": rota_id_of(appointment),
            "session_type": (rota_service or service)[0]["code"],
            "start": appointment["start"],
            "minutes": minutes,
            "staff": list(dict.fromkeys(staff)),
            "patients": list(dict.fromkeys(patients)),
            "group": ext.get("group"),
            "room": rooms[0] if rooms else None,
            "status": rota_status,
            "pinned": ext.get("pinned"),
            "note": appointment.get("comment"),
            "outcomes": outcomes or None,
            "booked_at": appointment.get("created"),
        }
    )


@dataclass
class FacilityFromBundle:
    """What a Bundle says, as a facility file: `data`; `origins` names the resource behind each
    JSON path ($.patients[3] → Patient/p0004) so a problem the loader finds names the resource;
    `warnings` lists the defaults taken for what FHIR did not say; `deleted` the Rota ids of
    appointments entered in error."""

    data: Json
    origins: dict[str, str]
    warnings: list[str]
    deleted: list[str]

    def explain(self, problems: list[str]) -> list[str]:
        """Problems found at facility-file paths, each also naming its resource."""
        out = []
        for problem in problems:
            prefix = max((p for p in self.origins if problem.startswith(p)), key=len, default=None)
            out.append(f"{self.origins[prefix]}: {problem}" if prefix else problem)
        return out


def resources_of(bundle: Json) -> list[Json]:
    """The resources of a Bundle (a problem with the Bundle itself names it)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput("not a FHIR Bundle: the top-level resourceType must be 'Bundle'")
    out = []
    for i, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise InvalidInput(f"Bundle.entry[{i}].resource is missing or has no resourceType")
        out.append(resource)
    return out


def bundle_to_facility(bundle: Json, resolver: Resolver | None = None) -> FacilityFromBundle:
    """A Bundle → a facility file (every resource validated; none left unread silently: a
    resource of a type Rota does not map is a warning)."""
    resources = resources_of(bundle)  # each validated by the function that reads it
    for r in resources:  # read raw below (the others are validated where they are read)
        if r["resourceType"] not in KIND_OF or r["resourceType"] in ("Coverage", "RelatedPerson"):
            validated(r)
    resolver = resolver or Resolver()
    for r in resources:
        if r["resourceType"] in KIND_OF and not (
            r["resourceType"] == "Location" and is_facility_location(r)
        ):
            resolver.add(r)
    by_type: dict[str, list[Json]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    warnings: list[str] = []
    origins: dict[str, str] = {}
    data: Json = {"version": 1}

    locations = by_type.get("Location", [])
    facility = [loc for loc in locations if is_facility_location(loc)]
    if facility:
        data["facility"] = facility_from_fhir(facility[0])
        origins["$.facility"] = label(facility[0])
    rooms = [loc for loc in locations if not is_facility_location(loc)]
    data["rooms"] = [room_from_fhir(loc, warnings) for loc in rooms]
    origins.update({f"$.rooms[{i}]": label(r) for i, r in enumerate(rooms)})

    roles: dict[str, Json] = {}
    for role in by_type.get("PractitionerRole", []):
        if role.get("practitioner"):
            who = resolver.rota_id(role["practitioner"], where=f"{label(role)}.practitioner")
            roles.setdefault(who, role)
    practitioners = by_type.get("Practitioner", [])
    data["staff"] = [staff_from_fhir(p, roles.get(rota_id_of(p)), warnings) for p in practitioners]
    origins.update({f"$.staff[{i}]": label(p) for i, p in enumerate(practitioners)})

    services = by_type.get("HealthcareService", [])
    if services:
        data["session_types"] = [session_type_from_fhir(s, warnings) for s in services]
        origins.update({f"$.session_types[{i}]": label(s) for i, s in enumerate(services)})

    coverages: dict[str, list[Json]] = {}
    for c in by_type.get("Coverage", []):
        who = resolver.rota_id(c["beneficiary"], where=f"{label(c)}.beneficiary")
        coverages.setdefault(who, []).append(c)
    related: dict[str, list[Json]] = {}
    for r in by_type.get("RelatedPerson", []):
        who = resolver.rota_id(r["patient"], where=f"{label(r)}.patient")
        related.setdefault(who, []).append(r)
    patients = by_type.get("Patient", [])
    data["patients"] = []
    for i, p in enumerate(patients):
        rid = rota_id_of(p)
        data["patients"].append(
            patient_from_fhir(p, coverages.get(rid, []), related.get(rid, []), resolver)
        )
        origins[f"$.patients[{i}]"] = label(p)
        for j, c in enumerate(coverages.get(rid, [])):
            origins[f"$.patients[{i}].authorizations[{j}]"] = label(c)
        for j, r in enumerate(related.get(rid, [])):
            origins[f"$.patients[{i}].family_contacts[{j}]"] = label(r)

    groups = by_type.get("Group", [])
    data["groups"] = [group_from_fhir(g, resolver) for g in groups]
    origins.update({f"$.groups[{i}]": label(g) for i, g in enumerate(groups)})

    data["appointments"] = []
    deleted: list[str] = []
    for a in by_type.get("Appointment", []):
        record = appointment_from_fhir(a, resolver)
        if record is None:
            deleted.append(rota_id_of(a))
            continue
        origins[f"$.appointments[{len(data['appointments'])}]"] = label(a)
        data["appointments"].append(record)

    mapped = {*KIND_OF, "Schedule"}
    for rtype, items in by_type.items():
        if rtype not in mapped:
            warnings.append(f"{len(items)} {rtype} resource(s) not mapped to Rota; skipped")
    if not data["appointments"]:
        del data["appointments"]
    return FacilityFromBundle(data, origins, warnings, deleted)

"""The facility file's own checks, before anything is written: the schema, then every cross-reference,
period, capacity, timezone and overlap. Each problem is 'JSON path: what was expected'."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.errors import InvalidInput
from clinic.models import ACTIVE_STATUSES
from clinic.timeutil import parse_date, parse_datetime, parse_hhmm, zone

FACILITY_DEFAULTS = {
    "open_days": ["mon", "tue", "wed", "thu", "fri"],
    "open": "08:00",
    "close": "18:00",
    "slot_minutes": 15,
}


@cache
def facility_schema() -> dict[str, Any]:
    text = resources.files("clinic.schemas").joinpath("facility.schema.json").read_text()
    return json.loads(text)


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(data: dict[str, Any]) -> list[str]:
    """Every problem in the file, as 'JSON path: what was expected'. Empty when it is good."""
    problems = shape_problems(data)
    if problems:
        return problems  # semantic checks assume the shape is right
    return semantic_problems(data)


def shape_problems(data: dict[str, Any]) -> list[str]:
    """What the JSON schema says is wrong (each item of a section is checked on its own)."""
    validator = Draft202012Validator(facility_schema(), format_checker=FormatChecker(["date"]))
    return [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(
            validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
    ]


def semantic_problems(data: dict[str, Any]) -> list[str]:
    """Cross-references, periods, capacities, timezone and overlaps (the shape must be right)."""
    problems: list[str] = []
    try:
        tz = zone(data["facility"]["timezone"])
    except InvalidInput as exc:
        return [f"$.facility.timezone: {exc}"]
    facility = {**FACILITY_DEFAULTS, **data["facility"]}
    if parse_hhmm(facility["open"]) >= parse_hhmm(facility["close"]):
        problems.append("$.facility: open must be before close")

    ids: dict[str, set[str]] = {}
    for section in ("rooms", "staff", "session_types", "patients", "groups", "appointments"):
        seen: set[str] = set()
        for i, item in enumerate(data.get(section, [])):
            if item["id"] in seen:
                problems.append(f"$.{section}[{i}].id: {item['id']!r} is used twice in {section}")
            seen.add(item["id"])
        ids[section] = seen
    if "session_types" not in data:
        ids["session_types"] = {t["id"] for t in BUILTIN_SESSION_TYPES}

    def ref(path: str, value: str | None, section: str, what: str) -> None:
        if value is not None and value not in ids[section]:
            problems.append(f"{path}: {value!r} is not the id of any {what} in {section}")

    def period(path: str, item: dict[str, Any]) -> tuple[datetime, datetime] | None:
        try:
            start, end = parse_datetime(item["start"], tz), parse_datetime(item["end"], tz)
        except InvalidInput as exc:
            problems.append(f"{path}: {exc}")
            return None
        if end <= start:
            problems.append(f"{path}: end must be after start")
        return start, end

    def weekly(path: str, template: dict[str, list[str]] | None) -> None:
        for day, spans in (template or {}).items():
            for j, span in enumerate(spans):
                start, end = span.split("-")
                if parse_hhmm(start) >= parse_hhmm(end):
                    problems.append(f"{path}.{day}[{j}]: {span!r} ends before it starts")

    def dates(path: str, item: dict[str, Any]) -> None:
        if parse_date(item["end"]) < parse_date(item["start"]):
            problems.append(f"{path}: end date {item['end']} is before start date {item['start']}")

    for i, room in enumerate(data.get("rooms", [])):
        for j, p in enumerate(room.get("unavailable", [])):
            period(f"$.rooms[{i}].unavailable[{j}]", p)
    for i, member in enumerate(data.get("staff", [])):
        ref(f"$.staff[{i}].supervisor", member.get("supervisor"), "staff", "staff member")
        if member.get("supervisor") == member["id"]:
            problems.append(f"$.staff[{i}].supervisor: a staff member cannot supervise themself")
        weekly(f"$.staff[{i}].availability", member.get("availability"))
        for j, p in enumerate(member.get("unavailable", [])):
            period(f"$.staff[{i}].unavailable[{j}]", p)
    slack_ids = [m["slack_user_id"] for m in data.get("staff", []) if m.get("slack_user_id")]
    for dup in {s for s in slack_ids if slack_ids.count(s) > 1}:
        problems.append(f"$.staff: slack_user_id {dup!r} belongs to more than one staff member")
    for i, stype in enumerate(data.get("session_types", [])):
        if stype.get("min_patients", 1) > stype.get("max_patients", 1):
            problems.append(f"$.session_types[{i}]: min_patients is more than max_patients")
    for i, patient in enumerate(data.get("patients", [])):
        base = f"$.patients[{i}]"
        ref(f"{base}.primary_clinician", patient.get("primary_clinician"), "staff", "staff member")
        ref(
            f"{base}.preferences.clinician",
            patient.get("preferences", {}).get("clinician"),
            "staff",
            "staff member",
        )
        weekly(f"{base}.availability", patient.get("availability"))
        for j, req in enumerate(patient.get("requirements", [])):
            ref(
                f"{base}.requirements[{j}].session_type",
                req["session_type"],
                "session_types",
                "session type",
            )
        order = patient.get("court_order")
        if order:
            dates(f"{base}.court_order", order)
            ref(f"{base}.court_order.liaison", order.get("liaison"), "staff", "staff member")
            for j, req in enumerate(order["requirements"]):
                ref(
                    f"{base}.court_order.requirements[{j}].session_type",
                    req["session_type"],
                    "session_types",
                    "session type",
                )
        problems.extend(authorization_problems(base, patient.get("authorizations", [])))
        for j, auth in enumerate(patient.get("authorizations", [])):
            dates(f"{base}.authorizations[{j}]", auth)
            for k, stype in enumerate(auth["session_types"]):
                ref(
                    f"{base}.authorizations[{j}].session_types[{k}]",
                    stype,
                    "session_types",
                    "session type",
                )
        for j, contact in enumerate(patient.get("family_contacts", [])):
            weekly(f"{base}.family_contacts[{j}].availability", contact.get("availability"))
    for i, group in enumerate(data.get("groups", [])):
        base = f"$.groups[{i}]"
        ref(f"{base}.session_type", group["session_type"], "session_types", "session type")
        ref(f"{base}.room", group.get("room"), "rooms", "room")
        for j, sid in enumerate(group["facilitators"]):
            ref(f"{base}.facilitators[{j}]", sid, "staff", "staff member")
        for j, pid in enumerate(group["members"]):
            ref(f"{base}.members[{j}]", pid, "patients", "patient")
        for j, slot in enumerate(group.get("schedule", [])):
            ref(f"{base}.schedule[{j}].room", slot.get("room"), "rooms", "room")
        if group.get("capacity") is not None and len(group["members"]) > group["capacity"]:
            problems.append(
                f"{base}.members: {len(group['members'])} members exceed the capacity of {group['capacity']}"
            )
        if len(set(group["members"])) != len(group["members"]):
            problems.append(f"{base}.members: a patient is listed twice")
        weekly(f"{base}.availability", group.get("availability"))

    # Appointments: references, then no two active ones overlap for one person or room.
    busy: dict[tuple[str, str], list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for i, appt in enumerate(data.get("appointments", [])):
        base = f"$.appointments[{i}]"
        ref(f"{base}.session_type", appt["session_type"], "session_types", "session type")
        ref(f"{base}.room", appt.get("room"), "rooms", "room")
        ref(f"{base}.group", appt.get("group"), "groups", "group")
        for j, sid in enumerate(appt["staff"]):
            ref(f"{base}.staff[{j}]", sid, "staff", "staff member")
        for j, pid in enumerate(appt["patients"]):
            ref(f"{base}.patients[{j}]", pid, "patients", "patient")
        outcomes = appt.get("outcomes") or {}
        for pid in outcomes:
            if pid not in appt["patients"]:
                problems.append(f"{base}.outcomes.{pid}: {pid!r} is not one of its patients")
        try:
            start = parse_datetime(appt["start"], tz)
        except InvalidInput as exc:
            problems.append(f"{base}.start: {exc}")
            continue
        if appt.get("status", "booked") not in ACTIVE_STATUSES:
            continue
        end = start + timedelta(minutes=appt["minutes"])
        keys = [("staff member", s) for s in appt["staff"]]
        # A member who cancelled (late or not) holds no time in it.
        keys += [
            ("patient", p)
            for p in appt["patients"]
            if outcomes.get(p, appt.get("status", "booked")) in ACTIVE_STATUSES
        ]
        keys += [("room", appt["room"])] if appt.get("room") else []
        for key in keys:
            for other_start, other_end, j in busy[key]:
                if other_start < end and start < other_end:
                    problems.append(f"{base}: overlaps $.appointments[{j}] for {key[0]} {key[1]!r}")
            busy[key].append((start, end, i))
    return problems


def authorization_problems(base: str, auths: list[dict[str, Any]]) -> list[str]:
    """A patient's authorizations say one thing each: ids are not repeated, and two of the same
    payer never cover the same session type on the same day (which would pay, and count units,
    twice). Reported on the later one's field."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for j, auth in enumerate(auths):
        if auth.get("id") is not None:
            if auth["id"] in seen:
                problems.append(
                    f"{base}.authorizations[{j}].id: {auth['id']!r} is already the id of "
                    f"authorizations[{seen[auth['id']]}]"
                )
            seen.setdefault(auth["id"], j)
        for k, other in enumerate(auths[:j]):
            shared = sorted(set(auth["session_types"]) & set(other["session_types"]))
            if other["payer"] != auth["payer"] or not shared:
                continue
            try:
                overlap = parse_date(auth["start"]) <= parse_date(other["end"]) and parse_date(
                    other["start"]
                ) <= parse_date(auth["end"])
            except InvalidInput:
                continue  # a bad date is reported on its own
            if overlap:
                name = other.get("id") or f"authorizations[{k}]"
                problems.append(
                    f"{base}.authorizations[{j}].start: {auth['start']}..{auth['end']} overlaps "
                    f"{name} of the same payer ({other['payer']}, {other['start']}..{other['end']}) "
                    f"for {', '.join(shared)}; renew or adjust that authorization instead"
                )
    return problems

"""An independent check of a plan against its facility file: counts hard violations.

    python bench/validate_plan.py FACILITY PLAN [--json] [--details 20]

Reads only the two files, as the contracts define them (/work/shared/contracts/
facility.schema.json and plan.schema.json, the shape `rota optimize --out` writes), and never
imports the solver or the assistant: a plan is judged by what the facility file says, not by the
model that produced it. (It reads clinic.catalogue only for the built-in session catalogue and
credential groups the contract names as the default when a file has no `session_types`.)

What it counts, by kind (each a hard violation the plan must not have):
- staff_double_booked, patient_double_booked, room_double_booked: two active appointments of the
  merged schedule (the facility's own appointments and the plan's, one per id, the plan's
  version winning) overlap for one person or room; counted once per overlapping pair.
- unknown_reference: a session type, staff member, patient, room or group the file lacks.
- session_length: minutes differ from the catalogue's; too_many_patients: over max_patients.
- opening_hours: not inside one open day's open..close.
- staff_unavailable, patient_unavailable, group_unavailable, family_unavailable: outside the
  weekly availability (one interval of that weekday) or inside an `unavailable` period.
- room_missing, room_kind, room_capacity (people = patients + staff, + the patient's family
  contacts in a family session), room_closed (a room's `unavailable` period).
- credentials: a staff member whose role is not in the type's staff_roles or who holds none of
  credentials_any (an intern qualifies only where interns are listed).
- needs: a one-patient psychotherapy or assessment session (individual, family,
  intake_assessment and types whose room kind is family) where no staff member has every need.
- group_roster: a group meeting without all its facilitators or with a non-member;
  group_capacity: more attendees than the group's capacity; group_days_apart: two meetings
  fewer days apart than min_days_apart; group_schedule: a group with a fixed schedule meeting at
  another time; group_over_demand: more meetings in a week than sessions_per_week.
- staff_weekly_minutes: an ISO week over the staff member's max_minutes_per_week.
- over_demand: more sessions of a type for a patient in a week than the largest requirement
  (treatment plan or court order) asks, counting only what the plan proposes.

Per-appointment checks apply to the plan's new appointments (ids the facility file lacks);
overlaps and weekly counts use the whole merged schedule. Demand is reported, not counted as a
violation: `required` and `placed` per the requirements (and each group's sessions_per_week) of
the ISO weeks inside the plan's period; `missing` is what is short. Payer authorizations are not
checked (the contract's units and `used` do not say which booked sessions are already counted).
Exit status: 0 no violation, 1 violations, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic.catalogue import BUILTIN_SESSION_TYPES, CREDENTIAL_GROUPS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLDS_TIME = frozenset({"proposed", "booked", "checked_in", "attended", "no_show"})
NEEDS_TYPES = frozenset({"individual", "family", "intake_assessment"})
KINDS = (
    "staff_double_booked",
    "patient_double_booked",
    "room_double_booked",
    "unknown_reference",
    "session_length",
    "too_many_patients",
    "opening_hours",
    "staff_unavailable",
    "patient_unavailable",
    "group_unavailable",
    "family_unavailable",
    "room_missing",
    "room_kind",
    "room_capacity",
    "room_closed",
    "credentials",
    "needs",
    "group_roster",
    "group_capacity",
    "group_days_apart",
    "group_schedule",
    "group_over_demand",
    "staff_weekly_minutes",
    "over_demand",
)
"""Every violation kind this validator counts (the report lists each, zero or not)."""

Span = tuple[datetime, datetime]


class BadInput(ValueError):
    """A file that is not a facility or plan file this validator can read."""


@dataclass(frozen=True)
class Appt:
    id: str
    session_type: str
    start: datetime  # aware, UTC
    end: datetime
    staff: tuple[str, ...]
    patients: tuple[str, ...]
    room: str | None
    group: str | None
    new: bool


@dataclass
class Report:
    violations: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)
    required: int = 0
    placed: int = 0
    group_required: int = 0
    group_placed: int = 0
    new_appointments: int = 0

    def add(self, kind: str, message: str) -> None:
        self.violations[kind] += 1
        self.details.append(f"{kind}: {message}")

    @property
    def total(self) -> int:
        return sum(self.violations.values())

    def as_dict(self, details: int = 20) -> dict[str, Any]:
        return {
            "hard_violations": self.total,
            "by_kind": {k: self.violations.get(k, 0) for k in KINDS},
            "required": self.required,
            "placed": self.placed,
            "missing": self.required - self.placed,
            "group_required": self.group_required,
            "group_placed": self.group_placed,
            "new_appointments": self.new_appointments,
            "details": self.details[:details],
        }


# -- reading ----------------------------------------------------------------------------------


def read_file(path: Path) -> dict[str, Any]:
    """A JSON or YAML file as a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BadInput(f"{path} is not a JSON or YAML object")
    return data


def _moment(text: str, tz: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _weekly(template: Mapping[str, list[str]] | None) -> dict[str, list[tuple[int, int]]] | None:
    """weekday -> merged (from, to) minutes after midnight; None: no limit."""
    if template is None:
        return None
    out: dict[str, list[tuple[int, int]]] = {}
    for day, spans in template.items():
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(tuple(_hhmm(x) for x in s.split("-")) for s in spans):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        out[day] = merged
    return out


def _periods(items: Iterable[Mapping[str, Any]] | None, tz: ZoneInfo) -> list[Span]:
    return [(_moment(p["start"], tz), _moment(p["end"], tz)) for p in items or ()]


class Facility:
    """The facility file, indexed for the checks."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("version") != 1 or "facility" not in data:
            raise BadInput("not a facility file (version 1 with a `facility` section)")
        fac = data["facility"]
        self.tz = ZoneInfo(fac["timezone"])
        self.open_days = set(fac.get("open_days") or WEEKDAYS[:5])
        self.open = _hhmm(fac.get("open", "08:00"))
        self.close = _hhmm(fac.get("close", "18:00"))
        self.rooms = {r["id"]: r for r in data.get("rooms") or ()}
        self.staff = {s["id"]: s for s in data.get("staff") or ()}
        self.patients = {p["id"]: p for p in data.get("patients") or ()}
        self.groups = {g["id"]: g for g in data.get("groups") or ()}
        types = data.get("session_types") or BUILTIN_SESSION_TYPES
        self.types = {t["id"]: t for t in types}
        self.appointments = list(data.get("appointments") or ())
        tz = self.tz
        self.staff_weekly = {k: _weekly(s.get("availability")) for k, s in self.staff.items()}
        self.staff_away = {k: _periods(s.get("unavailable"), tz) for k, s in self.staff.items()}
        self.room_closed = {k: _periods(r.get("unavailable"), tz) for k, r in self.rooms.items()}
        self.patient_weekly = {k: _weekly(p.get("availability")) for k, p in self.patients.items()}
        self.group_weekly = {k: _weekly(g.get("availability")) for k, g in self.groups.items()}
        self.family_weekly = {
            k: [
                _weekly(c["availability"])
                for c in p.get("family_contacts") or ()
                if c.get("availability")
            ]
            for k, p in self.patients.items()
        }

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


def _appt(record: Mapping[str, Any], tz: ZoneInfo, new: bool) -> Appt:
    start = _moment(record["start"], tz)
    return Appt(
        id=str(record["id"]),
        session_type=record["session_type"],
        start=start,
        end=start + timedelta(minutes=int(record["minutes"])),
        staff=tuple(record.get("staff") or ()),
        patients=tuple(record.get("patients") or ()),
        room=record.get("room"),
        group=record.get("group"),
        new=new,
    )


# -- checks -----------------------------------------------------------------------------------


def _inside_weekly(
    weekly: Mapping[str, list[tuple[int, int]]] | None, fac: Facility, a: Appt
) -> bool:
    """Inside one interval of the local weekday's template (None: no limit)."""
    if weekly is None:
        return True
    lo, hi = fac.local(a.start), fac.local(a.end)
    day = WEEKDAYS[lo.weekday()]
    start = lo.hour * 60 + lo.minute
    end = start + int((hi - lo).total_seconds() // 60)
    return any(x <= start and end <= y for x, y in weekly.get(day, ()))


def _clashes(periods: Iterable[Span], a: Appt) -> bool:
    return any(lo < a.end and a.start < hi for lo, hi in periods)


def _qualifies(staff: Mapping[str, Any], kind: Mapping[str, Any]) -> bool:
    roles = set(kind.get("staff_roles") or ())
    creds = {c for n in kind.get("credentials_any") or () for c in CREDENTIAL_GROUPS.get(n, (n,))}
    if staff.get("role") == "intern":
        return "intern" in roles
    role_ok = not roles or staff.get("role") in roles
    return role_ok and (not creds or bool(creds & set(staff.get("credentials") or ())))


def _check_one(fac: Facility, a: Appt, report: Report) -> None:
    """Everything one new appointment must keep on its own."""
    kind = fac.types.get(a.session_type)
    missing: list[str] = [x for x in a.staff if x not in fac.staff]
    missing += [x for x in a.patients if x not in fac.patients]
    if a.room and a.room not in fac.rooms:
        missing.append(a.room)
    if a.group and a.group not in fac.groups:
        missing.append(a.group)
    if kind is None:
        missing.append(a.session_type)
    if missing:
        report.add("unknown_reference", f"{a.id}: {', '.join(missing)}")
        return
    minutes = int((a.end - a.start).total_seconds() // 60)
    if minutes != kind["minutes"]:
        report.add(
            "session_length", f"{a.id}: {minutes} min, {a.session_type} is {kind['minutes']}"
        )
    if len(a.patients) > kind.get("max_patients", 1):
        report.add("too_many_patients", f"{a.id}: {len(a.patients)} patients")
    lo, hi = fac.local(a.start), fac.local(a.end)
    day_ok = WEEKDAYS[lo.weekday()] in fac.open_days and lo.date() == hi.date()
    start_min = lo.hour * 60 + lo.minute
    if not day_ok or start_min < fac.open or start_min + minutes > fac.close:
        report.add("opening_hours", f"{a.id}: {lo:%a %H:%M}-{hi:%H:%M}")
    for s in a.staff:
        if not _inside_weekly(fac.staff_weekly[s], fac, a) or _clashes(fac.staff_away[s], a):
            report.add("staff_unavailable", f"{a.id}: {s} at {lo:%a %H:%M}")
        if not _qualifies(fac.staff[s], kind):
            report.add("credentials", f"{a.id}: {s} may not provide {a.session_type}")
    family = "family" in (kind.get("room_kinds") or ())[:1] or a.session_type == "family"
    for p in a.patients:
        if not _inside_weekly(fac.patient_weekly[p], fac, a):
            report.add("patient_unavailable", f"{a.id}: {p} at {lo:%a %H:%M}")
        contacts = fac.family_weekly[p]
        if family and contacts and not any(_inside_weekly(w, fac, a) for w in contacts):
            report.add("family_unavailable", f"{a.id}: {p}'s family at {lo:%a %H:%M}")
    if len(a.patients) == 1 and not a.group and (family or a.session_type in NEEDS_TYPES):
        needs = set(fac.patients[a.patients[0]].get("needs") or ())
        if needs and not any(
            needs <= set(fac.staff[s].get("specializations") or ()) for s in a.staff
        ):
            report.add("needs", f"{a.id}: no clinician with {sorted(needs)}")
    _check_room(fac, a, kind, family, report)
    if a.group:
        _check_group_meeting(fac, a, report)


def _check_room(
    fac: Facility, a: Appt, kind: Mapping[str, Any], family: bool, report: Report
) -> None:
    room_kinds = kind.get("room_kinds") or ()
    if not a.room:
        if room_kinds:
            report.add("room_missing", f"{a.id}: {a.session_type} needs a room")
        return
    room = fac.rooms[a.room]
    if room_kinds and room["kind"] not in room_kinds:
        report.add("room_kind", f"{a.id}: {a.room} is a {room['kind']} room")
    people = len(a.patients) + len(a.staff)
    if family:
        people += sum(len(fac.patients[p].get("family_contacts") or ()) for p in a.patients)
    if people > room["capacity"]:
        report.add(
            "room_capacity", f"{a.id}: {people} people in {a.room} (holds {room['capacity']})"
        )
    if _clashes(fac.room_closed[a.room], a):
        report.add("room_closed", f"{a.id}: {a.room} is closed then")


def _check_group_meeting(fac: Facility, a: Appt, report: Report) -> None:
    group = fac.groups[a.group or ""]
    if not set(group["facilitators"]) <= set(a.staff) or not set(a.patients) <= set(
        group["members"]
    ):
        report.add("group_roster", f"{a.id}: not {a.group}'s facilitators and members")
    if group.get("capacity") and len(a.patients) > group["capacity"]:
        report.add("group_capacity", f"{a.id}: {len(a.patients)} in {a.group}")
    if not _inside_weekly(fac.group_weekly[a.group or ""], fac, a):
        report.add("group_unavailable", f"{a.id}: {a.group} at {fac.local(a.start):%a %H:%M}")
    fixed = group.get("schedule") or ()
    if fixed:
        lo = fac.local(a.start)
        at = (WEEKDAYS[lo.weekday()], f"{lo:%H:%M}")
        if at not in {(item["day"], item["start"]) for item in fixed}:
            report.add("group_schedule", f"{a.id}: {a.group} is fixed, not at {at[0]} {at[1]}")


def _overlaps(schedule: list[Appt], report: Report) -> None:
    """Double bookings: one count per overlapping pair, per staff member, patient and room."""
    by: dict[tuple[str, str], list[Appt]] = defaultdict(list)
    for a in schedule:
        for s in a.staff:
            by[("staff_double_booked", s)].append(a)
        for p in a.patients:
            by[("patient_double_booked", p)].append(a)
        if a.room:
            by[("room_double_booked", a.room)].append(a)
    for (kind, who), appts in by.items():
        appts.sort(key=lambda x: (x.start, x.end))
        for i, a in enumerate(appts):
            for b in appts[i + 1 :]:
                if b.start >= a.end:
                    break
                report.add(kind, f"{who}: {a.id} and {b.id}")


def _iso_week(fac: Facility, moment: datetime) -> date:
    local = fac.local(moment).date()
    return local - timedelta(days=local.weekday())


def _weeks(fac: Facility, period: Span) -> list[date]:
    """Mondays of the ISO weeks wholly inside the period (facility-local)."""
    first = fac.local(period[0]).date()
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while datetime.combine(monday + timedelta(days=7), datetime.min.time(), fac.tz) <= period[1]:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def _demand(fac: Facility, schedule: list[Appt], period: Span, report: Report) -> None:
    """Required vs placed per ISO week; weekly caps and group spacing."""
    weeks = set(_weeks(fac, period))
    count: Counter[tuple[str, str, date]] = Counter()
    new_count: Counter[tuple[str, str, date]] = Counter()
    meetings: dict[tuple[str, date], list[Appt]] = defaultdict(list)
    minutes: Counter[tuple[str, date]] = Counter()
    for a in schedule:
        week = _iso_week(fac, a.start)
        for s in a.staff:
            minutes[(s, week)] += int((a.end - a.start).total_seconds() // 60)
        if a.group:
            meetings[(a.group, week)].append(a)
            continue
        for p in a.patients:
            count[(p, a.session_type, week)] += 1
            new_count[(p, a.session_type, week)] += a.new
    for (s, week), total in minutes.items():
        cap = fac.staff.get(s, {}).get("max_minutes_per_week")
        if cap is not None and total > cap and week in weeks:
            report.add("staff_weekly_minutes", f"{s}: {total} min in week {week}, cap {cap}")
    for pid, patient in fac.patients.items():
        if patient.get("phase") == "discharged":
            continue
        wanted: dict[str, int] = {}
        reqs = list(patient.get("requirements") or ())
        order = patient.get("court_order") or {}
        reqs += list(order.get("requirements") or ())
        for req in reqs:
            st = req["session_type"]
            wanted[st] = max(wanted.get(st, 0), int(req["per_week"]))
        for st, per_week in wanted.items():
            if per_week <= 0 or fac.types.get(st, {}).get("max_patients", 1) > 1:
                continue  # group types are met through the groups' own meetings
            for week in weeks:
                have = count[(pid, st, week)]
                report.required += per_week
                report.placed += min(have, per_week)
                if have > per_week and new_count[(pid, st, week)]:
                    report.add("over_demand", f"{pid}: {have} {st} in week {week}, asks {per_week}")
    for gid, group in fac.groups.items():
        per_week = group.get("sessions_per_week") or len(group.get("schedule") or ()) or 1
        apart = int(group.get("min_days_apart") or 0)
        for week in weeks:
            held = sorted(meetings[(gid, week)], key=lambda x: x.start)
            report.group_required += per_week
            report.group_placed += min(len(held), per_week)
            if len(held) > per_week and any(x.new for x in held):
                report.add("group_over_demand", f"{gid}: {len(held)} meetings in week {week}")
            days = [fac.local(x.start).date() for x in held]
            for d1, d2 in pairwise(days):
                if apart and (d2 - d1).days < apart:
                    report.add("group_days_apart", f"{gid}: meetings on {d1} and {d2}")
    report.required += report.group_required
    report.placed += report.group_placed


def validate_plan(facility: Mapping[str, Any], plan: Mapping[str, Any]) -> Report:
    """Hard violations of `plan` (plan.schema.json) against `facility` (facility.schema.json)."""
    fac = Facility(facility)
    if plan.get("version") != 1 or "appointments" not in plan or "period" not in plan:
        raise BadInput("not a plan file (version 1 with `period` and `appointments`)")
    tz = fac.tz
    try:
        period = (_moment(plan["period"]["start"], tz), _moment(plan["period"]["end"], tz))
        merged: dict[str, Appt] = {}
        for record in fac.appointments:
            if record.get("status", "booked") in HOLDS_TIME:
                merged[str(record["id"])] = _appt(record, tz, new=False)
        known = {str(r["id"]) for r in fac.appointments}
        for record in plan["appointments"]:
            rid = str(record["id"])
            if record.get("status", "booked") in HOLDS_TIME:
                merged[rid] = _appt(record, tz, new=rid not in known)
            else:
                merged.pop(rid, None)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"an appointment or period is malformed: {exc}") from exc
    report = Report()
    schedule = sorted(merged.values(), key=lambda a: (a.start, a.id))
    for a in schedule:
        if a.new:
            report.new_appointments += 1
            _check_one(fac, a, report)
    _overlaps(schedule, report)
    _demand(fac, schedule, period, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("facility", type=Path)
    parser.add_argument("plan", type=Path)
    parser.add_argument("--details", type=int, default=20, help="How many messages to list.")
    args = parser.parse_args(argv)
    try:
        report = validate_plan(read_file(args.facility), read_file(args.plan))
    except (BadInput, KeyError) as exc:
        print(f"validate_plan: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(args.details), indent=2))
    return 1 if report.total else 0


if __name__ == "__main__":
    sys.exit(main())

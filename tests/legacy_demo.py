"""The demo facility as it was before issue 13 (two weeks of history, 10-18 % of clinician time
booked), kept for the tests that pin its appointments by id and time (tests/conftest.py
`demo_data`). `rota demo` and the benches use `clinic.demo`; these tests are to move to it
(behaviour, not this file's numbers) and this copy then goes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.demo import SPECIALIZATIONS, roster
from clinic.timeutil import WEEKDAYS, format_hhmm, parse_hhmm

TIMEZONE = "America/New_York"
OPEN, CLOSE, SLOT = "08:00", "19:00", 15
WORKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@dataclass(frozen=True)
class Size:
    clinicians: int
    rooms: int
    patients: int


SIZES = {
    "s": Size(8, 6, 60),
    "m": Size(25, 14, 220),
    "l": Size(60, 30, 600),
    "xl": Size(150, 70, 1600),
}

GROUP_TOPICS = [
    ("Relapse Prevention", None),
    ("Early Recovery Skills", None),
    ("DBT Skills", "dual_diagnosis"),
    ("Seeking Safety", "trauma"),
    ("Women's Process Group", "womens"),
    ("Grupo de Recuperación", "spanish_speaking"),
    ("MAT Support", "mat"),
    ("Family Education", "family_systems"),
    ("Veterans Recovery", "veterans"),
    ("Anger Management", None),
    ("Mindfulness-Based Relapse Prevention", None),
    ("Adolescent Skills", "adolescent"),
]
GROUP_MIN_MEMBERS = next(t["min_patients"] for t in BUILTIN_SESSION_TYPES if t["id"] == "group")


def generate_demo(size: str = "s", seed: int = 7, start: date | None = None) -> dict[str, Any]:
    if size not in SIZES:
        from clinic.errors import InvalidInput

        raise InvalidInput(f"unknown demo size {size!r}: use one of {', '.join(SIZES)}")
    return _Builder(SIZES[size], seed, start or date.today()).build()


@dataclass
class _Busy:
    """Occupied 15-minute cells per resource and day, for conflict-free placement."""

    cells: dict[tuple[str, date], set[int]] = field(default_factory=lambda: defaultdict(set))

    def free(self, keys: list[str], day: date, start: int, minutes: int) -> bool:
        wanted = range(start // SLOT, (start + minutes) // SLOT)
        return all(not (self.cells[(k, day)] & set(wanted)) for k in keys)

    def take(self, keys: list[str], day: date, start: int, minutes: int) -> None:
        for k in keys:
            self.cells[(k, day)].update(range(start // SLOT, (start + minutes) // SLOT))


class _Builder(roster._Builder):
    """The old facility around the roster's people (drawn by `clinic.demo.roster`, the one copy
    of those draws): rooms, groups, two weeks of history."""

    def __init__(self, size: Size, seed: int, start: date) -> None:
        super().__init__(size, seed, start)  # type: ignore[arg-type]  # has clinicians, patients
        self.busy = _Busy()
        self.appointments: list[dict[str, Any]] = []
        self.by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)

    # -- people and places ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        rooms = self._rooms()
        staff = self._staff()
        patients = self._patients(staff)
        groups = self._groups(staff, patients, rooms)
        self._schedule(staff, patients, groups, rooms)
        self._settle_authorizations(patients)
        # Last, so the seeded people and history stay as they were: it only widens who may see whom.
        _cover_every_specialization(staff)
        return {
            "version": 1,
            "facility": {
                "name": f"{self.fake.city()} Recovery Center",
                "timezone": TIMEZONE,
                "open_days": WORKDAYS,
                "open": OPEN,
                "close": CLOSE,
                "slot_minutes": SLOT,
            },
            "rooms": rooms,
            "staff": staff,
            "patients": patients,
            "groups": groups,
            "appointments": sorted(self.appointments, key=lambda a: (a["start"], a["id"])),
        }

    def _rooms(self) -> list[dict[str, Any]]:
        n = self.size.rooms
        counts = {
            "group": max(1, n // 5),
            "family": max(1, n // 10),
            "medical": max(1, n // 10),
            "telehealth": n // 10,
        }
        counts["individual"] = n - sum(counts.values())
        rooms = []
        capacity = {"individual": 3, "group": 14, "family": 6, "medical": 3, "telehealth": 2}
        for kind in ("individual", "group", "family", "medical", "telehealth"):
            for i in range(counts[kind]):
                rooms.append(
                    {
                        "id": f"{kind[:3]}-{i + 1}",
                        "name": f"{kind.title()} room {i + 1}",
                        "kind": kind,
                        "capacity": capacity[kind],
                    }
                )
        rooms[0]["features"] = ["accessible"]
        return rooms

    def _settle_authorizations(self, patients: list[dict[str, Any]]) -> None:
        """Units documented before Rota + sessions attended in its history + sessions booked
        ahead never exceed what was authorized, with a few patients left close to the end (so
        warnings have something to show)."""
        counted: dict[tuple[str, str], int] = defaultdict(int)
        for a in self.appointments:
            if a["status"] in ("booked", "attended"):
                for pid in a["patients"]:
                    counted[(pid, a["session_type"])] += 1
        for patient in patients:
            for auth in patient.get("authorizations", []):
                booked = sum(counted.get((patient["id"], t), 0) for t in auth["session_types"])
                if auth["units"] < booked + 2:
                    auth["units"] = booked + self.rng.choice([2, 6, 12])
                room = auth["units"] - booked - self.rng.choice([1, 2, 3, 6, 10])
                auth["used"] = max(0, min(auth["used"], room))

    # -- groups --------------------------------------------------------------------------------

    def _groups(
        self,
        staff: list[dict[str, Any]],
        patients: list[dict[str, Any]],
        rooms: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        eligible = [
            p
            for p in patients
            if p["level_of_care"] in {"2.1", "2.5", "3.1", "3.5"} and p["phase"] != "intake"
        ]
        facilitators = [s for s in staff if s["role"] in {"therapist", "counselor"}]
        group_rooms = [r["id"] for r in rooms if r["kind"] == "group"]
        count = max(2, len(eligible) // 9)
        groups: list[dict[str, Any]] = []
        assigned: dict[str, int] = defaultdict(int)
        for i in range(count):
            topic, need = GROUP_TOPICS[i % len(GROUP_TOPICS)]
            pool = [p for p in eligible if need is None or need in p["needs"]]
            pool = pool if len(pool) >= GROUP_MIN_MEMBERS else eligible
            pool = sorted(pool, key=lambda p: (assigned[p["id"]], p["id"]))
            members = [p["id"] for p in pool[: self.rng.randint(6, 10)] if assigned[p["id"]] < 2]
            for m in members:
                assigned[m] += 1
            leads = [
                f for f in facilitators if need is None or need in f["specializations"]
            ] or facilitators
            lead = leads[i % len(leads)]["id"]
            group: dict[str, Any] = {
                "id": f"g{i + 1:02d}",
                "name": topic
                + (f" {i // len(GROUP_TOPICS) + 1}" if i >= len(GROUP_TOPICS) else ""),
                "session_type": "group",
                "facilitators": [lead],
                "members": members,
                "capacity": 12,
                "closed": self.rng.random() < 0.25,
                "sessions_per_week": self.rng.choice([2, 3]),
                "min_days_apart": 1,
            }
            if i % 2 == 0:
                group["room"] = group_rooms[i % len(group_rooms)]
            groups.append(group)
        return groups

    # -- appointments --------------------------------------------------------------------------

    def _schedule(
        self,
        staff: list[dict[str, Any]],
        patients: list[dict[str, Any]],
        groups: list[dict[str, Any]],
        rooms: list[dict[str, Any]],
    ) -> None:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for r in rooms:
            by_kind[r["kind"]].append(r["id"])
        patient_hours = {p["id"]: p.get("availability") for p in patients}
        prescribers = [
            s["id"]
            for s in staff
            if s["role"] in {"psychiatrist", "nurse_practitioner", "physician"}
        ]
        weeks = [self.week - timedelta(days=14), self.week - timedelta(days=7), self.week]
        # Fixed weekly group times, chosen once and repeated every week.
        for group in groups:
            days = [d for d in WORKDAYS if self.rng.random() < 0.7][: group["sessions_per_week"]]
            days = days or ["tue"]
            schedule = []
            for day_name in days:
                found = self._find_weekly(
                    weeks,
                    day_name,
                    [*group["facilitators"], *group["members"]],
                    [group["room"]] if "room" in group else by_kind["group"],
                    90,
                    patient_hours,
                )
                if found is None:
                    continue
                start, room = found
                schedule.append({"day": day_name, "start": format_hhmm(start), "room": room})
                for week in weeks:
                    day = week + timedelta(days=WEEKDAYS.index(day_name))
                    self._add(
                        day,
                        start,
                        90,
                        "group",
                        group["facilitators"],
                        group["members"],
                        room,
                        group["id"],
                    )
            if schedule:
                group["schedule"] = schedule
                group["sessions_per_week"] = len(schedule)
        for week in weeks:
            for patient in patients:
                for req in patient["requirements"]:
                    stype = next(t for t in BUILTIN_SESSION_TYPES if t["id"] == req["session_type"])
                    for _ in range(req["per_week"]):
                        if req["session_type"] == "medication_management":
                            clinicians = sorted(prescribers, key=lambda s: self.rng.random())
                        elif req["session_type"] == "case_management":
                            clinicians = [s["id"] for s in staff if s["role"] == "case_manager"]
                        else:
                            clinicians = [patient["primary_clinician"]]
                        kinds = [k for k in stype["room_kinds"] if k != "telehealth"]
                        self._place_individual(week, patient, clinicians, stype, kinds, by_kind)

    def _find_weekly(
        self,
        weeks: list[date],
        day_name: str,
        people: list[str],
        room_ids: list[str],
        minutes: int,
        patient_hours: dict[str, Any],
    ) -> tuple[int, str] | None:
        starts = list(range(parse_hhmm("09:00"), parse_hhmm("17:30") + 1, 30))
        self.rng.shuffle(starts)
        for start in starts:
            if not all(self._works(p, day_name, start, minutes, patient_hours) for p in people):
                continue
            days = [week + timedelta(days=WEEKDAYS.index(day_name)) for week in weeks]
            if any(day in self.away[p] for p in people for day in days):
                continue  # a facilitator on leave that day: the booking would refuse it
            for room in room_ids:
                if all(
                    self.busy.free(
                        [*people, room],
                        week + timedelta(days=WEEKDAYS.index(day_name)),
                        start,
                        minutes,
                    )
                    for week in weeks
                ):
                    return start, room
        return None

    def _works(
        self, who: str, day_name: str, start: int, minutes: int, patient_hours: dict[str, Any]
    ) -> bool:
        hours = self.hours.get(who) if who in self.hours else patient_hours.get(who)
        if hours is None:
            return parse_hhmm(OPEN) <= start and start + minutes <= parse_hhmm(CLOSE)
        for span in hours.get(day_name, []):
            a, b = (parse_hhmm(x) for x in span.split("-"))
            if a <= start and start + minutes <= b:
                return True
        return False

    def _place_individual(
        self,
        week: date,
        patient: dict[str, Any],
        clinicians: list[str],
        stype: dict[str, Any],
        kinds: list[str],
        by_kind: dict[str, list[str]],
    ) -> None:
        minutes = stype["minutes"]
        avoid = set(patient.get("preferences", {}).get("avoid_days", []))
        days = [d for d in WORKDAYS if d not in avoid]
        self.rng.shuffle(days)
        starts = list(range(parse_hhmm(OPEN), parse_hhmm(CLOSE) - minutes + 1, SLOT * 2))
        hours = {patient["id"]: patient.get("availability")}
        for day_name in days:
            day = week + timedelta(days=WEEKDAYS.index(day_name))
            if stype["id"] == "individual" and self._has_session(patient["id"], day, "individual"):
                continue
            offset = self.rng.randrange(len(starts))
            for start in starts[offset:] + starts[:offset]:
                for clinician in clinicians:
                    if day in self.away[clinician]:
                        continue
                    if not (
                        self._works(clinician, day_name, start, minutes, hours)
                        and self._works(patient["id"], day_name, start, minutes, hours)
                    ):
                        continue
                    for kind in kinds:
                        for room in by_kind[kind]:
                            if self.busy.free(
                                [clinician, patient["id"], room], day, start, minutes
                            ):
                                self._add(
                                    day,
                                    start,
                                    minutes,
                                    stype["id"],
                                    [clinician],
                                    [patient["id"]],
                                    room,
                                    None,
                                )
                                return

    def _has_session(self, patient_id: str, day: date, session_type: str) -> bool:
        return any(
            a["session_type"] == session_type and patient_id in a["patients"] and a["_day"] == day
            for a in self.by_patient.get(patient_id, [])
        )

    def _add(
        self,
        day: date,
        start: int,
        minutes: int,
        session_type: str,
        staff: list[str],
        patients: list[str],
        room: str,
        group: str | None,
    ) -> None:
        self.busy.take([*staff, *patients, room], day, start, minutes)
        if day < self.today:
            status = self.rng.choices(
                ["attended", "no_show", "cancelled", "late_cancelled"], [80, 10, 6, 4]
            )[0]
        else:
            status = "booked"
        appointment: dict[str, Any] = {
            "id": f"a{len(self.appointments) + 1:05d}",
            "session_type": session_type,
            "start": self._local(day, start),
            "minutes": minutes,
            "staff": list(staff),
            "patients": list(patients),
            "room": room,
            "status": status,
            "pinned": False,
        }
        if group:
            appointment["group"] = group
        self.appointments.append(appointment)
        for p in patients:
            self.by_patient[p].append({**appointment, "_day": day})


def _cover_every_specialization(staff: list[dict[str, Any]]) -> None:
    """Give each specialization no therapist or counselor has to the one with fewest: those see
    patients one to one, so "find a dual-diagnosis slot for ..." finds someone on every demo."""
    clinicians = [s for s in staff if s["role"] in {"therapist", "counselor"}]
    for spec in SPECIALIZATIONS:
        if not any(spec in c["specializations"] for c in clinicians):
            fewest = min(clinicians, key=lambda c: (len(c["specializations"]), c["id"]))
            fewest["specializations"] = sorted({*fewest["specializations"], spec})

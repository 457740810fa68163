"""Hard planning instances as facility files, each generated from a hidden feasible schedule.

    python bench/hard_instances.py --instance tight-s [--seed 1] [--out DIR] [--hidden]
    python bench/hard_instances.py --instance groups --out DIR      # the ten groups-NN files

Every instance is built the other way round from a real facility: first a complete schedule of
the week of Monday 2026-12-07 (the "hidden" schedule: every session placed, no double booking,
every room, hour and window kept), then the facility file that asks for exactly those sessions
(weekly requirements, standing groups) with hours, windows, rooms and absences that the hidden
schedule fits. So a plan that places 100% EXISTS for every instance, and "placed" measures the
planner, not the instance. `--hidden` also writes that schedule as a plan file
(plan.schema.json); bench/validate_plan.py passes it with zero violations and 100% placed
(tests/bench_sim/test_hard_instances.py checks this on the small instances). The facility files
carry no appointments: the whole week is open to the planner.

Two families, deterministic for a name and seed:

**tight-s / tight-m / tight-l** (about 120 / 450 / 1,200 required sessions; 4 / 15 / 40
therapists, about 50 / 200 / 580 patients). Therapists work part-time shifts (early 07:00-13:00,
day, mid or late 14:00-20:00; 4-5 days) and the hidden schedule fills 90-95% of their minutes
with individual psychotherapy (45 min), family sessions (50 min, the family's own hours) and the
groups they facilitate (90 min, 1-3 meetings a week, several groups a day, half with their own
narrower availability). Working patients (about a third) can come only early (07:00-09:30) or in
the evening (16:30-20:00) on a few days. Each patient's own therapist is their primary
clinician; a quarter have needs only some therapists meet. Rooms: the hidden schedule's peak per
room kind (individual rooms + 1). The built-in catalogue and its rules apply unchanged (one
individual psychotherapy a day, 240 psychotherapy minutes a day, at most 12 in a group).

**groups-01 .. groups-10** (138-434 group sessions each), shaped like curriculum-based course
timetabling (ITC 2007 track 3) written as a facility: cohorts (a curriculum's patients, 3-12 of
them) attend every group of their curriculum, 10-25 meetings a week, several a day; a group may
sit in several curricula, so its members are the union of theirs; groups meet 1-7 times a week
(more often than the 5 open days, so some meet twice a day: `min_days_apart` 0, the contract's
default; a third of the groups that meet on distinct days keep 1); each facilitator runs several
groups and is away for some periods of the week (`unavailable`); rooms have capacities that follow
the groups' sizes (10 to about 30) and are 70-92% occupied by the hidden timetable (tighter as NN grows). The session
type is the file's own `seminar` (90 min, group rooms, counselors or therapists, up to 60
patients): a psychotherapy group (90853) would add the daily psychotherapy cap and the 12-member
maximum, which course timetabling does not have. Six meeting periods a day (08:00, 09:30, ...,
15:30); the planner may start a meeting at any half hour.

Files are small enough to keep out of git: `instance_path(name, seed)` generates on demand and
caches under the temp dir.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
MONDAY = date(2026, 12, 7)
DAYS = ("mon", "tue", "wed", "thu", "fri")
SPECS = ("trauma", "dual_diagnosis", "womens", "veterans", "spanish_speaking", "adolescent")
TIGHT_SIZES = {"s": 4, "m": 15, "l": 37}
"""Therapists per tight week."""
GROUP_FAMILY = tuple(f"groups-{n:02d}" for n in range(1, 11))
SHIFTS = ((7 * 60, 13 * 60), (9 * 60, 15 * 60), (11 * 60, 17 * 60), (14 * 60, 20 * 60))
EARLY, EVENING = (7 * 60, 9 * 60 + 30), (16 * 60 + 30, 20 * 60)
VERSION = 2
"""Bumped whenever the generator's output changes (the cache's file names carry it)."""
MINUTES = {"individual": 45, "family": 50, "group": 90, "seminar": 90}


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def moment(day: int, minutes: int) -> str:
    at = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time(), TZ)
    return (at + timedelta(minutes=minutes)).isoformat(timespec="minutes")


@dataclass
class Session:
    """One session of the hidden schedule (minutes after local midnight of `day`)."""

    session_type: str
    day: int
    start: int
    staff: str
    patients: list[str] = field(default_factory=list)
    group: str | None = None
    room: str | None = None

    @property
    def end(self) -> int:
        return self.start + MINUTES[self.session_type]


@dataclass
class Instance:
    name: str
    seed: int
    facility: dict[str, Any]
    hidden: list[Session]

    def hidden_plan(self) -> dict[str, Any]:
        """The hidden schedule as a plan file (plan.schema.json)."""
        appointments = [
            {
                "id": f"h{n:05d}",
                "session_type": s.session_type,
                "start": moment(s.day, s.start),
                "minutes": MINUTES[s.session_type],
                "staff": [s.staff],
                "patients": list(s.patients),
                "status": "proposed",
                "pinned": False,
                **({"room": s.room} if s.room else {}),
                **({"group": s.group} if s.group else {}),
            }
            for n, s in enumerate(self.hidden, 1)
        ]
        return {
            "version": 1,
            "period": {"start": moment(0, 0), "end": moment(7, 0)},
            "appointments": appointments,
            "unmet": [],
            "metrics": {
                "required_sessions": len(appointments),
                "placed_sessions": len(appointments),
                "staff_utilization": 0.0,
                "room_utilization": 0.0,
            },
            "solver": {"status": "FEASIBLE", "seconds": 0.0},
        }


def _free(busy: list[tuple[int, int, int]], day: int, start: int, end: int) -> bool:
    return not any(d == day and s < end and start < e for d, s, e in busy)


def _assign_rooms(
    sessions: list[Session], kind_of: dict[str, str], prefix: dict[str, str]
) -> dict[str, int]:
    """Interval colouring per room kind (exact for identical rooms): room ids on the sessions,
    returns the rooms needed per kind."""
    needed: dict[str, int] = defaultdict(int)
    for kind in set(kind_of.values()):
        ends: list[int] = []  # per room: when it is free again (a week as one timeline)
        for s in sorted(
            (s for s in sessions if kind_of[s.session_type] == kind), key=lambda s: (s.day, s.start)
        ):
            at = s.day * 1440 + s.start
            room = next((i for i, free in enumerate(ends) if free <= at), None)
            if room is None:
                ends.append(0)
                room = len(ends) - 1
            ends[room] = s.day * 1440 + s.end
            s.room = f"{prefix[kind]}-{room + 1:02d}"
        needed[kind] = len(ends)
    return needed


# -- tight weeks ------------------------------------------------------------------------------


@dataclass
class _Patient:
    id: str
    therapist: str
    window: tuple[int, int] | None  # a working patient's hours (EARLY or EVENING)
    days: set[int] = field(default_factory=set)
    busy: list[tuple[int, int, int]] = field(default_factory=list)
    psycho: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    individual: int = 0
    family_day: int | None = None
    family_window: tuple[int, int] | None = None
    groups: int = 0

    def fits(self, day: int, start: int, end: int, psycho_cap: int = 240) -> bool:
        inside = self.window is None or (self.window[0] <= start and end <= self.window[1])
        minutes = end - start
        return (
            inside
            and _free(self.busy, day, start, end)
            and self.psycho[day] + minutes <= psycho_cap
        )

    def take(self, s: Session) -> None:
        self.busy.append((s.day, s.start, s.end))
        self.psycho[s.day] += MINUTES[s.session_type]
        s.patients.append(self.id)


def _fill_day(
    rng: random.Random, shift: tuple[int, int], taken: list[tuple[int, int]], util: float
) -> list[tuple[str, int]]:
    """(type, start) blocks filling a shift around `taken` (the groups) to about `util` of it."""
    lo, hi = shift
    idle_left = (hi - lo) * (1 - util)
    out: list[tuple[str, int]] = []
    t = lo
    while t < hi:
        block = next(((a, b) for a, b in taken if a <= t < b), None)
        if block:
            t = block[1]
            continue
        limit = min([hi] + [a for a, _ in taken if a > t])
        room_left = limit - t
        kind = "family" if rng.random() < 0.12 else "individual"
        if room_left < MINUTES[kind]:
            kind = "individual"
        if room_left < 45 or (idle_left >= 15 and rng.random() < idle_left / max(room_left, 1)):
            idle_left -= 15
            t += 15
            continue
        out.append((kind, t))
        used = math.ceil(MINUTES[kind] / 15) * 15
        idle_left -= used - MINUTES[kind]
        t += used
    return out


def tight_instance(size: str, seed: int = 1) -> Instance:
    rng = random.Random(f"tight-{size}-{seed}")
    n_ther = TIGHT_SIZES[size]
    staff: list[dict[str, Any]] = []
    sessions: list[Session] = []
    groups: list[dict[str, Any]] = []
    patients: list[_Patient] = []
    shift_of: dict[str, tuple[int, int]] = {}
    workdays: dict[str, list[int]] = {}
    for n in range(1, n_ther + 1):
        sid = f"c{n:03d}"
        shift = SHIFTS[(n - 1) % len(SHIFTS)] if n <= len(SHIFTS) else rng.choice(SHIFTS)
        days = sorted(rng.sample(range(5), rng.choice((4, 5, 5))))
        shift_of[sid], workdays[sid] = shift, days
        staff.append(
            {
                "id": sid,
                "name": f"Therapist {n}",
                "role": "therapist",
                "credentials": [rng.choice(("LCSW", "LPC", "LMFT"))],
                "specializations": sorted(rng.sample(SPECS, rng.choice((1, 2)))),
                "availability": {DAYS[d]: [f"{hhmm(shift[0])}-{hhmm(shift[1])}"] for d in days},
            }
        )
    # Groups first: 0-2 per therapist, 1-3 meetings on their days, on the half hour.
    group_sessions: dict[str, list[Session]] = {}
    taken: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for st in staff:
        sid = st["id"]
        for _ in range(rng.choice((0, 1, 1, 2))):
            gid = f"g{len(groups) + 1:02d}"
            meet_days = sorted(
                rng.sample(workdays[sid], min(len(workdays[sid]), rng.choice((1, 2, 2, 3))))
            )
            lo, hi = shift_of[sid]
            start = lo + 30 * rng.randrange(0, (hi - lo - 90) // 30 + 1)
            if any(
                not _free([(d, a, b) for a, b in taken[(sid, d)]], d, start, start + 90)
                for d in meet_days
            ):
                continue
            mine = []
            for d in meet_days:
                taken[(sid, d)].append((start, start + 90))
                mine.append(Session("group", d, start, sid, group=gid))
            group_sessions[gid] = mine
            sessions.extend(mine)
            groups.append({"id": gid, "facilitator": sid, "start": start, "days": meet_days})
    # Individual and family blocks filling each therapist-day to 90-95%.
    # Fill every day, then free random individual blocks down to 90-95% of the week's minutes.
    blocks: dict[str, list[Session]] = defaultdict(list)
    for st in staff:
        sid = st["id"]
        for d in workdays[sid]:
            for kind, start in _fill_day(rng, shift_of[sid], sorted(taken[(sid, d)]), 1.0):
                blocks[sid].append(Session(kind, d, start, sid))
        avail = len(workdays[sid]) * (shift_of[sid][1] - shift_of[sid][0])
        used = sum(MINUTES[s.session_type] for s in blocks[sid]) + 90 * sum(
            len(v) for (who, _), v in taken.items() if who == sid
        )
        target = rng.uniform(0.90, 0.93) * avail
        individual = [s for s in blocks[sid] if s.session_type == "individual"]
        rng.shuffle(individual)
        for s in individual:
            if used - 45 < target:
                break
            blocks[sid].remove(s)
            used -= 45
    # Patients: each therapist's individual blocks, 1-3 on distinct days per patient; working
    # patients take the early and evening blocks.
    for st in staff:
        sid = st["id"]
        mine = [s for s in blocks[sid] if s.session_type == "individual"]
        rng.shuffle(mine)
        pools = {
            EARLY: [s for s in mine if EARLY[0] <= s.start and s.end <= EARLY[1]],
            EVENING: [s for s in mine if EVENING[0] <= s.start and s.end <= EVENING[1]],
        }
        in_pool = {id(s) for pool in pools.values() for s in pool}
        pools_list: list[tuple[tuple[int, int] | None, list[Session]]] = [
            (EARLY, pools[EARLY]),
            (EVENING, pools[EVENING]),
            (None, [s for s in mine if id(s) not in in_pool]),
        ]
        for window, pool in pools_list:
            while pool:
                p = _Patient(f"p{len(patients) + 1:04d}", sid, window)
                patients.append(p)
                want = rng.choice((1, 2, 2, 3))
                for s in list(pool):
                    if p.individual >= want:
                        break
                    if s.day not in p.days and p.fits(s.day, s.start, s.end):
                        pool.remove(s)
                        p.take(s)
                        p.days.add(s.day)
                        p.individual += 1
        caseload = [p for p in patients if p.therapist == sid]
        for s in (s for s in blocks[sid] if s.session_type == "family"):
            fit = [p for p in caseload if p.family_day is None and p.fits(s.day, s.start, s.end)]
            if not fit:
                p = _Patient(f"p{len(patients) + 1:04d}", sid, None)
                patients.append(p)
                fit = [p]
            p = rng.choice(fit)
            p.take(s)
            p.family_day = s.day
            p.family_window = (
                max(7 * 60, s.start - 60 * rng.randint(0, 2)),
                min(20 * 60, s.end + 60 * rng.randint(0, 2)),
            )
        sessions.extend(blocks[sid])
    # Group members: 4-9 patients free at every meeting (working patients in their window).
    group_records = []
    for g in groups:
        meetings = group_sessions[g["id"]]
        fit = [
            p
            for p in patients
            if p.groups < 2 and all(p.fits(m.day, m.start, m.end) for m in meetings)
        ]
        rng.shuffle(fit)
        members = fit[: rng.randint(4, 9)]
        for p in members:
            for m in meetings:
                p.take(m)
            p.groups += 1
        record: dict[str, Any] = {
            "id": g["id"],
            "name": f"Group {g['id']}",
            "session_type": "group",
            "facilitators": [g["facilitator"]],
            "members": sorted(p.id for p in members),
            "sessions_per_week": len(meetings),
            "min_days_apart": 1 if rng.random() < 0.5 else 0,
        }
        if rng.random() < 0.5:  # mixed availability: some groups only around their own hours
            lo = max(7 * 60, g["start"] - 60 * rng.randint(0, 2))
            hi = min(20 * 60, g["start"] + 90 + 60 * rng.randint(0, 2))
            days = set(g["days"]) | set(rng.sample(range(5), 2))
            record["availability"] = {DAYS[d]: [f"{hhmm(lo)}-{hhmm(hi)}"] for d in sorted(days)}
        group_records.append(record)
    rooms_needed = _assign_rooms(
        sessions, {"individual": "individual", "family": "family", "group": "group"},
        {"individual": "ind", "family": "fam", "group": "grp"},
    )  # fmt: skip
    rooms = []
    for kind, cap in (("individual", 2), ("family", 5), ("group", 12)):
        count = rooms_needed.get(kind, 0) + (1 if kind == "individual" else 0)
        prefix = {"individual": "ind", "family": "fam", "group": "grp"}[kind]
        rooms += [
            {
                "id": f"{prefix}-{i:02d}",
                "name": f"{kind.title()} room {i}",
                "kind": kind,
                "capacity": cap,
            }
            for i in range(1, max(count, 1) + 1)
        ]
    specs = {st["id"]: st["specializations"] for st in staff}
    patient_records = []
    for p in patients:
        record = {"id": p.id, "name": f"Patient {p.id[1:]}", "primary_clinician": p.therapist}
        reqs = []
        if p.individual:
            reqs.append(
                {"session_type": "individual", "per_week": p.individual, "source": "treatment_plan"}
            )
        if p.family_day is not None:
            reqs.append({"session_type": "family", "per_week": 1, "source": "treatment_plan"})
            lo, hi = p.family_window or EVENING
            days = {p.family_day} | set(rng.sample(range(5), 1))
            contacts = [
                {
                    "name": f"Family of {p.id}",
                    "relation": "parent",
                    "availability": {DAYS[d]: [f"{hhmm(lo)}-{hhmm(hi)}"] for d in sorted(days)},
                }
            ]
            if rng.random() < 0.4:
                contacts.append({"name": f"Partner of {p.id}", "relation": "partner"})
            record["family_contacts"] = contacts  # fmt: skip
        if reqs:
            record["requirements"] = reqs
        if p.window is not None:
            days = {d for d, _, _ in p.busy} | set(rng.sample(range(5), 1))
            record["availability"] = {
                DAYS[d]: [f"{hhmm(p.window[0])}-{hhmm(p.window[1])}"] for d in sorted(days)
            }
        if rng.random() < 0.25:
            record["needs"] = [rng.choice(specs[p.therapist])]
        patient_records.append(record)
    facility = {
        "version": 1,
        "facility": {
            "name": f"Tight week {size} (seed {seed})",
            "timezone": TZ.key,
            "open_days": list(DAYS),
            "open": "07:00",
            "close": "20:00",
            "slot_minutes": 15,
        },
        "rooms": rooms,
        "staff": staff,
        "patients": patient_records,
        "groups": group_records,
    }
    return Instance(f"tight-{size}", seed, facility, sessions)


# -- group-heavy weeks (course timetabling) -------------------------------------------------

PERIODS = tuple(8 * 60 + 90 * k for k in range(6))  # 08:00 .. 15:30, each 90 minutes
SEMINAR = {
    "id": "seminar",
    "name": "Skills seminar",
    "minutes": 90,
    "room_kinds": ["group"],
    "staff_roles": ["counselor", "therapist"],
    "min_patients": 1,
    "max_patients": 60,
}


def groups_instance(name: str, seed: int = 1) -> Instance:
    n = GROUP_FAMILY.index(name) + 1
    rng = random.Random(f"{name}-{seed}")
    target = round(138 + (434 - 138) * (n - 1) / 9)
    occupancy = 0.70 + 0.22 * (n - 1) / 9
    n_teachers = max(6, target // 9)
    courses: list[dict[str, Any]] = []
    total = 0
    while total < target:
        lectures = rng.choices((1, 2, 3, 4, 5, 6, 7), weights=(1, 3, 3, 2, 1, 1, 1))[0]
        lectures = min(lectures, target - total)
        courses.append({"id": f"g{len(courses) + 1:03d}", "lectures": lectures,
                        "teacher": f"f{rng.randrange(n_teachers) + 1:02d}", "curricula": []})  # fmt: skip
        total += lectures
    # Curricula: courses until the weekly load reaches 10-25; every course in at least one.
    curricula: list[list[int]] = []
    order = list(range(len(courses)))
    rng.shuffle(order)
    unused = list(order)
    while unused:
        goal, load, mine = rng.randint(10, 25), 0, []
        pool = unused + rng.sample(order, min(len(order), 4))  # some courses shared
        for c in pool:
            if c in mine or load + courses[c]["lectures"] > 25:
                continue
            mine.append(c)
            load += courses[c]["lectures"]
            if c in unused:
                unused.remove(c)
            if load >= goal:
                break
        curricula.append(mine)
        for c in mine:
            courses[c]["curricula"].append(len(curricula) - 1)
    cohort = [rng.randint(3, 12) for _ in curricula]
    members: list[list[str]] = [[] for _ in courses]
    patient_ids: list[list[str]] = []
    count = 0
    for k, size in enumerate(cohort):
        ids = [f"p{count + i + 1:04d}" for i in range(size)]
        count += size
        patient_ids.append(ids)
        for c in curricula[k]:
            members[c].extend(ids)
    people = [len(m) + 1 for m in members]  # members and the facilitator
    n_rooms = max(2, math.ceil(target / (30 * occupancy)))
    # Room sizes follow the groups' sizes (quantiles, the two largest rooms hold the largest).
    caps = sorted(people, reverse=True)
    room_caps = [
        max(
            10,
            min(
                60,
                caps[min(len(caps) - 1, max(0, i - 1) * len(caps) // n_rooms)] + rng.randint(0, 4),
            ),
        )
        for i in range(n_rooms)
    ]
    # The hidden timetable: most constrained courses first, a free (period, room) for each meeting.
    slots = [(d, p) for d in range(5) for p in range(len(PERIODS))]
    teacher_busy: set[tuple[str, tuple[int, int]]] = set()
    curr_busy: set[tuple[int, tuple[int, int]]] = set()
    room_busy: set[tuple[int, tuple[int, int]]] = set()
    hidden: list[Session] = []
    for c in sorted(
        range(len(courses)),
        key=lambda c: (-courses[c]["lectures"] * (1 + len(courses[c]["curricula"])), -people[c]),
    ):
        course = courses[c]
        placed = 0
        for _ in range(course["lectures"]):
            options = [
                (slot, r)
                for slot in slots
                if (course["teacher"], slot) not in teacher_busy
                and not any((k, slot) in curr_busy for k in course["curricula"])
                for r in range(n_rooms)
                if room_caps[r] >= people[c] and (r, slot) not in room_busy
            ]
            if not options:
                break
            best = min(room_caps[r] for _, r in options)
            slot, r = rng.choice([(s, r) for s, r in options if room_caps[r] == best])
            teacher_busy.add((course["teacher"], slot))
            curr_busy.update((k, slot) for k in course["curricula"])
            room_busy.add((r, slot))
            hidden.append(Session("seminar", slot[0], PERIODS[slot[1]], course["teacher"],
                                  list(members[c]), course["id"], f"room-{r + 1:02d}"))  # fmt: skip
            placed += 1
        course["lectures"] = placed
    teachers = sorted({c["teacher"] for c in courses if c["lectures"]})
    staff = []
    for t in teachers:
        free = [s for s in slots if (t, s) not in teacher_busy]
        away = rng.sample(free, round(len(free) * rng.uniform(0.1, 0.3)))
        staff.append({
            "id": t, "name": f"Facilitator {t[1:]}", "role": rng.choice(("counselor", "therapist")),
            "credentials": ["CADC"],
            "unavailable": [{"start": moment(d, PERIODS[p]), "end": moment(d, PERIODS[p] + 90),
                             "reason": "unavailable period"} for d, p in sorted(away)],
        })  # fmt: skip
    by_course: dict[str, list[Session]] = defaultdict(list)
    for s in hidden:
        by_course[s.group or ""].append(s)
    group_records = []
    for c, course in enumerate(courses):
        if not course["lectures"]:
            continue
        days = sorted(s.day for s in by_course[course["id"]])
        distinct = len(set(days)) == len(days)
        group_records.append({
            "id": course["id"], "name": f"Seminar {course['id'][1:]}", "session_type": "seminar",
            "facilitators": [course["teacher"]], "members": sorted(members[c]),
            "sessions_per_week": course["lectures"],
            "min_days_apart": 1 if distinct and len(days) > 1 and rng.random() < 0.33 else 0,
        })  # fmt: skip
    facility = {
        "version": 1,
        "facility": {"name": f"Group-heavy week {name} (seed {seed})", "timezone": TZ.key,
                     "open_days": list(DAYS), "open": "08:00", "close": "17:00", "slot_minutes": 30},
        "rooms": [{"id": f"room-{r + 1:02d}", "name": f"Group room {r + 1}", "kind": "group",
                   "capacity": cap} for r, cap in enumerate(room_caps)],
        "staff": staff,
        "session_types": [SEMINAR],
        "patients": [{"id": p, "name": f"Patient {p[1:]}"} for ids in patient_ids for p in ids],
        "groups": group_records,
    }  # fmt: skip
    return Instance(name, seed, facility, hidden)


# -- names, files, cache ------------------------------------------------------------------------


def expand(names: str) -> list[str]:
    """'tight-s,groups' -> ['tight-s', 'groups-01', ..., 'groups-10']."""
    out: list[str] = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name == "groups":
            out.extend(GROUP_FAMILY)
        elif name in GROUP_FAMILY or name in {f"tight-{s}" for s in TIGHT_SIZES}:
            out.append(name)
        else:
            raise ValueError(
                f"unknown instance {name!r}: tight-s, tight-m, tight-l, groups or groups-01..10"
            )
    return out


def generate(name: str, seed: int = 1) -> Instance:
    if name.startswith("tight-"):
        return tight_instance(name.removeprefix("tight-"), seed)
    return groups_instance(name, seed)


def instance_path(name: str, seed: int = 1, directory: Path | None = None) -> Path:
    """The instance's facility file, generated on first use and cached (the hidden plan beside it)."""
    folder = directory or Path(tempfile.gettempdir()) / "rota-hard-instances"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-seed{seed}-v{VERSION}.json"
    if not path.exists():
        write(generate(name, seed), folder, hidden=True)
    return path


def write(instance: Instance, folder: Path, hidden: bool = False) -> Path:
    stem = f"{instance.name}-seed{instance.seed}-v{VERSION}"
    path = folder / f"{stem}.json"
    if hidden:
        plan = folder / f"{stem}.hidden-plan.json"
        plan.write_text(json.dumps(instance.hidden_plan(), indent=1) + "\n", encoding="utf-8")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(instance.facility, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def describe(instance: Instance) -> dict[str, Any]:
    """Size and tightness of an instance, from its hidden schedule."""
    fac = instance.facility
    minutes: dict[str, int] = defaultdict(int)
    for s in instance.hidden:
        minutes[s.staff] += MINUTES[s.session_type]
    demanded = []
    for st in fac["staff"]:
        hours = st.get("availability")
        if hours:
            avail = sum(int(b[:2]) * 60 + int(b[3:5]) - int(a[:2]) * 60 - int(a[3:5])
                        for spans in hours.values() for a, b in (x.split("-") for x in spans))  # fmt: skip
            demanded.append(minutes[st["id"]] / avail)
    return {
        "instance": instance.name,
        "seed": instance.seed,
        "sessions": len(instance.hidden),
        "group_sessions": sum(1 for s in instance.hidden if s.group),
        "staff": len(fac["staff"]),
        "patients": len(fac.get("patients", [])),
        "groups": len(fac.get("groups", [])),
        "rooms": len(fac["rooms"]),
        "demanded_share_of_hours": [round(min(demanded), 3), round(max(demanded), 3)]
        if demanded
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hard planning instances as facility files.")
    parser.add_argument(
        "--instance", default="tight-s", help="tight-s|m|l, groups, groups-NN; comma-separated"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("."), help="Folder to write to.")
    parser.add_argument(
        "--hidden", action="store_true", help="Also write the hidden schedule as a plan file."
    )
    args = parser.parse_args(argv)
    try:
        names = expand(args.instance)
    except ValueError as exc:
        print(f"hard_instances: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        instance = generate(name, args.seed)
        path = write(instance, args.out, args.hidden)
        print(json.dumps({**describe(instance), "file": str(path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The demo facility's weekly plan for the roster's people (`clinic.demo.roster`).

Patients get a level of care (IOP or OP), an admission, requirements, court orders and
authorizations; then the groups their levels imply (IOP cohorts three days a week, three hours a
day; weekly OP topic groups) and their leads; then primary clinicians covering every need;
medication management and case management; one conflict-free template week placed first fit
from Monday; and last everyone's weekly hours sized around what they carry (PLANNED_SHARE of
them planned). The history (`clinic.demo.history`) repeats the template week.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.demo import SPECIALIZATIONS
from clinic.demo.roster import roster
from clinic.timeutil import WEEKDAYS, format_hhmm, parse_hhmm

TIMEZONE = "America/New_York"
OPEN, CLOSE, SLOT = "08:00", "19:00", 15
WORKDAYS = ["mon", "tue", "wed", "thu", "fri"]
HISTORY_WEEKS = 12

# Proportions (the README's "The demo facility" states and sources them).
IOP_FROM = {"2.1", "2.5"}  # the roster's levels that are IOP here (~38 %); the rest is OP (1.0)
MAT_EXTRA = 0.28  # besides the roster's "mat" needs (~10 %): ~35 % on MAT
COURT_EXTRA = 0.11  # besides the roster's court orders (~10 %): ~20 % court-ordered
AUTH_SHARE = {"2.1": 0.95, "1.0": 0.60}  # payer prior authorization on file
CASE_MANAGEMENT_SHARE = 0.30  # besides every court-ordered patient
OP_GROUP_SHARE = 0.50  # OP patients who also attend one weekly group
PLANNED_SHARE = 0.85  # planned minutes / working minutes; cancellations and new admissions
# bring the held share of the past weeks to about 0.68
COHORT_SIZE = 11
OP_GROUP_SIZE = 10
GROUP_MINUTES = 90
PAYERS = ["Medicaid", "Aetna", "Blue Cross Blue Shield", "UnitedHealthcare", "Cigna", "TRICARE"]
COURTS = ["Essex County Drug Court", "Hudson County Superior Court", "Municipal Treatment Court"]
# Weekly OP groups by the need they serve (None: any patient).
OP_TOPICS = [
    ("Women's Process Group", "womens"),
    ("Grupo de Recuperación", "spanish_speaking"),
    ("Veterans Recovery", "veterans"),
    ("MAT Support", "mat"),
    ("Seeking Safety", "trauma"),
    ("DBT Skills", "dual_diagnosis"),
    ("Adolescent Skills", "adolescent"),
    ("Family Education", "family_systems"),
]
GENERAL_TOPICS = [
    "Relapse Prevention",
    "Early Recovery Skills",
    "Mindfulness-Based Relapse Prevention",
    "Anger Management",
]
# IOP cohorts: three days a week, a process group then a skills group (3 h a day, 9 h a week).
IOP_TRACKS = {
    "morning": {"start": "09:00", "shift": "day"},
    "evening": {"start": "16:00", "shift": "late"},
}
IOP_DAYS = [("mon", "wed", "fri"), ("tue", "wed", "thu")]
# A working day of 4, 6 or 8 hours, by shift.
SHIFT_DAYS = {
    "day": {
        240: ["08:00-12:00"],
        360: ["08:00-12:00", "12:30-14:30"],
        480: ["08:00-12:00", "12:30-16:30"],
    },
    "late": {240: ["15:00-19:00"], 360: ["13:00-19:00"], 480: ["10:30-14:30", "15:00-19:00"]},
}
STYPE = {t["id"]: t for t in BUILTIN_SESSION_TYPES}
# Where a clinician's sessions may go before their hours are sized to them.
WINDOWS = {
    "day": {d: ["08:00-16:30"] for d in WORKDAYS},
    "late": {d: ["10:30-19:00"] for d in WORKDAYS},
    "any": {d: ["08:00-19:00"] for d in WORKDAYS},
}


@dataclass
class Slot:
    """One weekly session of the template: the same weekday, time, people and room every week."""

    day: str
    start: int
    minutes: int
    session_type: str
    staff: list[str]
    patients: list[str]
    room: str
    group: str | None = None


@dataclass
class Clinician:
    record: dict[str, Any]
    shift: str
    load: int = 0
    group_days: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return str(self.record["id"])


class FacilityPlan:
    def __init__(self, size: str, patients: int, seed: int, start: date) -> None:
        self.seed = seed
        self.rng = random.Random(f"{seed}:plan")  # nosec B311  # seeded simulation, not a secret
        staff, people, self.fake = roster(size, patients, seed, start)
        self.today = start
        monday = start - timedelta(days=start.weekday())
        # The week of `start` (the next one when it falls on a weekend) is booked.
        self.week = monday + timedelta(days=7) if start.weekday() >= 5 else monday
        self.first_week = self.week - timedelta(days=7 * HISTORY_WEEKS)
        self.busy: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.slots: list[Slot] = []
        self.unplaced: list[tuple[str, str, str]] = []
        self.patients = [self._patient(p) for p in people]
        self.klass = {p["id"]: p.pop("_class") for p in self.patients}
        self.groups: list[dict[str, Any]] = []
        self.staff: list[dict[str, Any]] = []
        self._build(staff)

    # -- patients -------------------------------------------------------------------------------

    def _patient(self, drawn: dict[str, Any]) -> dict[str, Any]:
        """The roster's patient (who they are) with this plan's level of care, admission,
        requirements, court order and authorization (what the program does with them)."""
        rng = self.rng
        needs = set(drawn["needs"])
        adolescent = "adolescent" in needs
        if not adolescent and "mat" not in needs and rng.random() < MAT_EXTRA:
            needs.add("mat")
        level = "2.1" if drawn["level_of_care"] in IOP_FROM and not adolescent else "1.0"
        # OP stays run for months; IOP for weeks: admitted days ago.
        if level == "2.1":
            days_in = rng.randint(3, 84)
        else:
            days_in = rng.randint(120, 365) if rng.random() < 0.65 else rng.randint(3, 119)
        admitted = self.today - timedelta(days=days_in)
        hours = drawn.get("availability")
        klass = "any" if hours is None else "evening" if "fri" in hours else "morning"
        patient = {
            key: drawn[key]
            for key in ("id", "name", "dob", "mrn", "acuity", "sex", "availability", "preferences")
            if key in drawn
        }
        patient.update(
            level_of_care=level,
            phase=_phase(days_in),
            admitted=admitted.isoformat(),
            needs=sorted(needs),
            _class=klass,
        )
        requirements = [{"session_type": "individual", "per_week": 1, "source": "level_of_care"}]
        if "mat" in needs:
            requirements.append(
                {"session_type": "medication_management", "per_week": 1, "source": "treatment_plan"}
            )
        order = drawn.get("court_order")
        if order is None and not adolescent and rng.random() < COURT_EXTRA:
            order = {
                "case_number": f"CR-{self.today.year}-{rng.randrange(10**5, 10**6)}",
                "court": rng.choice(COURTS),
                "start": (admitted - timedelta(days=7)).isoformat(),
                "end": (admitted + timedelta(days=rng.choice([180, 270, 365]))).isoformat(),
                "requirements": [{"session_type": "individual", "per_week": 1}],
                "report_to": "probation officer",
            }
        if order is not None:
            order = {**order, "start": (admitted - timedelta(days=7)).isoformat()}
            order["end"] = max(order["end"], (self.week + timedelta(days=30)).isoformat())
        if order is not None or rng.random() < CASE_MANAGEMENT_SHARE:
            requirements.append(
                {"session_type": "case_management", "per_week": 1, "source": "treatment_plan"}
            )
        patient["requirements"] = requirements
        if order is not None:
            patient["court_order"] = order
        if rng.random() < AUTH_SHARE[level]:
            start = max(admitted, self.today - timedelta(days=rng.randint(10, 80)))
            covered = ["individual", "group", "family", "case_management", "intake_assessment"]
            if "mat" in needs:
                covered.append("medication_management")
            end = max(start + timedelta(days=90), self.week + timedelta(days=11))
            patient["authorizations"] = [
                {
                    "id": f"AUTH-{rng.randrange(10**6, 10**7)}",
                    "payer": rng.choice(PAYERS),
                    "session_types": covered,
                    "units": 0,  # settled against the history (history._settle_authorizations)
                    "used": rng.randint(0, 6),
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                }
            ]
        contact = dict(drawn["contact"])
        if order is not None and "court" not in contact.get("consent_disclose_to", []):
            contact["consent_disclose_to"] = ["court", *contact.get("consent_disclose_to", [])]
        patient["contact"] = contact
        if drawn.get("family_contacts"):
            patient["family_contacts"] = drawn["family_contacts"]
        return patient

    # -- the plan -------------------------------------------------------------------------------

    def _build(self, roster_staff: list[dict[str, Any]]) -> None:
        iop = [p for p in self.patients if p["level_of_care"] == "2.1"]
        op_group = [
            p
            for p in self.patients
            if p["level_of_care"] == "1.0"
            and self.klass[p["id"]] != "morning"
            and self.rng.random() < OP_GROUP_SHARE
        ]
        cohorts = self._cohorts(iop)
        op_groups = self._op_groups(op_group)
        clinicians, support = self._staff(roster_staff)
        evening = sum(1 for p in self.patients if self.klass[p["id"]] == "evening")
        caseload = [
            c for c in clinicians if c.record["role"] in {"therapist", "counselor", "intern"}
        ]
        leads = [c for c in caseload if c.record["role"] != "intern"]
        n_late = max(1, math.ceil(len(leads) * evening / len(self.patients) + 0.34))
        for c in leads[len(leads) - n_late :]:
            c.shift = "late"
        shifts = {c.id: c.shift for c in leads}
        for c in caseload:
            if c.record["role"] == "intern":
                c.shift = shifts[c.record["supervisor"]]
        self._place_groups(cohorts, op_groups, caseload, support)
        self._assign_primaries(caseload)
        self._size_hours(clinicians, support)
        self._place_individuals(clinicians, support)
        self.staff = [c.record for c in [*clinicians, *support]]
        self.rooms = self._rooms()
        _cover_every_specialization(self.staff)

    def _cohorts(self, iop: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cohorts = []
        for track in ("morning", "evening"):
            pool = [p for p in iop if (self.klass[p["id"]] == "evening") == (track == "evening")]
            n = math.ceil(len(pool) / COHORT_SIZE)
            for c in range(n):
                members = pool[c::n]
                cohorts.append({"track": track, "members": members, "label": chr(ord("A") + c)})
        return cohorts

    def _op_groups(self, pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
        groups = []
        left = list(pool)
        for topic, need in OP_TOPICS:
            for evening in (False, True):
                mine = [
                    p
                    for p in left
                    if need in p["needs"] and (self.klass[p["id"]] == "evening") == evening
                ]
                if len(mine) < 5:
                    continue
                n = math.ceil(len(mine) / 12)
                for c in range(n):
                    groups.append(
                        {"topic": topic, "need": need, "members": mine[c::n], "evening": evening}
                    )
                left = [p for p in left if p not in mine]
        t = 0
        for evening in (False, True):
            mine = [p for p in left if (self.klass[p["id"]] == "evening") == evening]
            n = math.ceil(len(mine) / OP_GROUP_SIZE)
            for c in range(n):
                topic = GENERAL_TOPICS[t % len(GENERAL_TOPICS)]
                t += 1
                groups.append(
                    {"topic": topic, "need": None, "members": mine[c::n], "evening": evening}
                )
        return groups

    # -- staff ----------------------------------------------------------------------------------

    def _staff(self, drawn: list[dict[str, Any]]) -> tuple[list[Clinician], list[Clinician]]:
        """The roster's staff: clinicians (prescribers, therapists, counselors, interns) and the
        rest; everyone's hours are this plan's (`_fit_hours`)."""
        clinicians, support = [], []
        for member in drawn:
            record = {k: v for k, v in member.items() if k != "unavailable"}
            if record["role"] in PRESCRIBER_ROLES:
                clinicians.append(Clinician(record, "any"))
            elif record["role"] == "case_manager":
                support.append(Clinician(record, "any"))
            elif record["role"] in {"therapist", "counselor", "intern"}:
                clinicians.append(Clinician(record, "day"))
            else:
                if record["role"] == "intake_coordinator":  # assesses every kind of patient
                    record["specializations"] = sorted(SPECIALIZATIONS)
                support.append(Clinician(record, "day"))
        return clinicians, support

    # -- groups ---------------------------------------------------------------------------------

    def _place_groups(
        self,
        cohorts: list[dict[str, Any]],
        op_groups: list[dict[str, Any]],
        caseload: list[Clinician],
        support: list[Clinician],
    ) -> None:
        leads = [c for c in caseload if c.record["role"] != "intern"]
        n = 0
        for i, cohort in enumerate(cohorts):
            track = IOP_TRACKS[cohort["track"]]
            days = IOP_DAYS[i % len(IOP_DAYS)]
            start = parse_hhmm(track["start"])
            fits = [
                c for c in leads if c.shift == track["shift"] and not (c.group_days & set(days))
            ]
            if not fits:
                fits = [c for c in leads if not (c.group_days & set(days))] or leads
                fits[0].shift = track["shift"]
            lead = min(fits, key=lambda c: (c.load, c.id))
            ids = [p["id"] for p in cohort["members"]]
            room = self._group_room([lead.id, *ids], days, start, 180)
            name = f"IOP {cohort['track'].title()} {cohort['label']}"
            for part, offset in (("Process Group", 0), ("Skills Group", GROUP_MINUTES)):
                n += 1
                gid = f"g{n:02d}"
                self._add_group(gid, f"{name} — {part}", [lead.id], ids, days, start + offset, room)
            lead.load += 540
            lead.group_days |= set(days)
            cohort["lead"] = lead
        director = next(c for c in support if c.record["role"] == "clinical_director")
        for j, group in enumerate(op_groups):
            ids = [p["id"] for p in group["members"]]
            need = group["need"]
            shift = "late" if group["evening"] else "day"
            fits = [
                c
                for c in leads
                if c.shift == shift and (need is None or need in c.record["specializations"])
            ] or [c for c in leads if c.shift == shift]
            if need is None and not group["evening"] and director.load < 180:
                fits = [director]
            start = parse_hhmm("17:30" if group["evening"] else "10:00")
            for lead in sorted(fits, key=lambda c: (c.load, c.id)):
                days = [
                    d for d in WORKDAYS[j % 5 :] + WORKDAYS[: j % 5] if d not in lead.group_days
                ]
                placed = False
                for day in days:
                    room = self._group_room([lead.id, *ids], (day,), start, GROUP_MINUTES)
                    if room is None:
                        continue
                    n += 1
                    name = group["topic"]
                    self._add_group(f"g{n:02d}", name, [lead.id], ids, (day,), start, room)
                    lead.load += GROUP_MINUTES
                    lead.group_days.add(day)
                    if need and need not in lead.record["specializations"]:
                        lead.record["specializations"] = sorted(
                            {*lead.record["specializations"], need}
                        )
                    placed = True
                    break
                if placed:
                    break
        # Number groups for the same topic.
        seen: dict[str, int] = defaultdict(int)
        for g in self.groups:
            seen[g["name"]] += 1
        count: dict[str, int] = defaultdict(int)
        for g in self.groups:
            if seen[g["name"]] > 1:
                count[g["name"]] += 1
                g["name"] = f"{g['name']} {count[g['name']]}"

    def _group_room(
        self, people: list[str], days: tuple[str, ...], start: int, minutes: int
    ) -> str | None:
        for r in range(1, 100):
            room = f"gro-{r}"
            if all(self._free([*people, room], d, start, minutes) for d in days):
                return room
        return None

    def _add_group(
        self,
        gid: str,
        name: str,
        staff: list[str],
        members: list[str],
        days: tuple[str, ...],
        start: int,
        room: str | None,
    ) -> None:
        assert room is not None
        schedule = []
        for d in days:
            self._take([*staff, *members, room], d, start, GROUP_MINUTES)
            self.slots.append(Slot(d, start, GROUP_MINUTES, "group", staff, members, room, gid))
            schedule.append({"day": d, "start": format_hhmm(start), "room": room})
        self.groups.append(
            {
                "id": gid,
                "name": name,
                "session_type": "group",
                "facilitators": staff,
                "members": members,
                "capacity": 12,
                "closed": False,
                "sessions_per_week": len(days),
                "min_days_apart": 1,
                "room": room,
                "schedule": schedule,
            }
        )

    # -- caseloads ------------------------------------------------------------------------------

    def _assign_primaries(self, caseload: list[Clinician]) -> None:
        leads = {}
        for g in self.groups:
            if g["name"].startswith("IOP") and "Process" in g["name"]:
                for m in g["members"]:
                    leads[m] = g["facilitators"][0]
        by_id = {c.id: c for c in caseload}
        interns = [c for c in caseload if c.record["role"] == "intern"]
        for p in self.patients:
            shift = {"evening": "late", "morning": "day"}.get(self.klass[p["id"]])
            needs = set(p["needs"])
            lead = by_id.get(leads.get(p["id"], ""))
            if lead is not None and needs <= set(lead.record["specializations"]):
                chosen = lead
            else:
                pool = [
                    c
                    for c in caseload
                    if (shift is None or c.shift == shift) and c.record["role"] != "intern"
                ]
                if not needs and interns:
                    pool += [
                        i for i in interns if i.load < 900 and (shift is None or i.shift == shift)
                    ]
                fits = [c for c in pool if needs <= set(c.record["specializations"])]
                if not fits:
                    fits = pool
                chosen = min(fits, key=lambda c: (c.load, c.id))
                chosen.record["specializations"] = sorted(
                    {*chosen.record["specializations"], *needs}
                )
            p["primary_clinician"] = chosen.id
            chosen.load += 45

    def _size_hours(self, clinicians: list[Clinician], support: list[Clinician]) -> None:
        """Hours sized to the planned load: whole days of 4, 6 or 8 hours, the group days first."""
        mat = [p for p in self.patients if "mat" in p["needs"]]
        prescribers = [c for c in clinicians if c.record["role"] in PRESCRIBER_ROLES]
        for j, p in enumerate(mat):
            c = prescribers[j % len(prescribers)]
            p["_prescriber"] = c.id
            c.load += 20
        managers = [c for c in support if c.record["role"] == "case_manager"]
        for p in (x for x in self.patients if _wants(x, "case_management")):
            m = min(managers, key=lambda c: (c.load, c.id))
            p["_manager"] = m.id
            m.load += 30
            if "court_order" in p:
                p["court_order"]["liaison"] = m.id
        intake = next(c for c in support if c.record["role"] == "intake_coordinator")
        admissions = sum(
            1 for p in self.patients if date.fromisoformat(p["admitted"]) >= self.first_week
        )
        # About 1.4 intakes booked per admission: a missed or cancelled one is booked again.
        intake.load = max(60, round(60 * 1.4 * admissions / HISTORY_WEEKS))
        for c in [*clinicians, *support]:
            if c.record["role"] == "intake_coordinator":
                c.record["availability"] = self._hours(c)
            elif c.record["role"] not in {"nurse", "front_desk", "auditor"}:
                c.record["availability"] = WINDOWS[c.shift]  # until the plan sizes them

    def _hours(self, c: Clinician) -> dict[str, list[str]]:
        capacity = max(240, math.ceil(c.load / PLANNED_SHARE / 120) * 120)
        required = [d for d in WORKDAYS if d in c.group_days]
        capacity = min(capacity, 480 * len(WORKDAYS))
        days = max(len(required), math.ceil(capacity / 480))
        rest = [d for d in WORKDAYS if d not in required]
        offset = int(c.id[1:]) % max(1, len(rest))
        order = required + rest[offset:] + rest[:offset]
        chosen = order[:days]
        lengths = {d: 240 for d in chosen}
        left = capacity - 240 * days
        i = 0
        while left > 0 and any(v < 480 for v in lengths.values()):
            d = chosen[i % days]
            if lengths[d] < 480:
                lengths[d] += 120
                left -= 120
            i += 1
        return {d: SHIFT_DAYS[c.shift][lengths[d]] for d in WORKDAYS if d in lengths}

    # -- individual sessions --------------------------------------------------------------------

    def _place_individuals(self, clinicians: list[Clinician], support: list[Clinician]) -> None:
        everyone = {c.id: c for c in [*clinicians, *support]}
        for p in self.patients:
            plan = [("individual", p["primary_clinician"])]
            if "_prescriber" in p:
                plan.append(("medication_management", p.pop("_prescriber")))
            if "_manager" in p:
                plan.append(("case_management", p.pop("_manager")))
            for stype, sid in plan:
                minutes = STYPE[stype]["minutes"]
                room = "med-" + sid if stype == "medication_management" else "off-" + sid
                if self._place_one(p, everyone[sid], stype, minutes, room):
                    continue
                if stype == "individual":  # their counselor is full then: another one takes them
                    others = sorted(
                        (
                            c
                            for c in clinicians
                            if c.record["role"] in {"therapist", "counselor"}
                            and set(p["needs"]) <= set(c.record["specializations"])
                            and c.id != sid
                        ),
                        key=lambda c: (sum(s.minutes for s in self.slots if c.id in s.staff), c.id),
                    )
                    for c in others:
                        if self._place_one(p, c, stype, minutes, "off-" + c.id, WINDOWS["any"]):
                            p["primary_clinician"] = c.id
                            break
                    else:
                        self.unplaced.append((p["id"], stype, sid))
                else:
                    self.unplaced.append((p["id"], stype, sid))
        self.staff_records = [c.record for c in everyone.values()]
        for c in everyone.values():
            if c.record["role"] not in {"intake_coordinator", "intern"}:
                self._fit_hours(c)
        for c in everyone.values():
            if c.record["role"] == "intern":  # their supervisor's hours, on the days they work
                days = {s.day for s in self.slots if c.id in s.staff}
                sup = everyone[c.record["supervisor"]].record["availability"]
                c.record["availability"] = {d: sup[d] for d in WORKDAYS if d in days and d in sup}

    def _place_one(
        self,
        p: dict[str, Any],
        c: Clinician,
        stype: str,
        minutes: int,
        room: str,
        hours: dict[str, list[str]] | None = None,
    ) -> bool:
        """First fit in the clinician's day order (group days first), so their weeks are
        compact; their hours are sized around what lands (`_fit_hours`)."""
        hours = hours or c.record["availability"]
        rest = [d for d in WORKDAYS if d not in c.group_days]
        days = [d for d in WORKDAYS if d in c.group_days] + rest  # the week starts full
        for day in days:
            if stype == "individual" and any(
                s.day == day and s.session_type == "individual" and p["id"] in s.patients
                for s in self.slots
            ):
                continue
            for span in hours.get(day, []):
                a, b = (parse_hhmm(x) for x in span.split("-"))
                starts = list(range(a, b - minutes + 1, SLOT))
                if c.shift == "any":  # part-time staff: a compact day around the early afternoon
                    starts.sort(key=lambda m: (abs(m - parse_hhmm("13:30")), m))
                for start in starts:
                    if not _inside(p.get("availability"), day, start, minutes):
                        continue
                    if self._free([c.id, p["id"], room], day, start, minutes):
                        self._take([c.id, p["id"], room], day, start, minutes)
                        self.slots.append(Slot(day, start, minutes, stype, [c.id], [p["id"]], room))
                        return True
        return False

    def _fit_hours(self, c: Clinician) -> None:
        """Working hours around the clinician's sessions: each working day from its first
        session to its last (split in two where a part-timer's day has a gap of 90 minutes or
        more), widened inside their shift's window until the sessions fill PLANNED_SHARE of
        them (a day of at least four hours, two for the clinical director)."""
        interns = {x["id"] for x in self.staff_records if x.get("supervisor") == c.id}
        mine = sorted((s for s in self.slots if c.id in s.staff), key=lambda s: s.start)
        theirs = [s for s in self.slots if interns & set(s.staff) and c.id not in s.staff]
        if not mine and not theirs:
            return
        window = {
            d: tuple(parse_hhmm(x) for x in WINDOWS[c.shift][d][0].split("-")) for d in WORKDAYS
        }
        by_day: dict[str, list[list[int]]] = defaultdict(list)
        for s in sorted([*mine, *theirs], key=lambda s: s.start):  # on site for their interns
            end = math.ceil((s.start + s.minutes) / SLOT) * SLOT
            day = by_day[s.day]
            if day and (c.shift != "any" or s.start - day[-1][1] < 90):
                day[-1][1] = max(day[-1][1], end)
            else:
                day.append([s.start, end])
        load = sum(s.minutes for s in mine)
        want = math.ceil(load / PLANNED_SHARE / 30) * 30
        shortest = 120 if c.record["role"] == "clinical_director" else 240

        def total() -> int:
            return sum(b - a for spans in by_day.values() for a, b in spans)

        def grow(d: str, k: int, at_end: bool) -> bool:
            spans = by_day[d]
            lo = spans[k - 1][1] + 30 if k else window[d][0]
            hi = spans[k + 1][0] - 30 if k + 1 < len(spans) else window[d][1]
            if at_end and spans[k][1] + SLOT <= hi:
                spans[k][1] += SLOT
                return True
            if not at_end and spans[k][0] - SLOT >= lo:
                spans[k][0] -= SLOT
                return True
            return False

        for d, spans in by_day.items():
            while sum(b - a for a, b in spans) < shortest and (
                grow(d, len(spans) - 1, True) or grow(d, 0, False)
            ):
                pass
        i = 0
        while total() < want:
            grown = False
            for d in [d for d in WORKDAYS if d in by_day]:
                for k in range(len(by_day[d])):
                    if total() >= want:
                        break
                    grown = grow(d, k, i % 2 == 0) or grow(d, k, i % 2 == 1) or grown
            i += 1
            if not grown:
                free = [d for d in WORKDAYS if d not in by_day]
                if not free:
                    break
                by_day[free[0]] = [[window[free[0]][0], window[free[0]][0] + 240]]
        c.record["availability"] = {
            d: [f"{format_hhmm(a)}-{format_hhmm(b)}" for a, b in by_day[d]]
            for d in WORKDAYS
            if d in by_day
        }

    def _free(self, keys: list[str], day: str, start: int, minutes: int) -> bool:
        cells = set(range(start // SLOT, -(-(start + minutes) // SLOT)))
        return all(not (self.busy[(k, day)] & cells) for k in keys)

    def _take(self, keys: list[str], day: str, start: int, minutes: int) -> None:
        for k in keys:
            self.busy[(k, day)].update(range(start // SLOT, -(-(start + minutes) // SLOT)))

    # -- rooms ----------------------------------------------------------------------------------

    def _rooms(self) -> list[dict[str, Any]]:
        """An individual room (office) per staff member who sees patients, the group rooms the
        schedule uses and a spare, a family room, an exam room (medical) per prescriber and a
        telehealth booth; the placement's office names become these ids."""
        used = {s.room for s in self.slots}
        offices = [s["id"] for s in self.staff if s["role"] in SEES_PATIENTS]
        exams = [s["id"] for s in self.staff if s["role"] in PRESCRIBER_ROLES]
        self.office = {f"off-{sid}": f"ind-{k + 1}" for k, sid in enumerate(offices)}
        self.office |= {f"med-{sid}": f"med-{k + 1}" for k, sid in enumerate(exams)}
        for slot in self.slots:
            slot.room = self.office.get(slot.room, slot.room)
        groups = sorted((r for r in used if r.startswith("gro-")), key=lambda r: int(r[4:]))
        groups.append(f"gro-{len(groups) + 1}")  # a spare for make-ups and one-off groups
        rooms = [_room(f"ind-{k + 1}", "individual", 3) for k in range(len(offices))]
        rooms += [_room(r, "group", 14) for r in groups]
        rooms.append(_room("fam-1", "family", 6))
        rooms += [_room(f"med-{k + 1}", "medical", 3) for k in range(len(exams))]
        rooms.append(_room("tel-1", "telehealth", 2))
        rooms[0]["features"] = ["accessible"]
        return rooms


SEES_PATIENTS = {
    "therapist",
    "counselor",
    "intern",
    "clinical_director",
    "intake_coordinator",
    "case_manager",
}
PRESCRIBER_ROLES = {"psychiatrist", "nurse_practitioner", "physician"}


def _room(rid: str, kind: str, capacity: int) -> dict[str, Any]:
    name = f"{kind.title()} room {rid.split('-')[1]}"
    return {"id": rid, "name": name, "kind": kind, "capacity": capacity}


def _phase(days_in: int) -> str:
    if days_in < 14:
        return "intake"
    if days_in < 45:
        return "stabilization"
    if days_in < 180:
        return "active_treatment"
    return "maintenance"


def _wants(p: dict[str, Any], stype: str) -> bool:
    return any(r["session_type"] == stype for r in p["requirements"])


def _inside(hours: dict[str, list[str]] | None, day: str, start: int, minutes: int) -> bool:
    if hours is None:
        return parse_hhmm(OPEN) <= start and start + minutes <= parse_hhmm(CLOSE)
    for span in hours.get(day, []):
        a, b = (parse_hhmm(x) for x in span.split("-"))
        if a <= start and start + minutes <= b:
            return True
    return False


def weekday_of(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def _cover_every_specialization(staff: list[dict[str, Any]]) -> None:
    """Each specialization no therapist or counselor has goes to the one with fewest: those see
    patients one to one, so "find a dual-diagnosis slot for ..." finds someone on every demo."""
    clinicians = [s for s in staff if s["role"] in {"therapist", "counselor"}]
    for spec in SPECIALIZATIONS:
        if not any(spec in c["specializations"] for c in clinicians):
            fewest = min(clinicians, key=lambda c: (len(c["specializations"]), c["id"]))
            fewest["specializations"] = sorted({*fewest["specializations"], spec})

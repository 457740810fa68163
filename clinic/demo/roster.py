"""The demo's people as earlier versions drew them: ids, names, roles, credentials and
specializations of the staff, and the patients' identities (name, sex, birth date, MRN, needs,
contact, family), from the same seeded draws in the same order.

Hand-labelled sets (tests/nlu/data) and tests name these people by id and name, so the facility
plan (`clinic.demo.facility`) takes them from here and decides the rest (levels of care,
caseloads, groups, hours, history) itself. Kept as drawn: changing a draw renames everyone after it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from clinic.demo import SPECIALIZATIONS
from clinic.timeutil import parse_hhmm

TIMEZONE = "America/New_York"
WORKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CLINICIANS = {"s": 8, "m": 25, "l": 60, "xl": 150}
PAYERS = ["Medicaid", "Aetna", "Blue Cross Blue Shield", "UnitedHealthcare", "Cigna", "TRICARE"]
COURTS = ["Essex County Drug Court", "Hudson County Superior Court", "Municipal Treatment Court"]
LEVELS = [("1.0", 40), ("2.1", 28), ("2.5", 10), ("3.5", 10), ("3.7-WM", 5), ("0.5", 4), ("3.1", 3)]
INDIVIDUAL_PER_WEEK = {"0.5": 1, "1.0": 1, "2.1": 1, "2.5": 2, "3.1": 1, "3.5": 2, "3.7-WM": 2}


class _Size:
    def __init__(self, clinicians: int, patients: int) -> None:
        self.clinicians = clinicians
        self.patients = patients


def roster(
    size: str, patients: int, seed: int, start: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Faker]:
    """(staff, patients, the Faker that drew them, to draw on from where they stopped)."""
    builder = _Builder(_Size(CLINICIANS[size], patients), seed, start)
    staff = builder._staff()
    return staff, builder._patients(staff), builder.fake


class _Builder:
    def __init__(self, size: _Size, seed: int, start: date) -> None:
        self.size = size
        self.rng = random.Random(seed)  # nosec B311  # seeded simulation, not a secret
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.fake_es = Faker("es_MX")
        self.fake_es.seed_instance(seed + 1)
        self.tz = ZoneInfo(TIMEZONE)
        self.today = start
        # The week of `start` (the next one when it falls on a weekend) is booked; two before it are history.
        monday = start - timedelta(days=start.weekday())
        self.week = monday + timedelta(days=7) if start.weekday() >= 5 else monday
        self.hours: dict[str, dict[str, list[str]]] = {}
        self.away: dict[str, set[date]] = defaultdict(set)

    def _staff(self) -> list[dict[str, Any]]:
        n = self.size.clinicians
        psychiatrists, nps, physicians = max(1, n // 12), max(1, n // 15), n // 25
        interns = n // 10
        therapists = (n - psychiatrists - nps - physicians - interns + 1) // 2
        counselors = n - psychiatrists - nps - physicians - interns - therapists
        plan = (
            [("psychiatrist", ["MD"])] * psychiatrists
            + [("nurse_practitioner", ["NP"])] * nps
            + [("physician", ["DO"])] * physicians
            + [("therapist", None)] * therapists
            + [("counselor", None)] * counselors
            + [("intern", [])] * interns
        )
        staff: list[dict[str, Any]] = []
        for i, (role, creds) in enumerate(plan):
            if creds is None:
                creds = (
                    [self.rng.choice(["LCSW", "LPC", "LMFT", "PsyD"])]
                    if role == "therapist"
                    else [self.rng.choice(["CADC", "LCADC"])]
                )
                if self.rng.random() < 0.3:
                    creds.append("LCADC" if role == "therapist" else "CADC")
            creds = sorted(set(creds))
            specs = self._clinician_specs(i, role)
            staff.append(self._person(f"c{i + 1:03d}", role, creds, specs))
        therapist_ids = [s["id"] for s in staff if s["role"] == "therapist"]
        for s in staff:
            if s["role"] == "intern":
                s["supervisor"] = self.rng.choice(therapist_ids)
        extra = [
            ("clinical_director", ["LCSW", "LCADC"]),
            ("intake_coordinator", ["CADC"]),
            ("nurse", ["RN"]),
            ("front_desk", []),
            ("auditor", []),
        ]
        extra += [("case_manager", [])] * max(1, n // 8)
        for j, (role, creds) in enumerate(extra):
            staff.append(self._person(f"s{j + 1:03d}", role, creds, []))
        for k, s in enumerate(staff):
            s["slack_user_id"] = f"U{self.rng.randrange(16**9):09X}{k:02d}"
        # A planned absence and a training afternoon, so repair and agenda have something to show.
        first = next(s for s in staff if s["role"] == "therapist")
        day_off = self.week + timedelta(days=3)
        first["unavailable"] = [
            self._period(day_off, "00:00", day_off + timedelta(days=1), "00:00", "annual leave")
        ]
        self.away[first["id"]].add(day_off)
        return staff

    def _clinician_specs(self, index: int, role: str) -> list[str]:
        if role in {"psychiatrist", "nurse_practitioner", "physician"}:
            return ["dual_diagnosis", "mat"] if index % 2 == 0 else ["mat"]
        # Cycle through specializations so each one has at least one clinician.
        specs = {SPECIALIZATIONS[index % len(SPECIALIZATIONS)]}
        if self.rng.random() < 0.6:
            specs.add(self.rng.choice(SPECIALIZATIONS))
        return sorted(specs)

    def _person(self, sid: str, role: str, creds: list[str], specs: list[str]) -> dict[str, Any]:
        fake = self.fake_es if "spanish_speaking" in specs else self.fake
        title = "Dr. " if role in {"psychiatrist", "physician"} or "PsyD" in creds else ""
        name = f"{title}{fake.first_name()} {fake.last_name()}"
        availability = self._work_hours(role)
        self.hours[sid] = availability
        person: dict[str, Any] = {
            "id": sid,
            "name": name,
            "role": role,
            "credentials": creds,
            "specializations": specs,
            "availability": availability,
        }
        if role in {
            "therapist",
            "counselor",
            "intern",
            "psychiatrist",
            "nurse_practitioner",
            "physician",
        }:
            person["max_minutes_per_week"] = 1800 if role != "intern" else 1200
        person["email"] = f"{sid}@{'example.org'}"
        return person

    def _work_hours(self, role: str) -> dict[str, list[str]]:
        shape = self.rng.random()
        if role in {"psychiatrist", "physician"} and shape < 0.5:
            return {d: ["09:00-13:00"] for d in ("mon", "wed", "fri")} | {
                d: ["12:00-17:00"] for d in ("tue", "thu")
            }
        if shape < 0.6:
            return {d: ["08:00-12:00", "12:30-17:00"] for d in WORKDAYS}
        if shape < 0.85:
            return {d: ["10:00-14:00", "14:30-19:00"] for d in WORKDAYS}  # evening IOP shift
        return {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu")}  # four-day week

    def _period(self, d1: date, t1: str, d2: date, t2: str, reason: str) -> dict[str, Any]:
        return {
            "start": self._local(d1, parse_hhmm(t1)),
            "end": self._local(d2, parse_hhmm(t2)),
            "reason": reason,
        }

    def _local(self, day: date, minute: int) -> str:
        moment = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        return moment.isoformat(timespec="seconds")

    # -- patients ------------------------------------------------------------------------------

    def _patients(self, staff: list[dict[str, Any]]) -> list[dict[str, Any]]:
        clinicians = [s for s in staff if s["role"] in {"therapist", "counselor"}]
        liaisons = [s["id"] for s in staff if s["role"] == "case_manager"]
        caseload: dict[str, int] = defaultdict(int)
        patients = []
        for i in range(self.size.patients):
            rng = self.rng
            level = rng.choices([lv for lv, _ in LEVELS], [w for _, w in LEVELS])[0]
            phase = (
                "withdrawal_management"
                if level.endswith("WM")
                else rng.choices(
                    ["intake", "stabilization", "active_treatment", "maintenance"], [6, 20, 58, 16]
                )[0]
            )
            wanted = set(rng.sample(SPECIALIZATIONS, k=rng.choice([0, 0, 1, 1, 1, 2])))
            # Intake matches the patient to a clinician who covers every need they have.
            suited = [c for c in clinicians if wanted <= set(c["specializations"])]
            while not suited:
                wanted.discard(sorted(wanted)[-1])
                suited = [c for c in clinicians if wanted <= set(c["specializations"])]
            needs = sorted(wanted)
            if "adolescent" in needs and "womens" in needs:
                needs.remove("womens")
            sex = rng.choice(["female", "male", "male", "female", "other"])
            if "womens" in needs:
                sex = "female"
            fake = self.fake_es if "spanish_speaking" in needs else self.fake
            first = fake.first_name_female() if sex == "female" else fake.first_name_male()
            name = f"{first} {fake.last_name()}"
            primary = min(suited, key=lambda c: (caseload[c["id"]], c["id"]))
            caseload[primary["id"]] += 1
            age = 15 if "adolescent" in needs else rng.randint(19, 68)
            admitted = self.today - timedelta(days=rng.randint(3, 120))
            patient: dict[str, Any] = {
                "id": f"p{i + 1:04d}",
                "name": name,
                "dob": (self.today - timedelta(days=age * 365 + rng.randint(0, 364))).isoformat(),
                "mrn": f"{rng.randrange(10**7, 10**8)}",
                "level_of_care": level,
                "phase": phase,
                "admitted": admitted.isoformat(),
                "acuity": rng.choices([1, 2, 3, 4, 5], [10, 30, 35, 18, 7])[0],
                "needs": needs,
                "sex": sex,
                "primary_clinician": primary["id"],
            }
            requirements = [
                {
                    "session_type": "individual",
                    "per_week": INDIVIDUAL_PER_WEEK[level],
                    "source": "level_of_care",
                }
            ]
            if "mat" in needs or level.endswith("WM"):
                requirements.append(
                    {
                        "session_type": "medication_management",
                        "per_week": 1,
                        "source": "treatment_plan",
                    }
                )
            if rng.random() < 0.25:
                requirements.append(
                    {"session_type": "case_management", "per_week": 1, "source": "treatment_plan"}
                )
            patient["requirements"] = requirements
            if rng.random() < 0.1 and liaisons:
                patient["court_order"] = {
                    "case_number": f"CR-{self.today.year}-{rng.randrange(10**5, 10**6)}",
                    "court": rng.choice(COURTS),
                    "start": (admitted - timedelta(days=7)).isoformat(),
                    "end": (admitted + timedelta(days=rng.choice([90, 180, 365]))).isoformat(),
                    "requirements": [{"session_type": "individual", "per_week": 1}],
                    "liaison": rng.choice(liaisons),
                    "report_to": "probation officer",
                }
            if rng.random() < 0.85:
                units = rng.choice([12, 16, 24, 30])
                end = admitted + timedelta(days=90)
                # Every booked session is covered (the rules refuse one outside the dates or the
                # types); some authorizations end with the booked week.
                if end < self.today + timedelta(days=7):
                    end = self.today + timedelta(days=rng.randint(3, 40))
                end = max(end, self.week + timedelta(days=4))
                covered = ["individual", "group", "family", "case_management"]
                if any(r["session_type"] == "medication_management" for r in requirements):
                    covered.append("medication_management")
                patient["authorizations"] = [
                    {
                        "id": f"AUTH-{rng.randrange(10**6, 10**7)}",
                        "payer": rng.choice(PAYERS),
                        "session_types": covered,
                        "units": units,
                        "used": rng.randint(0, units - 1),
                        "start": admitted.isoformat(),
                        "end": end.isoformat(),
                    }
                ]
            shape = rng.random()
            if shape < 0.2:  # works days: afternoons and evenings only
                patient["availability"] = {d: ["15:00-19:00"] for d in WORKDAYS}
            elif shape < 0.3:
                patient["availability"] = {d: ["08:00-13:00"] for d in ("mon", "tue", "wed", "thu")}
            preferences: dict[str, Any] = {}
            if rng.random() < 0.5:
                preferences["parts_of_day"] = [rng.choice(["morning", "afternoon", "evening"])]
            if rng.random() < 0.2:
                preferences["avoid_days"] = [rng.choice(WORKDAYS)]
            if preferences:
                patient["preferences"] = preferences
            channel = rng.choice(["sms", "sms", "email", "phone", "none"])
            contact: dict[str, Any] = {
                "channel": channel,
                "consent_reminders": channel != "none" and rng.random() < 0.8,
            }
            if channel in {"sms", "phone"}:
                contact["phone"] = (
                    f"+1{rng.randrange(201, 990)}{rng.randrange(200, 999)}{rng.randrange(1000, 9999)}"
                )
            if channel == "email":
                contact["email"] = f"{first.lower()}.{i}@example.com"
            disclose = []
            if "court_order" in patient:
                disclose.append("court")
            if rng.random() < 0.4:
                relation = rng.choice(["spouse", "mother", "father", "sister", "partner", "son"])
                family_name = f"{fake.first_name()} {name.split()[-1]}"
                patient["family_contacts"] = [
                    {
                        "name": family_name,
                        "relation": relation,
                        "availability": {d: ["17:00-19:00"] for d in WORKDAYS},
                    }
                ]
                if rng.random() < 0.6:
                    disclose.append(f"family:{relation}")
            if disclose:
                contact["consent_disclose_to"] = disclose
            patient["contact"] = contact
            patients.append(patient)
        return patients

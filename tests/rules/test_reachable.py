"""Every enabled rule fires from a production entry point: the booking service, the disclose
use case (and the doors that call it), the court report, the week review and the role checks,
on a facility loaded from a facility file. No hand-built facts: a rule that only a test can
reach is a rule a clinic never sees.

The facility's own rules directory supplies what the facility file has no field for (interns'
hours, a per-week cap, commitments, keep-apart pairs, an AOS program) and lowers the group size
limit, as a facility would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant import access, reports
from assistant.court_report import court_report
from assistant.disclosure import Disclose, disclose
from assistant.usecases import appointments
from clinic.booking import AppointmentView, BookingRequest, BookingService
from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.db import Database, open_database
from clinic.errors import PermissionDenied, RuleViolation
from clinic.facility_file import load_facility
from clinic.models import AuditEvent
from clinic.timeutil import parse_datetime, zone
from clinic.tokens import Caller
from rules import service as rules_service
from rules.decision import Decision
from rules.model import Situation, StaffFacts
from rules.policy import RulesPolicy
from rules.service import RulesService

TZ = "America/New_York"
WEEK = [date(2026, 12, 7) + timedelta(days=i) for i in range(6)]  # Mon..Sat
MON, TUE, WED, THU, FRI, SAT = WEEK
WORKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")

RULES_DIR = """
overrides:
  GRP-MAX-SIZE: {params: {max_members: 3}}
data:
  program_capability: AOS
  interns: {in3: 2500}
  authorization_caps: {A-WEEK: 1}
  keep_apart: [[k1, k2]]
  commitments:
    court1: [{start: "2026-12-09T10:00:00-05:00", end: "2026-12-09T12:00:00-05:00",
              what: "a court hearing"}]
"""


def _person(pid: str, **kw: Any) -> dict[str, Any]:
    return {"id": pid, "name": f"Patient {pid.title()}", "level_of_care": "1.0", **kw}


def _auth(aid: str, units: int, used: int, start: str, end: str, types: list[str]) -> dict:
    return {"id": aid, "payer": "Medicaid", "session_types": types, "units": units, "used": used,
            "start": start, "end": end}  # fmt: skip


def _order(consents: list[str]) -> dict[str, Any]:
    return {
        "court_order": {
            "case_number": "CR-1",
            "court": "Drug court",
            "start": "2026-11-01",
            "end": "2027-03-01",
            "requirements": [{"session_type": "individual", "per_week": 1}],
            "liaison": "cm",
            "report_to": "probation officer",
        },
        "contact": {"consent_disclose_to": consents, "consent_reminders": False},
    }


def facility() -> dict[str, Any]:
    staff = [
        (
            "t1",
            "therapist",
            ["LCSW"],
            {
                "unavailable": [
                    {
                        "start": "2026-12-10T00:00:00",
                        "end": "2026-12-11T00:00:00",
                        "reason": "leave",
                    }
                ]
            },
        ),
        ("t2", "therapist", ["LCSW"], {"specializations": ["dual_diagnosis"]}),
        ("t3", "therapist", ["LCSW"], {"availability": {"mon": ["08:00-12:00"]}}),
        ("md", "psychiatrist", ["MD"], {}),
        ("cm", "case_manager", [], {}),
        ("cd", "clinical_director", ["LCSW"], {}),
        ("fd", "front_desk", [], {}),
        ("au", "auditor", [], {}),
        ("in1", "intern", [], {}),
        ("in2", "intern", [], {"supervisor": "t3"}),
        ("in3", "intern", [], {"supervisor": "t1"}),
    ]
    family = {"contact": {"consent_disclose_to": ["family:mother"]}}
    return {
        "version": 1,
        "facility": {
            "name": "Every Rule Clinic",
            "timezone": TZ,
            "open_days": list(WORKDAYS),
            "open": "08:00",
            "close": "20:00",
            "slot_minutes": 15,
        },
        "rooms": [
            *(
                {"id": f"ind-{i}", "name": f"Office {i}", "kind": "individual", "capacity": 3}
                for i in range(1, 4)
            ),
            {"id": "grp-1", "name": "Group room", "kind": "group", "capacity": 14},
            {"id": "fam-1", "name": "Family room", "kind": "family", "capacity": 6},
            {"id": "med-1", "name": "Exam room", "kind": "medical", "capacity": 3},
        ],
        "session_types": [
            *(dict(t, min_patients=1) for t in BUILTIN_SESSION_TYPES),
            {
                "id": "iop_day",
                "name": "IOP day",
                "minutes": 240,
                "cpt": "H0015",
                "room_kinds": ["group", "individual"],
                "min_patients": 1,
                "max_patients": 1,
            },
        ],
        "staff": [
            {"id": sid, "name": f"Staff {sid.title()}", "role": role, "credentials": creds, **kw}
            for sid, role, creds, kw in staff
        ]
        + [
            {"id": "t1b", "name": "Staff T1b", "role": "therapist", "credentials": ["LCSW"]},
        ],
        "patients": [
            _person(
                "a1",
                authorizations=[_auth("A-WEEK", 3, 0, "2026-11-01", "2026-12-31", ["individual"])],
            ),
            _person(
                "a2",
                authorizations=[_auth("A-USED", 1, 1, "2026-11-01", "2026-12-09", ["individual"])],
            ),
            _person("court1", primary_clinician="t1", **_order(["court", "family:mother"])),
            _person("court2", **_order([])),
            _person("dual", needs=["dual_diagnosis"]),
            *(_person(p) for p in ("g1", "g2", "g3", "x1", "x2", "k1", "k2", "o1", "e1")),
            _person("fam", **family),
            _person("cap", **family),
            _person("wm", level_of_care="3.7-WM", phase="withdrawal_management"),
            _person("intake", phase="intake"),
            _person("op"),
            _person("iop", level_of_care="2.1"),
            _person("iop2", level_of_care="2.1"),
        ],
        "groups": [
            {
                "id": "closed",
                "name": "Cohort",
                "session_type": "group",
                "facilitators": ["t2"],
                "members": ["g1", "g2", "g3"],
                "capacity": 3,
                "closed": True,
            },
            {
                "id": "apart",
                "name": "Open group",
                "session_type": "group",
                "facilitators": ["t2"],
                "members": ["k1", "k2", "intake"],
            },
        ],
    }


class Recording(RulesService):
    """The rules service every entry point uses, noting which rules fired."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.fired: set[str] = set()

    def evaluate(self, action: str, actor: StaffFacts, facts: Situation) -> Decision:
        decision = super().evaluate(action, actor, facts)
        self.fired.update(decision.fired_ids)
        return decision


@pytest.fixture()
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Recording]]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "facility.yaml").write_text(RULES_DIR)
    recording = Recording(tmp_path / "rules")
    monkeypatch.setattr(rules_service, "_DEFAULT", recording)
    database = open_database(f"sqlite:///{tmp_path / 'rota.sqlite3'}")
    load_facility(database, facility(), actor="test")
    yield database, recording
    database.dispose()


def at(day: date, hhmm: str) -> datetime:
    return parse_datetime(f"{day.isoformat()}T{hhmm}", zone(TZ))


def refused(call: Callable[[], object]) -> str:
    """Run an entry point that the rules must refuse; the refusal's words."""
    with pytest.raises((RuleViolation, PermissionDenied)) as caught:
        call()
    return str(caught.value)


@pytest.mark.slow
def test_every_enabled_rule_fires_from_a_production_entry_point(
    clinic: tuple[Database, Recording],
) -> None:
    db, rules = clinic
    now = [at(date(2026, 12, 1), "08:00")]
    booking = BookingService(db, RulesPolicy(rules), clock=lambda: now[0])

    def book(
        actor: str,
        stype: str,
        when: datetime,
        staff: list[str],
        patients: list[str],
        override_reason: str | None = None,
        **kw: Any,
    ) -> AppointmentView:
        request = BookingRequest(stype, when, staff, patients, **kw)
        return booking.book(actor, request, override_reason=override_reason)

    # -- payer authorization ---------------------------------------------------------------
    book("cd", "individual", at(MON, "09:00"), ["t1"], ["a1"])  # AUTH-LOW-UNITS: 2 left
    refused(lambda: book("cd", "individual", at(TUE, "09:00"), ["t1"], ["a1"]))  # AUTH-WEEK-CAP
    refused(lambda: book("cd", "family", at(TUE, "09:00"), ["t1"], ["a1"]))  # NOT-COVERED
    refused(lambda: book("cd", "individual", at(date(2027, 1, 4), "09:00"), ["t1"], ["a1"]))
    refused(lambda: book("cd", "individual", at(MON, "10:00"), ["t1"], ["a2"]))  # UNITS, ENDING

    # -- privacy: every disclosure through the one use case --------------------------------
    def tell(**kw: Any) -> Decision:
        return disclose(db, Disclose(purpose="test", **kw))

    refused(lambda: tell(actor="cd", channel="public_channel", recipient="workforce",
                         patients=("a1",)))  # fmt: skip
    refused(lambda: tell(actor="cd", channel="email", recipient="family", patients=("court2",)))
    refused(lambda: tell(actor="cd", channel="dm", recipient="workforce", recipient_staff="fd",
                         content="clinical", patients=("a1",)))  # fmt: skip
    refused(lambda: tell(actor="assistant", channel="llm", recipient="llm_vendor"))
    refused(lambda: tell(actor="cd", channel="sms", recipient="patient", patients=("court1",)))
    notice = tell(actor="cd", channel="email", recipient="family", patients=("court1",))
    assert any("redisclosure" in o for o in notice.obligations)
    refused(lambda: book("cd", "family", at(MON, "09:00"), ["t2"], ["op"]))  # FAMILY-SESSION
    # -- court orders ----------------------------------------------------------------------
    session = book("cd", "individual", at(TUE, "09:00"), ["t1"], ["court1"])
    refused(lambda: booking.cancel("cd", session.id, reason="patient ill"))  # REQUIRED-CANCEL
    booking.cancel("cm", session.id, reason="ill", late=True, override_reason="judge agreed")
    with db.read() as s:
        fired = s.scalars(
            select(AuditEvent.decision).where(
                AuditEvent.entity_id == session.id, AuditEvent.action == "appointment.cancel"
            )
        ).one()["fired"]
    # A cancellation reaches CRT-ATTENDANCE with the status it records.
    assert "CRT-ATTENDANCE" in {f["id"] for f in fired}
    missed = book("cd", "individual", at(date(2026, 12, 2), "09:00"), ["t1"], ["court1"])
    now[0] = at(date(2026, 12, 2), "12:00")
    booking.set_status("cd", missed.id, "no_show")  # CRT-ATTENDANCE, set_status branch
    refused(lambda: book("cd", "individual", at(WED, "10:00"), ["t1"], ["court1"]))  # COMMITMENT
    cm = Caller("cm", "Case Manager", "case_manager")
    report = court_report(db, cm, "court1", now=at(FRI, "12:00"))
    assert any("redisclosure" in o for o in report.obligations)
    assert [s["status"] for s in report.sessions] == ["late_cancelled"]
    refused(lambda: court_report(db, cm, "court1", now=at(FRI, "12:00"), content="clinical"))
    refused(lambda: court_report(db, cm, "court2", now=at(FRI, "12:00")))  # no consent
    # -- credentials and supervision -------------------------------------------------------
    refused(lambda: book("cd", "individual", at(MON, "11:00"), ["fd"], ["o1"]))  # CREDENTIAL
    refused(lambda: book("cd", "individual", at(MON, "11:00"), ["t1"], ["dual"]))  # NEEDS, COD
    refused(lambda: book("cd", "individual", at(MON, "13:00"), ["in1"], ["o1"]))  # NO-SUPERVISOR
    refused(lambda: book("cd", "individual", at(MON, "14:00"), ["in2"], ["o1"]))  # ONSITE, BILLING
    refused(lambda: book("cd", "individual", at(THU, "14:00"), ["in3"], ["o1"]))  # REACHABLE
    # -- groups ----------------------------------------------------------------------------
    for day in (MON, TUE):
        book("cd", "group", at(day, "15:00"), ["t2"], ["g1", "g2"], group="closed")
    refused(lambda: book("cd", "group", at(WED, "15:00"), ["t2"], ["g1", "x1"], group="closed"))
    refused(lambda: book("cd", "group", at(THU, "15:00"), ["t2"], ["g1", "g2", "g3", "x2"],
                         group="closed"))  # fmt: skip
    book("cd", "group", at(FRI, "15:00"), ["t2"], ["g1"], group="closed", minutes=45)
    refused(lambda: book("cd", "group", at(SAT, "15:00"), ["t2"], ["k1", "k2"], group="apart"))
    # -- level of care and sequencing ------------------------------------------------------
    book("cd", "individual", at(MON, "08:00"), ["t3"], ["wm"])  # LOC-WM-MEDICAL-EVAL
    refused(lambda: book("cd", "family", at(TUE, "11:00"), ["t2"], ["wm"]))  # PHASE-SESSION
    refused(lambda: book("cd", "group", at(SAT, "09:00"), ["t2"], ["intake"], group="apart"))
    refused(lambda: book("cd", "iop_day", at(MON, "08:00"), ["t1b"], ["op"], minutes=120))
    for day in (MON, TUE):
        book("cd", "iop_day", at(day, "12:00"), ["t1b"], ["op"])
    refused(lambda: book("cd", "iop_day", at(WED, "12:00"), ["t1b"], ["op"]))  # ABOVE-BAND
    book("cd", "iop_day", at(WED, "12:00"), ["t1b"], ["op"], override_reason="step-down week")
    iop = [book("cd", "iop_day", at(d, "08:00"), ["t1b"], ["iop"]) for d in (TUE, WED, THU)]
    refused(lambda: booking.cancel("cd", iop[2].id, reason="asked"))  # BELOW-BAND
    director = Caller("cd", "Director", "clinical_director")
    assert "LOC-WEEK-OVER" in reports.review_week(db, director, "op", MON).fired_ids
    assert "LOC-WEEK-UNDER" in reports.review_week(db, director, "iop2", MON).fired_ids
    # -- same-day limits -------------------------------------------------------------------
    book("cd", "individual", at(FRI, "09:00"), ["t1"], ["o1"])
    refused(lambda: book("cd", "individual", at(FRI, "11:00"), ["t2"], ["o1"]))  # ONE-INDIVIDUAL
    book("cd", "psychiatric_evaluation", at(FRI, "09:00"), ["md"], ["e1"])
    refused(lambda: book("cd", "psychiatric_evaluation", at(FRI, "11:00"), ["md"], ["e1"]))
    refused(lambda: book("cd", "medication_management", at(FRI, "13:00"), ["md"], ["e1"]))
    book("cd", "family", at(THU, "09:00"), ["t2"], ["fam"])
    refused(lambda: book("cd", "family", at(THU, "13:00"), ["t2"], ["fam"]))  # FAMILY-SAME-DAY
    book("cd", "individual", at(SAT, "08:00"), ["t1"], ["cap"], minutes=120)
    refused(lambda: book("cd", "family", at(SAT, "12:00"), ["t1"], ["cap"], minutes=150))
    # -- roles -----------------------------------------------------------------------------
    refused(lambda: book("au", "individual", at(SAT, "16:00"), ["t1"], ["o1"]))  # PERM-ROLE
    refused(lambda: book("t3", "individual", at(SAT, "16:00"), ["t1"], ["o1"]))  # CASELOAD
    outsider = Caller("t3", "Staff T3", "therapist")
    refused(lambda: access.authorize(db, outsider, "view_patient", patient_id="o1"))  # -READ
    book("fd", "case_management", at(SAT, "17:00"), ["cm"], ["o1"], override_reason="please")
    access.authorize(db, director, "see_clinical_detail", patient_id="o1")  # PERM-AUDIT-ACCESS
    # wm is on t3's caseload (a session together on Monday), but t1 holds this one
    held = book("cd", "individual", at(TUE, "09:00"), ["t1"], ["wm"])
    therapist = Caller("t3", "Staff T3", "therapist")
    with pytest.raises(PermissionDenied, match="only for sessions they hold"):  # OWN-SESSIONS
        appointments.set_status(db, therapist, appointments.SetStatus(held.id, "checked_in"))

    enabled = {r.id for r in rules.packs.rules if r.enabled}
    assert len(enabled) == 53 and enabled - rules.fired == set(), "rules no entry point reached"

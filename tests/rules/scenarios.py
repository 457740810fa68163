"""The scenario table: situation -> expected decision and the exact set of rule ids that fire.

T01..T25 follow the catalogue's test scenarios (../shared/domain/rules-catalogue.md, end);
the others cover each area with an allowed and a denied case. Every rule of the built-in packs
fires in at least one scenario (checked by test_every_rule_is_exercised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from rules.model import (
    AuthorizationFacts,
    Commitment,
    CourtOrderFacts,
    Disclosure,
    GroupFacts,
    Situation,
)
from tests.rules.builders import (
    FRI,
    MON,
    SAT,
    STAFF,
    THU,
    TUE,
    WED,
    appt,
    at,
    patient,
    situation,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    action: str
    actor: str
    build: Callable[[], Situation]
    allowed: bool
    fired: frozenset[str]
    obligations: tuple[str, ...] = ()
    """Substrings that must appear among the decision's obligations."""


def S(
    name: str,
    action: str,
    actor: str,
    build: Callable[[], Situation],
    allowed: bool,
    fired: set[str] | None = None,
    obligations: tuple[str, ...] = (),
) -> Scenario:
    return Scenario(name, action, actor, build, allowed, frozenset(fired or ()), obligations)


# ------------------------------------------------------------------ shared situations

IOP = patient(level_of_care="2.1")


def _iop_cancel(override: str | None = None) -> Situation:
    week = (appt("iop_day", MON, "09:00"), appt("iop_day", TUE, "09:00"))
    return situation(appt("iop_day", THU, "09:00"), (IOP,), existing=week, override_reason=override)


def _iop_week(days: int) -> tuple:
    return tuple(appt("iop_day", MON + timedelta(days=i), "09:00") for i in range(days))


AUTH_SPAN = (date(2025, 1, 1), date(2025, 3, 31))


def _auth(used: int, **kw: object) -> AuthorizationFacts:
    return AuthorizationFacts(
        "A6", "Medicaid", frozenset({"individual", "ind_60"}), 12, used, *AUTH_SPAN, **kw
    )


def _auth_case(used: int, day: date, scheduled: int = 0, session_type: str = "individual", **kw):  # type: ignore[no-untyped-def]
    booked = tuple(
        appt("individual", day + timedelta(days=1 + i), "10:00") for i in range(scheduled)
    )
    return lambda: situation(
        appt(session_type, day, "14:00"),
        (patient(authorizations=(_auth(used, **kw),)),),
        existing=booked,
    )


def _group(*pids: str, day: date = MON, hhmm: str = "15:00", **kw: object):  # type: ignore[no-untyped-def]
    staff = kw.pop("staff", "ther")
    return appt("group", day, hhmm, staff, pids, **kw)  # type: ignore[arg-type]


INTERN_GROUP = ("p1", "p2", "p3")


def _intern_group(hhmm: str = "18:00", staff=("intern",), **intern_changes: object):  # type: ignore[no-untyped-def]
    intern = replace(STAFF["intern"], **intern_changes)
    return lambda: situation(
        _group(*INTERN_GROUP, hhmm=hhmm, staff=staff), staff={"intern": intern}
    )


def _supervisor_on_leave() -> Situation:
    intern = replace(STAFF["intern"], supervised_hours=2500)
    ther = replace(STAFF["ther"], unavailable=((at(MON, "00:00"), at(TUE, "00:00")),))
    return situation(
        _group(*INTERN_GROUP, hhmm="18:00", staff=("intern",)),
        staff={"intern": intern, "ther": ther},
    )


def _court(**kw: object):  # type: ignore[no-untyped-def]
    order = CourtOrderFacts(
        start=MON - timedelta(days=30),
        end=MON + timedelta(days=90),
        requirements={"individual": 2},
        liaison="liaison",
        report_to="Essex County Drug Court",
    )
    return patient("p17", court_order=order, **kw)


def _court_cancel(override: str | None) -> Situation:
    return situation(
        appt("individual", MON, "10:00", patients="p17"),
        (_court(),),
        existing=(appt("individual", WED, "10:00", patients="p17"),),
        override_reason=override,
    )


def _report(consents: frozenset[str], content: str = "attendance") -> Situation:
    return situation(
        None,
        (_court(consents=consents),),
        subject_patient="p17",
        disclosure=Disclosure("p17", "court_report", "court", content),
    )


def _disclose(channel: str, recipient: str, content: str = "schedule", **kw: object):  # type: ignore[no-untyped-def]
    pkw = {k: kw.pop(k) for k in ("consents", "consent_reminders") if k in kw}
    return lambda: situation(
        None, (patient(**pkw),), disclosure=Disclosure("p1", channel, recipient, content, **kw)
    )


def _review(p, existing) -> Callable[[], Situation]:  # type: ignore[no-untyped-def]
    return lambda: situation(None, (p,), existing=existing, subject_patient="p1", week_of=MON)


def _enroll(closed: bool, held: int, members=("p2", "p3"), pid: str = "p15", **kw):  # type: ignore[no-untyped-def]
    group = GroupFacts("g1", "group", frozenset(members), ("ther",), closed=closed,
                       sessions_held_before=held)  # fmt: skip
    return lambda: situation(
        None, (patient(pid),), groups={"g1": group}, subject_patient=pid, subject_group="g1", **kw
    )


HEARING = Commitment(at(THU, "17:00"), at(THU, "18:00"), "a court hearing")
COD = patient(needs=frozenset({"dual_diagnosis"}))

# ------------------------------------------------------------------ the table

SCENARIOS: list[Scenario] = [
    # --- level of care (LOC) ---------------------------------------------------------------
    S(
        "T01 cancel IOP block drops week below 9 h",
        "cancel",
        "ther",
        _iop_cancel,
        False,
        {"LOC-BELOW-BAND"},
    ),
    S(
        "T01 clinician override with a reason",
        "cancel",
        "ther",
        lambda: _iop_cancel("patient hospitalised; make-up next week"),
        True,
        {"LOC-BELOW-BAND"},
        ("reassessment",),
    ),
    S(
        "T01 front desk cannot give the override",
        "cancel",
        "fd",
        lambda: _iop_cancel("asked to"),
        False,
        {"LOC-BELOW-BAND", "PERM-OVERRIDE-ROLE"},
    ),
    S(
        "T02 21 h of IOP is above the band",
        "book",
        "ther",
        lambda: situation(appt("iop_day", WED, "13:00"), (IOP,), existing=_iop_week(6)),
        False,
        {"LOC-ABOVE-BAND"},
        ("step-up",),
    ),
    S(
        "T02 18 h of IOP is inside the band",
        "book",
        "ther",
        lambda: situation(appt("iop_day", WED, "13:00"), (IOP,), existing=_iop_week(5)),
        True,
        set(),
    ),
    S(
        "T03 adolescent IOP week of 6 h",
        "review_week",
        "cm",
        _review(
            patient(age=16, level_of_care="2.1"),
            (appt("iop_day", MON, "09:00"), appt("iop_day", WED, "09:00")),
        ),
        True,
        set(),
    ),
    S(
        "T03 adolescent IOP week of 5 h is flagged",
        "review_week",
        "cm",
        _review(
            patient(age=16, level_of_care="2.1"),
            (
                appt("iop_day", MON, "09:00"),
                appt("ind_60", WED, "09:00"),
                appt("ind_60", THU, "09:00"),
            ),
        ),
        True,
        {"LOC-WEEK-UNDER"},
    ),
    S(
        "T05 PHP week of 15 h is flagged",
        "review_week",
        "cm",
        _review(
            patient(level_of_care="2.5"),
            tuple(appt("iop_day", d, "09:00", minutes=300) for d in (MON, TUE, WED)),
        ),
        True,
        {"LOC-WEEK-UNDER"},
        ("under-dosing",),
    ),
    S(
        "T05 PHP week of 20 h is fine",
        "review_week",
        "cm",
        _review(
            patient(level_of_care="2.5"),
            tuple(appt("iop_day", d, "09:00", minutes=300) for d in (MON, TUE, WED, THU)),
        ),
        True,
        set(),
    ),
    S(
        "OP week of 10 h is above the band",
        "review_week",
        "cm",
        _review(patient(), tuple(appt("iop_day", d, "09:00", minutes=300) for d in (MON, TUE))),
        True,
        {"LOC-WEEK-OVER"},
    ),
    S(
        "discharged patient cannot get psychotherapy",
        "book",
        "ther",
        lambda: situation(appt("individual", MON, "10:00"), (patient(phase="discharged"),)),
        False,
        {"LOC-PHASE-SESSION"},
    ),
    S(
        "discharged patient may get case management",
        "book",
        "cm",
        lambda: situation(
            appt("case_management", MON, "10:00", "cm"), (patient(phase="discharged"),)
        ),
        True,
        set(),
    ),
    S(
        "group before the intake assessment",
        "book",
        "ther",
        lambda: situation(_group("p1", "p2", "p3"), (patient(phase="intake"),)),
        False,
        {"LOC-INTAKE-FIRST"},
    ),
    S(
        "group after the intake assessment",
        "book",
        "ther",
        lambda: situation(
            _group("p1", "p2", "p3", day=TUE),
            (patient(phase="intake"),),
            existing=(appt("intake_assessment", MON, "09:00"),),
        ),
        True,
        set(),
    ),
    S(
        "withdrawal management without a medical evaluation",
        "book",
        "ther",
        lambda: situation(
            appt("individual", MON, "10:00"),
            (patient(level_of_care="3.7-WM", phase="withdrawal_management"),),
        ),
        True,
        {"LOC-WM-MEDICAL-EVAL"},
        ("medical evaluation",),
    ),
    S(
        "withdrawal management with a medical evaluation booked",
        "book",
        "ther",
        lambda: situation(
            appt("individual", MON, "10:00"),
            (patient(level_of_care="3.7-WM", phase="withdrawal_management"),),
            existing=(appt("medical_evaluation", MON, "08:00", "psych"),),
        ),
        True,
        set(),
    ),
    # --- session codes (COD) -----------------------------------------------------------------
    S(
        "T04 a 2.5-hour H0015 IOP day",
        "book",
        "ther",
        lambda: situation(appt("iop_day", WED, "09:00", minutes=150), (IOP,)),
        False,
        {"COD-IOP-DAY"},
    ),
    S(
        "T04 a 3-hour H0015 IOP day",
        "book",
        "ther",
        lambda: situation(appt("iop_day", WED, "09:00"), (IOP,)),
        True,
        set(),
    ),
    # --- payer authorization (AUTH) ------------------------------------------------------------
    S(
        "T06 12 of 12 units used or scheduled",
        "book",
        "ther",
        _auth_case(10, date(2025, 3, 20), scheduled=2),
        False,
        {"AUTH-UNITS"},
        ("re-authorization",),
    ),
    S(
        "T06 one unit left after booking warns",
        "book",
        "ther",
        _auth_case(9, date(2025, 3, 17), scheduled=1),
        True,
        {"AUTH-LOW-UNITS"},
    ),
    S(
        "T07 after the end date, units left or not",
        "book",
        "ther",
        _auth_case(11, date(2025, 4, 2)),
        False,
        {"AUTH-DATE-SPAN"},
    ),
    S(
        "T07 late note for a session held inside the span",
        "set_status",
        "ther",
        lambda: situation(
            appt("individual", date(2025, 3, 28), "10:00", status="attended"),
            (patient(authorizations=(_auth(11),)),),
            new_status="attended",
        ),
        True,
        set(),
    ),
    S(
        "T08 authorization ends in 3 business days",
        "book",
        "ther",
        _auth_case(2, date(2025, 3, 26)),
        True,
        {"AUTH-ENDING"},
    ),
    S(
        "authorization does not cover group",
        "book",
        "ther",
        lambda: situation(
            _group("p1", "p2", "p3"), (patient(authorizations=(_auth(0),)),), now=at(MON, "07:00")
        ),
        False,
        {"AUTH-NOT-COVERED"},
    ),
    S(
        "per-week cap of the authorization",
        "book",
        "ther",
        lambda: situation(
            appt("individual", date(2025, 2, 13), "10:00"),
            (patient(authorizations=(_auth(0, max_units_per_week=1),)),),
            existing=(appt("individual", date(2025, 2, 11), "10:00"),),
        ),
        False,
        {"AUTH-WEEK-CAP"},
    ),
    S(
        "crisis sessions never wait for an authorization",
        "book",
        "ther",
        _auth_case(12, date(2025, 3, 20), session_type="crisis"),
        True,
        set(),
    ),
    # --- spacing (OPS) -------------------------------------------------------------------------
    S(
        "T09 second individual psychotherapy the same day",
        "book",
        "ther2",
        lambda: situation(
            appt("ind_60", MON, "15:00", "ther2"), existing=(appt("individual", MON, "10:00"),)
        ),
        False,
        {"OPS-ONE-INDIVIDUAL"},
    ),
    S(
        "T09 a group the same afternoon is fine",
        "book",
        "ther",
        lambda: situation(_group("p1", "p2", "p3"), existing=(appt("individual", MON, "10:00"),)),
        True,
        set(),
    ),
    S(
        "T10 psychiatric evaluation and E/M by one prescriber",
        "book",
        "psych",
        lambda: situation(
            appt("medication_management", MON, "11:00", "psych"),
            existing=(appt("psychiatric_evaluation", MON, "09:00", "psych"),),
        ),
        False,
        {"OPS-EVAL-EM-SAME-DAY"},
    ),
    S(
        "T10 E/M by another prescriber the same day",
        "book",
        "np",
        lambda: situation(
            appt("medication_management", MON, "11:00", "np"),
            existing=(appt("psychiatric_evaluation", MON, "09:00", "psych"),),
        ),
        True,
        set(),
    ),
    S(
        "two diagnostic evaluations the same day",
        "book",
        "psych",
        lambda: situation(
            appt("psychiatric_evaluation", MON, "13:00", "psych"),
            existing=(appt("diag_eval", MON, "09:00"),),
        ),
        False,
        {"OPS-ONE-EVALUATION"},
    ),
    S(
        "daily psychotherapy cap of 4 hours",
        "book",
        "ther",
        lambda: situation(
            appt("individual", MON, "15:00"),
            existing=(
                _group("p1", "p2", "p3", hhmm="09:00", minutes=120),
                _group("p1", "p2", "p3", hhmm="11:30", minutes=120),
            ),
        ),
        False,
        {"OPS-DAILY-PSYCHOTHERAPY-CAP"},
    ),
    # --- credentials and supervision (STF) ---------------------------------------------------
    S(
        "T11 an LPC cannot do a 90792",
        "book",
        "ther",
        lambda: situation(appt("eval_90792", MON, "10:00")),
        False,
        {"STF-CREDENTIAL"},
    ),
    S(
        "T11 an LPC may do a 90791",
        "book",
        "ther",
        lambda: situation(appt("diag_eval", MON, "10:00")),
        True,
        set(),
    ),
    S(
        "T12 intern alone in the evening, supervisor gone home",
        "book",
        "cd",
        _intern_group(),
        False,
        {"STF-INTERN-ONSITE", "STF-INTERN-BILLING"},
    ),
    S(
        "T12 intern with a qualified co-facilitator",
        "book",
        "cd",
        _intern_group(staff=("intern", "couns")),
        True,
        {"STF-INTERN-BILLING"},
    ),
    S(
        "intern in the daytime with the supervisor on site",
        "book",
        "cd",
        _intern_group(hhmm="10:00"),
        True,
        {"STF-INTERN-BILLING"},
    ),
    S(
        "T13 intern past 2,000 h, supervisor reachable",
        "book",
        "cd",
        _intern_group(supervised_hours=2500),
        True,
        {"STF-INTERN-BILLING"},
    ),
    S(
        "T13 intern past 2,000 h, supervisor on leave",
        "book",
        "cd",
        _supervisor_on_leave,
        False,
        {"STF-INTERN-REACHABLE", "STF-INTERN-BILLING"},
    ),
    S(
        "intern without a supervisor",
        "book",
        "cd",
        lambda: situation(_group(*INTERN_GROUP, hhmm="10:00", staff=("intern_orphan",))),
        False,
        {"STF-INTERN-NO-SUPERVISOR"},
    ),
    S(
        "patient needs a Spanish-speaking clinician",
        "book",
        "ther",
        lambda: situation(
            appt("individual", MON, "10:00"), (patient(needs=frozenset({"spanish_speaking"})),)
        ),
        False,
        {"STF-NEEDS"},
    ),
    S(
        "Spanish-speaking clinician for that patient",
        "book",
        "ther2",
        lambda: situation(
            appt("individual", MON, "10:00", "ther2"),
            (patient(needs=frozenset({"spanish_speaking"})),),
        ),
        True,
        set(),
    ),
    S(
        "T23 medication management by a CADC at an AOS program",
        "book",
        "cm",
        lambda: situation(
            appt("medication_management", MON, "10:00", "couns"), (COD,), program_capability="AOS"
        ),
        False,
        {"STF-CREDENTIAL", "STF-COD-PROGRAM"},
        ("coordinated referral",),
    ),
    S(
        "T23 psychiatrist at a dual-diagnosis capable program",
        "book",
        "cm",
        lambda: situation(appt("medication_management", MON, "10:00", "psych"), (COD,)),
        True,
        set(),
    ),
    # --- groups (GRP) --------------------------------------------------------------------------
    S(
        "T14 a 13th member",
        "book",
        "cd",
        lambda: situation(_group(*(f"p{i}" for i in range(1, 14)))),
        False,
        {"GRP-MAX-SIZE"},
    ),
    S(
        "T14 one member cannot be billed as a group",
        "book",
        "ther",
        lambda: situation(_group("p1")),
        True,
        {"GRP-MIN-SIZE"},
    ),
    S(
        "group over its own capacity",
        "book",
        "cd",
        lambda: situation(
            _group(*(f"p{i}" for i in range(1, 10)), group="g8"),
            groups={"g8": GroupFacts("g8", "group", frozenset(), capacity=8)},
        ),
        False,
        {"GRP-CAPACITY"},
    ),
    S(
        "T15 joining a closed cohort in week 3",
        "enroll",
        "ther",
        _enroll(closed=True, held=2),
        False,
        {"GRP-CLOSED-COHORT"},
    ),
    S(
        "joining a closed cohort at its second meeting",
        "enroll",
        "ther",
        _enroll(closed=True, held=1),
        True,
        set(),
    ),
    S(
        "T15 joining an open group any time",
        "enroll",
        "ther",
        _enroll(closed=False, held=20),
        True,
        set(),
    ),
    S(
        "keep-apart pair in one group session",
        "book",
        "ther",
        lambda: situation(
            _group("p1", "p2", "p3"), keep_apart=frozenset({frozenset({"p1", "p2"})})
        ),
        False,
        {"GRP-KEEP-APART"},
    ),
    S(
        "enrolling next to a no-contact order",
        "enroll",
        "ther",
        _enroll(
            closed=False,
            held=0,
            members=("p2", "p9"),
            pid="p1",
            keep_apart=frozenset({frozenset({"p1", "p9"})}),
        ),
        False,
        {"GRP-KEEP-APART"},
    ),
    S(
        "a 150-minute group",
        "book",
        "ther",
        lambda: situation(_group("p1", "p2", "p3", minutes=150)),
        True,
        {"GRP-DURATION"},
    ),
    # --- court orders (CRT) --------------------------------------------------------------------
    S(
        "T16 group clashes with the court hearing",
        "book",
        "ther",
        lambda: situation(
            _group("p16", "p2", "p3", day=THU, hhmm="16:30", minutes=120),
            (patient("p16", commitments=(HEARING,)),),
        ),
        False,
        {"CRT-COMMITMENT"},
    ),
    S(
        "T16 Tuesday evening group instead",
        "book",
        "ther",
        lambda: situation(
            _group("p16", "p2", "p3", day=TUE, hhmm="17:30", minutes=120),
            (patient("p16", commitments=(HEARING,)),),
        ),
        True,
        set(),
    ),
    S(
        "T17 weekly report under a 2.35 consent",
        "send_court_report",
        "cm",
        lambda: _report(frozenset({"court"})),
        True,
        {"CRT-REPORT-NOTICE", "PERM-AUDIT-ACCESS"},
        ("redisclosure",),
    ),
    S(
        "T17 no consent, no report",
        "send_court_report",
        "cm",
        lambda: _report(frozenset()),
        False,
        {"CRT-REPORT-CONSENT", "PERM-AUDIT-ACCESS"},
        ("compliance officer",),
    ),
    S(
        "T17 counseling content never goes to court",
        "send_court_report",
        "cm",
        lambda: _report(frozenset({"court"}), "clinical"),
        False,
        {"CRT-REPORT-CONTENT", "CRT-REPORT-NOTICE", "PERM-AUDIT-ACCESS"},
    ),
    S(
        "court-required session cancelled by a case manager",
        "cancel",
        "cm",
        lambda: _court_cancel("patient asked"),
        False,
        {"CRT-REQUIRED-CANCEL", "CRT-CHANGE-NOTICE", "PERM-OVERRIDE-ROLE"},
    ),
    S(
        "court-required session cancelled by the liaison",
        "cancel",
        "liaison",
        lambda: _court_cancel("hearing moved; make-up Friday"),
        True,
        {"CRT-REQUIRED-CANCEL", "CRT-CHANGE-NOTICE"},
        ("Notify the court liaison", "make-up"),
    ),
    S(
        "court-required session moved within the week",
        "move",
        "ther",
        lambda: situation(
            appt("individual", FRI, "10:00", patients="p17"),
            (_court(),),
            before=appt("individual", MON, "10:00", patients="p17"),
            existing=(appt("individual", WED, "10:00", patients="p17"),),
        ),
        True,
        {"CRT-CHANGE-NOTICE"},
    ),
    S(
        "no-show of a court-ordered patient",
        "set_status",
        "ther",
        lambda: situation(
            appt("individual", MON, "10:00", patients="p17", status="no_show"),
            (_court(),),
            new_status="no_show",
        ),
        True,
        {"CRT-ATTENDANCE"},
        ("attendance report",),
    ),
    # --- consent and Part 2 (PRIV) -------------------------------------------------------------
    S(
        "T20 front desk asks in a public channel",
        "view_schedule",
        "fd",
        lambda: situation(
            None,
            (patient("p20"),),
            subject_patient="p20",
            disclosure=Disclosure("p20", "public_channel", "workforce", recipient_staff="fd"),
        ),
        False,
        {"PRIV-PUBLIC-CHANNEL"},
    ),
    S(
        "T20 front desk answered by DM",
        "view_schedule",
        "fd",
        lambda: situation(
            None,
            (patient("p20"),),
            subject_patient="p20",
            disclosure=Disclosure("p20", "dm", "workforce", recipient_staff="fd"),
        ),
        True,
        set(),
    ),
    S(
        "T20 auditor has no need for the schedule",
        "view_schedule",
        "aud",
        lambda: situation(
            None,
            (patient("p20"),),
            subject_patient="p20",
            disclosure=Disclosure("p20", "dm", "workforce", recipient_staff="aud"),
        ),
        False,
        {"PERM-ROLE", "PRIV-ROLE-NEED"},
    ),
    S(
        "T21 raw text to a model vendor without a BAA",
        "disclose",
        "ther",
        _disclose("llm", "llm_vendor"),
        False,
        {"PRIV-LLM-VENDOR", "PERM-AUDIT-ACCESS"},
    ),
    S(
        "T21 de-identified text to the model vendor",
        "disclose",
        "ther",
        _disclose("llm", "llm_vendor", deidentified=True),
        True,
        {"PERM-AUDIT-ACCESS"},
    ),
    S(
        "T25 two family sessions, no family consent",
        "book",
        "ther",
        lambda: situation(
            appt("family_no_patient", MON, "16:00", patients="p25"),
            (patient("p25"),),
            existing=(appt("family", MON, "13:00", patients="p25"),),
        ),
        False,
        {"PRIV-FAMILY-SESSION", "OPS-FAMILY-SAME-DAY"},
    ),
    S(
        "two family codes the same day, reviewed (modifier 59)",
        "book",
        "ther",
        lambda: situation(
            appt("family_no_patient", MON, "16:00", patients="p25"),
            (patient("p25", consents=frozenset({"family"})),),
            existing=(appt("family", MON, "13:00", patients="p25"),),
            override_reason="separate sessions documented, modifier 59",
        ),
        True,
        {"OPS-FAMILY-SAME-DAY"},
    ),
    S(
        "T25 one family session with consent",
        "book",
        "ther",
        lambda: situation(
            appt("family", MON, "16:00", patients="p25"),
            (patient("p25", consents=frozenset({"family"})),),
        ),
        True,
        set(),
    ),
    S(
        "email to a family member without consent",
        "disclose",
        "ther",
        _disclose("email", "family"),
        False,
        {"PRIV-NO-CONSENT", "PERM-AUDIT-ACCESS"},
    ),
    S(
        "email to the mother named on the consent",
        "disclose",
        "ther",
        _disclose("email", "family", consents=frozenset({"mother"})),
        True,
        {"PRIV-REDISCLOSURE-NOTICE", "PERM-AUDIT-ACCESS"},
        ("2.32",),
    ),
    S(
        "clinical detail in a DM",
        "disclose",
        "ther",
        _disclose("dm", "workforce", "clinical", recipient_staff="ther2"),
        False,
        {"PRIV-CHAT-CLINICAL", "PERM-AUDIT-ACCESS"},
    ),
    S(
        "SMS reminder without opt-in",
        "disclose",
        "cd",
        _disclose("sms", "patient"),
        False,
        {"PRIV-REMINDER-OPT-IN", "PERM-AUDIT-ACCESS"},
    ),
    S(
        "SMS reminder after opt-in",
        "disclose",
        "cd",
        _disclose("sms", "patient", consent_reminders=True),
        True,
        {"PERM-AUDIT-ACCESS"},
    ),
    # --- roles and permissions (PERM) --------------------------------------------------------
    S(
        "auditor cannot book",
        "book",
        "aud",
        lambda: situation(appt("individual", MON, "10:00")),
        False,
        {"PERM-ROLE"},
    ),
    S(
        "therapist cannot book another clinician's patient",
        "book",
        "ther2",
        lambda: situation(appt("individual", MON, "10:00")),
        False,
        {"PERM-CASELOAD"},
    ),
    S(
        "director (rules data role) may book",
        "book",
        "dir",
        lambda: situation(appt("individual", MON, "10:00")),
        True,
        set(),
    ),
    S(
        "front desk may book for anyone",
        "book",
        "fd",
        lambda: situation(appt("individual", SAT, "10:00")),
        True,
        set(),
    ),
    S(
        "therapist sees clinical detail of own patient",
        "view_clinical",
        "ther",
        lambda: situation(None, (patient(),), subject_patient="p1"),
        True,
        {"PERM-AUDIT-ACCESS"},
    ),
    S(
        "front desk sees no clinical detail",
        "view_clinical",
        "fd",
        lambda: situation(None, (patient(),), subject_patient="p1"),
        False,
        {"PERM-ROLE"},
    ),
    S(
        "therapist cannot see another clinician's patient's chart",
        "view_clinical",
        "ther2",
        lambda: situation(None, (patient(),), subject_patient="p1"),
        False,
        {"PERM-CASELOAD"},
    ),
    S(
        "therapist cannot open another clinician's patient's record or agenda",
        "view_patient",
        "ther2",
        lambda: situation(None, (patient(),), subject_patient="p1"),
        False,
        {"PERM-CASELOAD-READ"},
    ),
    S(
        "therapist records attendance for a session they hold",
        "mark_attendance",
        "ther",
        lambda: situation(appt("individual", MON, "10:00")),
        True,
        set(),
    ),
    S(
        "therapist cannot record attendance for another clinician's session",
        "mark_attendance",
        "ther2",
        lambda: situation(appt("individual", MON, "10:00")),
        False,
        {"PERM-OWN-SESSIONS"},
    ),
    S(
        "front desk records attendance for any session",
        "mark_attendance",
        "fd",
        lambda: situation(appt("individual", MON, "10:00")),
        True,
        set(),
    ),
]

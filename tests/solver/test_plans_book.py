"""Plans that book: what the optimizer places, the booking service accepts, every session of it,
with the default system actor. On a facility built so that every limit of the rules binds
(interns under the supervised-hours threshold, payer weekly caps, level-of-care maxima, a daily
psychotherapy cap, court commitments), and on the demo sizes m and l."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import rules.service
from assistant.optimize import (
    SYSTEM_ACTOR,
    apply_plan,
    apply_repair,
    optimize_period,
    repair_staff_out,
)
from assistant.problem_builder import BuiltProblem
from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Appointment, AuditEvent, Staff
from clinic.queries import appointments_between
from clinic.timeutil import local_midnight
from integrations.cli.main import run
from rules.permissions import may
from rules.service import RulesService
from solver.model import PlanResult
from solver.settings import SolverSettings
from tests.conftest import DEMO_START
from tests.solver.validator import validate

NEXT_WEEK = DEMO_START + timedelta(days=7)  # the demo books DEMO_START's week; this one is open
FAST = SolverSettings(time_limit=20.0, workers=2, seed=1)
"""The whole plan's limit: generous, so a loaded machine still reads the facility and makes the
greedy start. These tests judge plans valid and booked, not their quality, so CP-SAT's own
solves are brief (the `brief_cp_sat` fixture): an idle machine does not spend the rest. (The
evaluation-and-IOP test keeps the whole limit: it asserts what CP-SAT places.)"""
INTERN, SUPERVISOR = "c008", "c004"

RULES = """
pack: binding
title: A facility where every limit the rules set binds a plan
tables:
  loc_bands:
    "1.0": {adult: {below_hours: 2}, adolescent: {below_hours: 2}}
    "2.1": {adult: {min_hours: 1, max_hours: 3}, adolescent: {min_hours: 1, max_hours: 3}}
    "2.5": {adult: {min_hours: 1, max_hours: 3}}
overrides:
  OPS-DAILY-PSYCHOTHERAPY-CAP: {params: {max_minutes: 100}}
"""


def _binding_facility() -> tuple[dict[str, Any], str]:
    """Demo 's' with an intern (whose supervisor works mornings only), a group member still in
    intake, and the rules data that caps every authorization per week and sends ten patients to
    court."""
    data = copy.deepcopy(generate_demo("s", seed=7, start=DEMO_START))
    staff = {s["id"]: s for s in data["staff"]}
    staff[INTERN].update(role="intern", credentials=[], supervisor=SUPERVISOR)
    staff[SUPERVISOR]["availability"] = {d: ["08:00-12:00"] for d in ("mon", "tue", "wed")}
    newcomer = data["groups"][0]["members"][0]  # just admitted: no intake assessment yet
    next(p for p in data["patients"] if p["id"] == newcomer)["phase"] = "intake"
    data["appointments"] = [
        a
        for a in data["appointments"]
        if not {INTERN, SUPERVISOR} & set(a["staff"]) and newcomer not in a["patients"]
    ]
    auths = [a["id"] for p in data["patients"] for a in p.get("authorizations", [])]
    caps = {auth: 1 + n % 2 for n, auth in enumerate(auths)}
    tuesday, thursday = NEXT_WEEK + timedelta(days=1), NEXT_WEEK + timedelta(days=3)
    commitments = {
        p["id"]: [
            {"start": f"{tuesday}T08:00:00-05:00", "end": f"{tuesday}T19:00:00-05:00",
             "what": "a court hearing"},
            {"start": f"{thursday}T13:00:00-05:00", "end": f"{thursday}T15:00:00-05:00",
             "what": "a probation meeting"},
        ]
        for p in data["patients"][:10]
    }  # fmt: skip
    rules_data = {
        "data": {
            "interns": {INTERN: 100},
            "authorization_caps": caps,
            "commitments": commitments,
        }
    }
    return data, RULES + json.dumps(rules_data)[1:-1].replace('"data": ', "data: ") + "\n"


@pytest.fixture()
def binding_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    data, pack = _binding_facility()
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "binding.yaml").write_text(pack)
    monkeypatch.setattr(rules.service, "_DEFAULT", RulesService(rules_dir))
    database = open_database(f"sqlite:///{tmp_path / 'binding.sqlite3'}")
    load_facility(database, data, actor="test")
    yield database
    database.dispose()


def _plan_and_apply(
    db: Database, first: date, settings: SolverSettings
) -> tuple[PlanResult, BuiltProblem, int]:
    """The plan of the week, its problem, and the sessions the booking booked (with the system
    actor); the independent validator has checked the plan first."""
    tz = db.facility_tz()
    start, end = local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
    result, built = optimize_period(db, start, end, settings)
    return result, built, _apply_checked(db, first, result, built)


def _apply_checked(db: Database, first: date, result: PlanResult, built: BuiltProblem) -> int:
    """The sessions the booking booked of a plan of the week of `first` (with the system actor),
    once the independent validator has checked the plan."""
    tz = db.facility_tz()
    start, end = local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
    assert validate(built.problem, result.appointments, new=result.new) == []
    booked = apply_plan(db, SYSTEM_ACTOR, result, built)
    with db.read() as session:
        rows = appointments_between(session, start, end, include_cancelled=False)
    kept = [a for a in built.problem.booked if start <= built.clock.moment(a.start) < end]
    assert len(rows) == len(kept) + booked
    return booked


def test_a_plan_books_whole_where_every_rule_limit_binds(
    binding_db: Database, brief_cp_sat: None
) -> None:
    tz = binding_db.facility_tz()
    start = local_midnight(NEXT_WEEK, tz)
    # One plan: what the rules told the solver, then that the plan books whole.
    result, built = optimize_period(binding_db, start, start + timedelta(days=7), FAST)
    elig = built.problem.eligibility
    assert elig.windows[INTERN].rule == "STF-INTERN-ONSITE"
    assert {w.rule for w in elig.windows.values()} == {"STF-INTERN-ONSITE", "CRT-COMMITMENT"}
    assert {"LOC-ABOVE-BAND", "OPS-DAILY-PSYCHOTHERAPY-CAP"} <= {x.rule for x in elig.limits}
    assert all(b.per_week in (1, 2) for b in elig.budgets)
    assert any("LOC-INTAKE-FIRST" in why for why in elig.blocked.values())
    booked = _apply_checked(binding_db, NEXT_WEEK, result, built)
    assert result.new and booked == len(result.new)
    with binding_db.read() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "appointment.book")
        ).all()
    assert actors.count(SYSTEM_ACTOR) == booked  # audited as the system actor


@pytest.mark.slow
def test_optimize_apply_books_the_plan_of_demo_m_through_the_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    brief_cp_sat: None,
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{tmp_path / 'm.sqlite3'}")
    assert run(["demo", "--load", "--size", "m", "--start", str(DEMO_START)]) == 0
    # Every appointment of the file is booked through the rule packs (the suite's one load of
    # m: tests/clinic/test_facility_load.py loads s).
    loaded = re.search(r"(\d+) appointments", capsys.readouterr().out)
    db = open_database()
    with db.read() as session:
        stored = session.scalar(select(func.count()).select_from(Appointment))
    assert loaded is not None and stored == int(loaded.group(1)) > 4000
    week = [str(NEXT_WEEK), str(NEXT_WEEK + timedelta(days=7))]
    plan_path = tmp_path / "plan.json"
    limits = ["--time-limit", "15", "--workers", "2"]
    code = run(
        [
            "optimize",
            "--from",
            week[0],
            "--to",
            week[1],
            "--apply",
            "--out",
            str(plan_path),
            *limits,
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    schedule = json.loads(plan_path.read_text())["appointments"]
    proposed = [a for a in schedule if a["status"] == "proposed"]
    assert proposed and f"booked {len(proposed)} appointment(s)" in err
    tz = db.facility_tz()
    with db.read() as session:
        rows = appointments_between(
            session,
            local_midnight(NEXT_WEEK, tz),
            local_midnight(NEXT_WEEK + timedelta(7), tz),
            include_cancelled=False,
        )
    assert len(rows) == len(schedule)  # what was booked before, and every proposed session
    db.dispose()


@pytest.mark.slow
def test_a_plan_of_demo_l_books_whole(tmp_path: Path, brief_cp_sat: None) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'l.sqlite3'}")
    # A week of history is enough to plan the next one (twelve would cost the suite a minute).
    data = generate_demo("l", seed=7, start=DEMO_START, history_weeks=1)
    load_facility(db, data, actor="test")
    result, _, booked = _plan_and_apply(db, NEXT_WEEK, SolverSettings(time_limit=30.0, workers=2))
    assert result.new and booked == len(result.new)
    db.dispose()


def test_a_repair_applies_whole_with_the_system_actor(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    day = local_midnight(DEMO_START + timedelta(days=1), tz)
    with demo_db.read() as session:
        busy = appointments_between(session, day, day + timedelta(days=1), include_cancelled=False)
        roles = {s.id: s.role for s in session.scalars(select(Staff))}
    clinicians = [s for a in busy for s in a.staff if roles[s] in ("therapist", "counselor")]
    staff = max(set(clinicians), key=clinicians.count)
    result, built = repair_staff_out(demo_db, staff, day, day + timedelta(days=1), FAST, now=day)
    assert result.moves
    moved = apply_repair(demo_db, SYSTEM_ACTOR, result, built, "clinician out")
    assert moved == len(result.moves)
    with demo_db.read() as session:
        after = appointments_between(session, day, day + timedelta(days=1), staff=staff)
    left = {a.id for a in after if a.status == "booked"}
    assert left == {u.appointment.id for u in result.unplaced}


def test_the_system_actor_may_plan_book_and_move_and_nothing_else() -> None:
    allowed = {a for a in ("run_plan", "book", "move") if may("system", a).allowed}
    assert allowed == {"run_plan", "book", "move"}
    for action in ("cancel", "view_clinical", "disclose", "override", "view_audit", "export"):
        assert not may("system", action).allowed, action


def test_a_member_still_in_intake_is_left_out_of_group_meetings(
    db: Database, brief_cp_sat: None
) -> None:
    data = copy.deepcopy(generate_demo("s", seed=7, start=DEMO_START))
    group = data["groups"][0]
    newcomer = group["members"][0]
    next(p for p in data["patients"] if p["id"] == newcomer)["phase"] = "intake"
    data["appointments"] = [a for a in data["appointments"] if newcomer not in a["patients"]]
    load_facility(db, data, actor="test")
    tz = db.facility_tz()
    start = local_midnight(NEXT_WEEK, tz)
    result, built = optimize_period(db, start, start + timedelta(days=7), FAST)
    meetings = [a for a in result.new if a.group == group["id"]]
    assert apply_plan(db, SYSTEM_ACTOR, result, built) == len(result.new)
    assert meetings and all(newcomer not in a.patients for a in meetings)  # LOC-INTAKE-FIRST


PRESCRIBER = "c001"  # demo 's': the psychiatrist; c002, a nurse practitioner, also prescribes
IOP_TYPES = {"iop_short": 150, "iop_day": 180}


def _evaluation_and_iop_facility() -> tuple[dict[str, Any], list[str], list[str]]:
    """Demo 's' where OPS-EVAL-EM-SAME-DAY and COD-IOP-DAY bind: two patients come on Monday
    morning only, have the psychiatrist as their own clinician and need a psychiatric evaluation
    and an E/M visit; three IOP patients need an IOP day each, billed as H0015, which the
    catalogue lists once at 150 minutes (too short to book) and once at 3 hours."""
    data = copy.deepcopy(generate_demo("s", seed=7, start=DEMO_START))
    iop = [
        {"id": st, "name": f"IOP day ({minutes} min)", "minutes": minutes, "cpt": "H0015",
         "room_kinds": ["group", "individual"], "staff_roles": ["therapist", "counselor"]}
        for st, minutes in IOP_TYPES.items()
    ]  # fmt: skip
    data["session_types"] = [*copy.deepcopy(BUILTIN_SESSION_TYPES), *iop]
    grouped = {m for g in data["groups"] for m in g["members"]}
    free = [
        p
        for p in data["patients"]
        if p["phase"] == "active_treatment" and p["id"] not in grouped and not p.get("court_order")
    ]
    evaluated, in_iop = free[:2], free[2:5]
    for p in evaluated:
        p.update(primary_clinician=PRESCRIBER, availability={"mon": ["09:00-13:00"]})
        p["requirements"] = [
            {"session_type": "psychiatric_evaluation", "per_week": 1, "source": "treatment_plan"},
            {"session_type": "medication_management", "per_week": 1, "source": "treatment_plan"},
        ]
        p["authorizations"] = []
    for p in in_iop:
        p["level_of_care"] = "2.1"
        p["requirements"] = [
            {"session_type": st, "per_week": 1, "source": "level_of_care"} for st in IOP_TYPES
        ]
        p["authorizations"] = []
    return data, [p["id"] for p in evaluated], [p["id"] for p in in_iop]


def test_a_plan_keeps_the_evaluation_and_em_day_and_the_iop_day_minimum(db: Database) -> None:
    data, evaluated, in_iop = _evaluation_and_iop_facility()
    load_facility(db, data, actor="test")
    result, built, booked = _plan_and_apply(db, NEXT_WEEK, FAST)
    assert result.new and booked == len(result.new)  # nothing refused at --apply
    elig = built.problem.eligibility
    assert {p.patient for p in elig.apart_same_day} >= set(evaluated)
    assert elig.min_minutes["iop_short"].minutes == 180
    # OPS-EVAL-EM-SAME-DAY: both visits on the one Monday, each with another prescriber.
    for pid in evaluated:
        visits = {a.session_type: a for a in result.new if pid in a.patients}
        evaluation, em = visits["psychiatric_evaluation"], visits["medication_management"]
        assert built.problem.day_of(evaluation.start) == built.problem.day_of(em.start)
        assert not set(evaluation.staff) & set(em.staff)
    # COD-IOP-DAY: the 3-hour IOP day is planned and booked; the 150-minute one never is, and
    # the plan says why.
    iop = [a for a in result.new if a.session_type in IOP_TYPES]
    assert {a.session_type for a in iop} == {"iop_day"} and len(iop) == len(in_iop)
    short = [u for u in result.unmet if u.session_type == "iop_short"]
    assert {u.patient for u in short} == set(in_iop)
    assert all("COD-IOP-DAY" in u.reason for u in short)

"""Plans that book: what the optimizer places, the booking service accepts, every session of it,
with the default system actor. On a facility built so that every limit of the rules binds
(interns under the supervised-hours threshold, payer weekly caps, level-of-care maxima, a daily
psychotherapy cap, court commitments), and on the demo sizes m and l."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import rules.service
from assistant.optimize import (
    SYSTEM_ACTOR,
    apply_plan,
    apply_repair,
    optimize_period,
    repair_staff_out,
)
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import AuditEvent, Staff
from clinic.queries import appointments_between
from clinic.timeutil import local_midnight
from integrations.cli.main import run
from rules.permissions import may
from rules.service import RulesService
from solver.settings import SolverSettings
from tests.conftest import DEMO_START
from tests.solver.validator import validate

NEXT_WEEK = DEMO_START + timedelta(days=7)  # the demo books DEMO_START's week; this one is open
FAST = SolverSettings(time_limit=5.0, workers=2, seed=1)
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


def _plan_and_apply(db: Database, first: date, settings: SolverSettings) -> tuple[int, int]:
    """(sessions the plan placed, sessions the booking booked), with the system actor."""
    tz = db.facility_tz()
    start, end = local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
    result, built = optimize_period(db, start, end, settings)
    assert validate(built.problem, result.appointments, new=result.new) == []
    booked = apply_plan(db, SYSTEM_ACTOR, result, built)
    with db.read() as session:
        rows = appointments_between(session, start, end, include_cancelled=False)
    kept = [a for a in built.problem.booked if start <= built.clock.moment(a.start) < end]
    assert len(rows) == len(kept) + booked
    return len(result.new), booked


def test_a_plan_books_whole_where_every_rule_limit_binds(binding_db: Database) -> None:
    tz = binding_db.facility_tz()
    start = local_midnight(NEXT_WEEK, tz)
    _, built = optimize_period(binding_db, start, start + timedelta(days=7), FAST)
    elig = built.problem.eligibility
    assert elig.windows[INTERN].rule == "STF-INTERN-ONSITE"
    assert {w.rule for w in elig.windows.values()} == {"STF-INTERN-ONSITE", "CRT-COMMITMENT"}
    assert {"LOC-ABOVE-BAND", "OPS-DAILY-PSYCHOTHERAPY-CAP"} <= {x.rule for x in elig.limits}
    assert all(b.per_week in (1, 2) for b in elig.budgets)
    assert any("LOC-INTAKE-FIRST" in why for why in elig.blocked.values())
    placed, booked = _plan_and_apply(binding_db, NEXT_WEEK, FAST)
    assert placed > 0 and booked == placed
    with binding_db.read() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "appointment.book")
        ).all()
    assert actors.count(SYSTEM_ACTOR) == booked  # audited as the system actor


@pytest.mark.slow
def test_optimize_apply_books_the_plan_of_demo_m_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", f"sqlite:///{tmp_path / 'm.sqlite3'}")
    assert run(["demo", "--load", "--size", "m", "--start", str(DEMO_START)]) == 0
    capsys.readouterr()
    week = [str(NEXT_WEEK), str(NEXT_WEEK + timedelta(days=7))]
    plan_path = tmp_path / "plan.json"
    limits = ["--time-limit", "5", "--workers", "2"]
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
    db = open_database()
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
def test_a_plan_of_demo_l_books_whole(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'l.sqlite3'}")
    load_facility(db, generate_demo("l", seed=7, start=DEMO_START), actor="test")
    placed, booked = _plan_and_apply(db, NEXT_WEEK, SolverSettings(time_limit=10.0, workers=2))
    assert placed > 0 and booked == placed
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


def test_a_member_still_in_intake_is_left_out_of_group_meetings(db: Database) -> None:
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

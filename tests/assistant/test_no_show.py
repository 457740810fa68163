"""The no-show model against the stated attendance process (clinic/attendance_process.py).

Quality is judged on generated histories (400 patients × 16 weeks, seeds 1–3, the latest four
weeks held out), each split scored in the same run against the baseline, every patient's
smoothed own rate. Stated margins:
- AUC(model) ≥ AUC(baseline) + 0.005 on every seed, and + 0.01 on average over the three;
- Brier(model) ≤ Brier(baseline) on every seed;
- calibration: expected calibration error (ten equal-count bins of the predictions, mean
  predicted vs observed) ≤ 0.05 on every seed.
Why not a bigger AUC margin: the process's true risk itself beats the baseline by only about
0.05–0.06 AUC on these splits (bench/no_show.py: most of the variance is each patient's own
propensity, which the baseline already estimates, and weekly and weather shocks nobody can
foresee); the model gets 0.010–0.021 of it (mean 0.017), and the margins sit below that.

The database side runs on the demo 's' facility (Mon 30 Nov 2026, New York): its two weeks of
history are short, so those tests lower the training minimum and hold out one week.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from assistant import callers, no_show, schedule
from assistant.jobs import load_jobs, run_job
from assistant.jobs.runs import due_key, key_at
from clinic.attendance_history import generate_history
from clinic.db import Database
from clinic.models import Appointment, AppointmentPatient, Group
from integrations.cli.main import run

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=NY)  # the demo's Monday, before the day's sessions
SEEDS = (1, 2, 3)
AUC_MARGIN_EACH, AUC_MARGIN_MEAN, ECE_TOLERANCE = 0.005, 0.01, 0.05


@pytest.fixture(scope="module")
def trained() -> dict[int, tuple[no_show.Trained, Any]]:
    out = {}
    for seed in SEEDS:
        history = generate_history(seed, patients=400, weeks=16)
        out[seed] = (no_show.train(history.rows, history.end, held_out_weeks=4), history)
    return out


def test_the_model_beats_each_patients_smoothed_rate_on_the_held_out_weeks(
    trained: dict[int, tuple[no_show.Trained, Any]],
) -> None:
    gains = []
    for seed, (result, history) in trained.items():
        m = result.metrics
        assert m["n_held_out"] > 1000 and m["n_train"] > 4000, seed
        model, baseline = m["model"], m["baseline"]
        assert model["auc"] >= baseline["auc"] + AUC_MARGIN_EACH, (seed, model, baseline)
        assert model["brier"] <= baseline["brier"], (seed, model, baseline)
        gains.append(model["auc"] - baseline["auc"])
        # The ceiling: the process's own risk on the same held-out rows.
        cutoff = history.end - timedelta(weeks=4)
        held = [i for i, r in enumerate(history.rows) if r.start >= cutoff]
        truth = roc_auc_score(
            [history.rows[i].missed for i in held], [history.true_risk[i] for i in held]
        )
        assert model["auc"] <= truth + 0.01, (seed, model["auc"], truth)
    assert sum(gains) / len(gains) >= AUC_MARGIN_MEAN, gains


def test_its_probabilities_are_calibrated_on_the_held_out_weeks(
    trained: dict[int, tuple[no_show.Trained, Any]],
) -> None:
    for seed, (result, _) in trained.items():
        m = result.metrics
        assert m["model"]["ece"] <= ECE_TOLERANCE, (seed, m["model"], m["reliability"])
        assert len(m["reliability"]) == no_show.CALIBRATION_BINS
        # The deciles rise with the prediction: the top tenth misses far more than the bottom.
        observed = [b["observed"] for b in m["reliability"]]
        assert observed[-1] > 2 * observed[0], (seed, observed)


def test_the_stored_fit_is_json_and_predicts_what_the_fit_did(
    trained: dict[int, tuple[no_show.Trained, Any]],
) -> None:
    import json

    result, _ = trained[1]
    params = json.loads(json.dumps(result.model.params()))
    again = no_show.Model.from_params(params)
    past = no_show._Past()
    for missed in (True, True, False):
        past.add(missed)
    visit = no_show.features(
        datetime(2026, 12, 4, 9, tzinfo=NY), "individual", 14, False, past, again.prior
    )
    assert again.probability(visit) == pytest.approx(result.model.probability(visit))
    # What the features say moves the risk the way the process does.
    calm = no_show.features(
        datetime(2026, 12, 2, 11, tzinfo=NY), "individual", 1, True, no_show._Past(), again.prior
    )
    assert again.probability(visit) > again.probability({**calm, "first_visit": 0.0})
    # A session type the model never saw weighs nothing instead of failing.
    assert 0 < again.probability({**calm, "session_type=unheard": 1.0}) < 1


def test_a_short_history_shrinks_toward_the_facility_rate() -> None:
    prior = no_show.fit_prior([(20, 2), (20, 10), (20, 5), (20, 3), (20, 12)] * 10)
    assert 2 <= prior.strength <= 20
    assert prior.smoothed(0, 0) == pytest.approx(prior.rate)
    one_miss, many = prior.smoothed(1, 1), prior.smoothed(10, 10)
    assert prior.rate < one_miss < many < 1
    assert one_miss - prior.rate < (1 - prior.rate) / 2  # one miss is not a 100 % rate


# --- the database ------------------------------------------------------------------------------


def _short_history(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(no_show, "MIN_TRAINING_OUTCOMES", 50)
    monkeypatch.setattr(no_show, "HELD_OUT_WEEKS", 1)


def test_without_a_model_the_risk_is_the_patients_smoothed_own_rate(demo_db: Database) -> None:
    with demo_db.read() as session:
        assert no_show.latest_row(session) is None
        rows = no_show.history_rows(session, NOW - timedelta(weeks=26), NOW)
        prior = no_show.facility_prior(session, NOW)
        pid = max(
            {r.patient_id for r in rows},
            key=lambda p: sum(r.missed for r in rows if r.patient_id == p),
        )
        mine = [r for r in rows if r.patient_id == pid]
        asked = no_show.no_show_probability(
            session, pid, NOW + timedelta(days=1), "individual", now=NOW
        )
        newcomer = no_show.no_show_probability(
            session, "nobody-yet", NOW + timedelta(days=1), "individual", now=NOW
        )
    assert asked == pytest.approx(prior.smoothed(sum(r.missed for r in mine), len(mine)))
    assert asked > prior.rate  # the patient who missed most is above the facility's rate
    assert newcomer == pytest.approx(prior.rate)


def test_history_rows_read_each_members_own_outcome_booking_lead_and_clinician(
    demo_db: Database,
) -> None:
    with demo_db.session() as session:
        group = session.scalars(
            select(Appointment).where(Appointment.group_id.is_not(None), Appointment.start < NOW)
        ).first()
        assert group is not None and len(group.patient_links) > 1
        member = group.patient_links[0]
        member.status = "no_show"  # one member's own outcome; the others keep theirs
        group.created_at = group.start - timedelta(days=5, hours=3)
        aid, pid, start = group.id, member.patient_id, group.start
    with demo_db.read() as session:
        rows = no_show.history_rows(session, NOW - timedelta(weeks=4), NOW)
        others = [
            link.status
            for link in session.scalars(
                select(AppointmentPatient).where(AppointmentPatient.appointment_id == aid)
            )
            if link.patient_id != pid
        ]
    mine = [r for r in rows if r.patient_id == pid and r.start == start.astimezone(NY)]
    assert len(mine) == 1 and mine[0].status == "no_show" and mine[0].lead_days == 5
    assert mine[0].start.hour == start.astimezone(NY).hour  # facility time
    assert "no_show" not in others or others.count("no_show") < len(others)
    # Appointments loaded from a file record no booking time: their lead is unknown, not < 0.
    assert any(r.lead_days is None for r in rows)


def test_the_weekly_job_stores_a_version_and_rota_risk_show_prints_its_metrics(
    demo_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    set_now: Callable[[datetime], None],
) -> None:
    _short_history(monkeypatch)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    job = load_jobs()["retrain-risk"]
    saturday = datetime(2026, 11, 28, 12, tzinfo=NY)
    sunday_night = datetime(2026, 11, 29, 1, tzinfo=NY)
    sunday = datetime(2026, 11, 29, 2, 30, tzinfo=NY)
    assert due_key(demo_db, job, saturday) == "2026-11-22"  # last Sunday's, caught up
    assert due_key(demo_db, job, sunday_night) == "2026-11-22"  # not yet 02:00
    assert due_key(demo_db, job, sunday) == key_at(demo_db, job, NOW) == "2026-11-29"

    assert run(["risk", "show"]) == 0
    assert "no model trained yet" in capsys.readouterr().out
    set_now(NOW)
    outcome = run_job(demo_db, "retrain-risk", NOW)
    assert outcome.status == "done" and outcome.summary["trained"] is True
    assert outcome.summary["version"] == 1 and outcome.summary["model_auc"] is not None
    assert run(["jobs", "run", "retrain-risk", "--now", "2026-11-30T08:00"]) == 0
    assert "already ran" in capsys.readouterr().out  # this week's key

    assert run(["risk", "show"]) == 0
    shown = capsys.readouterr().out
    assert "no-show model v1 (logistic-v1)" in shown
    assert "model     AUC" in shown and "baseline  AUC" in shown and "ECE" in shown
    assert run(["risk", "train", "--now", "2026-11-30T08:00", "--json"]) == 0
    assert '"version": 2' in capsys.readouterr().out
    with demo_db.read() as session:
        row = no_show.latest_row(session)
        assert row is not None and row.version == 2 and row.n > 50
        assert set(row.params) >= {"intercept", "coefficients", "prior"}  # JSON, no pickle
        # The stored model now answers, not the smoothed rate.
        pid = session.scalars(select(AppointmentPatient.patient_id)).first()
        assert pid is not None
        risk = no_show.no_show_probability(
            session, pid, NOW + timedelta(days=2), "individual", now=NOW
        )
        prior = no_show.Model.from_params(row.params).prior
        assert 0 < risk < 1 and risk != pytest.approx(prior.rate)


def test_without_enough_history_the_job_says_so_and_keeps_the_fallback(
    demo_db: Database,
) -> None:
    outcome = run_job(demo_db, "retrain-risk", NOW)  # two weeks: fewer than 200 outcomes
    assert outcome.status == "done" and outcome.summary["trained"] is False
    assert "not enough attendance history" in outcome.summary["reason"]
    assert no_show.show(demo_db) is None


def test_agendas_carry_each_patients_risk_only_to_whoever_sees_the_patients(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    period = schedule.Period(NOW, NOW + timedelta(days=1))
    director = callers.for_actor(demo_db, "operator")
    rows = schedule.list_appointments(demo_db, director, period)
    booked = [r for r in rows if r["status"] == "booked"]
    assert booked and all(set(r["no_show_risk"]) == set(r["patients"]) for r in booked)
    assert all(0 < p < 1 for r in booked for p in r["no_show_risk"].values())
    # A therapist looking at a colleague's sessions sees no patients, so no risks either.
    therapist = callers.for_actor(demo_db, "c004")
    theirs = schedule.list_appointments(demo_db, therapist, period, staff="c003")
    assert theirs and all("no_show_risk" not in r for r in theirs if "patients" not in r)


def test_group_enrolment_is_capacity_over_expected_attendance(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with demo_db.read() as session:
        group = session.scalars(select(Group).where(Group.capacity.is_not(None))).first()
        assert group is not None
        gid, capacity = group.id, group.capacity
        s = no_show.enrolment_suggestion(session, gid, NOW)
    assert s["capacity"] == capacity and 0 < s["expected_attendance"] < 1
    expected = int(capacity // s["expected_attendance"])
    assert s["suggested_enrolment"] == min(max(expected, capacity), int(capacity * 1.5))
    assert s["suggested_enrolment"] >= capacity
    assert s["room_for"] == max(0, s["suggested_enrolment"] - s["members"])
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    assert run(["group", "show", gid]) == 0
    assert f"enrol up to {s['suggested_enrolment']}" in capsys.readouterr().out


@pytest.mark.postgres
def test_training_and_asking_work_on_postgresql(
    pg_demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_demo_db.read() as session:
        rows = no_show.history_rows(session, NOW - timedelta(weeks=26), NOW)
        fallback = no_show.facility_prior(session, NOW)
    assert rows and 0 < fallback.rate < 1
    _short_history(monkeypatch)
    trained = no_show.retrain(pg_demo_db, NOW)
    assert trained["version"] == 1 and trained["n"] == len(rows)
    with pg_demo_db.read() as session:
        pid = rows[0].patient_id
        risk = no_show.no_show_probability(
            session, pid, NOW + timedelta(days=1), "individual", now=NOW
        )
    assert 0 < risk < 1


def _never_come(db: Database, count: int = 5) -> list[str]:
    """The `count` patients with the most past sessions miss all of them (test set-up)."""
    with db.session() as session:
        past = list(
            session.scalars(
                select(AppointmentPatient).where(
                    AppointmentPatient.status.in_(("attended", "no_show")),
                    AppointmentPatient.start < NOW,
                )
            )
        )
        by_patient: dict[str, list[AppointmentPatient]] = {}
        for link in past:
            by_patient.setdefault(link.patient_id, []).append(link)
        chosen = sorted(by_patient, key=lambda p: (-len(by_patient[p]), p))[:count]
        for pid in chosen:
            for link in by_patient[pid]:
                link.status = "no_show"
    return chosen


def test_chat_flags_a_high_risk_option_and_agenda_line(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    from assistant.dialogue import Dialogue
    from clinic.models import Patient

    set_now(NOW)
    absent = _never_come(demo_db)
    with demo_db.read() as session:
        name = session.get(Patient, absent[0]).name
        risk = no_show.no_show_probability(
            session, absent[0], NOW + timedelta(days=1), "individual", now=NOW
        )
    assert no_show.is_high(risk)
    chat = Dialogue(demo_db, clock=lambda: NOW)
    case_manager = callers.for_actor(demo_db, "s006")
    offered = chat.handle(case_manager, f"find an individual slot for {name} tomorrow")
    assert offered.options, offered.reply
    assert all(no_show.is_high(o["no_show_risk"]) for o in offered.options)
    assert offered.reply.count("high no-show risk") == len(offered.options)
    agenda = chat.handle(case_manager, f"show {name}'s schedule this week")
    assert "high no-show risk" in agenda.reply, agenda.reply

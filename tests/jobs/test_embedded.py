"""The embedded engine on SQLite with a fake clock: each job key runs once, a missed morning is
caught up once, a crashed run is taken over after its lease, a failed one retried."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from assistant.jobs import history, run_job
from assistant.jobs.runs import MAX_ATTEMPTS, RETRY_AFTER
from clinic.db import Database
from clinic.errors import InvalidInput
from integrations.cli.main import _start_scheduler, run
from integrations.jobs.scheduler import Scheduler
from tests.jobs.conftest import Calls

# The demo facility is in America/New_York: 11:00 UTC is 06:00 local on 2026-11-30.
MON_0559 = datetime(2026, 11, 30, 10, 59, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_the_scheduler_runs_each_key_once_and_catches_up_a_missed_morning_once(
    demo_db: Database,
    add_job: Callable[..., Calls],
    monkeypatch: pytest.MonkeyPatch,
    set_now: Callable[[datetime], None],
) -> None:
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "23:59")  # keep the real end of day out of it
    morning = add_job("test-morning", daily_at="06:00")
    every = add_job("test-quarter", every_minutes=15)
    clock = Clock(MON_0559)
    scheduler = Scheduler(demo_db, clock=clock)

    assert [o.job for o in scheduler.tick()] == ["test-quarter"]  # 05:59: not morning yet
    assert morning.nows == [] and len(every.nows) == 1
    clock.at = MON_0559 + timedelta(minutes=1)  # 06:00 local, and a new 15-minute slot
    assert [(o.job, o.key) for o in scheduler.tick()] == [
        ("test-morning", "2026-11-30"),
        ("test-quarter", "2026-11-30T11:00+00:00"),
    ]
    for minutes in (2, 5, 10, 15):  # the same day and slot, ticked again and again
        clock.at = MON_0559 + timedelta(minutes=minutes)
        assert scheduler.tick() == []
    assert len(morning.nows) == 1 and len(every.nows) == 2
    clock.at = MON_0559 + timedelta(minutes=16)  # 06:15: the next slot
    assert [(o.job, o.key) for o in scheduler.tick()] == [
        ("test-quarter", "2026-11-30T11:15+00:00")
    ]

    # The server is down from Tuesday 05:00 to 08:40: started again, it catches up once.
    tuesday = MON_0559 + timedelta(days=1, hours=2, minutes=41)
    clock.at = tuesday
    restarted = Scheduler(demo_db, clock=clock)
    assert {o.job: o.key for o in restarted.tick()} == {
        "test-morning": "2026-12-01",
        "test-quarter": "2026-12-01T13:30+00:00",
    }
    clock.at = tuesday + timedelta(minutes=3)
    assert restarted.tick() == []
    assert [n.astimezone(UTC) for n in morning.nows] == [
        MON_0559 + timedelta(minutes=1),
        tuesday,
    ]
    assert [r.key for r in history(demo_db, "test-morning")] == ["2026-12-01", "2026-11-30"]


def test_the_thread_ticks_in_the_background_and_runs_a_key_once(
    db: Database, add_job: Callable[..., Calls], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "23:59")
    calls = add_job("test-morning", daily_at="06:00")
    scheduler = Scheduler(db, clock=Clock(MON_0559 + timedelta(hours=2)), interval=0.01)
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while not calls.nows and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # ten more ticks
    finally:
        scheduler.stop()
    assert len(calls.nows) == 1  # db is empty: UTC, so 08:59 is past 06:00
    assert [o.key for o in scheduler.ran] == ["2026-11-30"]


def test_a_crashed_run_is_taken_over_after_its_lease_and_a_failed_one_retried(
    db: Database, add_job: Callable[..., Calls], set_now: Callable[[datetime], None]
) -> None:
    crash = {"now": True}

    def body(_db: Database, _now: datetime) -> None:
        if crash["now"]:
            raise SystemExit("the process died")  # not caught: the claim stays `started`

    calls = add_job("test-crashy", daily_at="06:00", body=body)
    set_now(MON_0559)
    with pytest.raises(SystemExit):
        run_job(db, "test-crashy", MON_0559)
    crash["now"] = False
    assert run_job(db, "test-crashy", MON_0559).status == "running"  # within the lease
    set_now(MON_0559 + timedelta(minutes=16))
    outcome = run_job(db, "test-crashy", MON_0559)
    assert (outcome.status, outcome.attempts, outcome.summary) == ("done", 2, {"call": 2})
    assert run_job(db, "test-crashy", MON_0559).status == "already_done"
    assert len(calls.nows) == 2

    fail = {"left": MAX_ATTEMPTS}

    def flaky(_db: Database, _now: datetime) -> None:
        if fail["left"]:
            fail["left"] -= 1
            raise RuntimeError("the SMTP server said no")

    add_job("test-flaky", every_minutes=60, body=flaky)
    at = MON_0559 + timedelta(minutes=20)
    set_now(at)
    scheduler = Scheduler(db, clock=lambda: at)
    first = [o for o in scheduler.tick() if o.job == "test-flaky"]
    assert first[0].status == "failed" and "SMTP server said no" in (first[0].error or "")
    assert [o for o in scheduler.tick() if o.job == "test-flaky"] == []  # not before RETRY_AFTER
    set_now(at + RETRY_AFTER)
    assert [o.status for o in scheduler.tick() if o.job == "test-flaky"] == ["failed"]
    set_now(at + 2 * RETRY_AFTER)
    assert [o.status for o in scheduler.tick() if o.job == "test-flaky"] == ["failed"]
    set_now(at + 3 * RETRY_AFTER)  # MAX_ATTEMPTS reached: the scheduler stops; a person may not
    assert [o for o in scheduler.tick() if o.job == "test-flaky"] == []
    by_hand = run_job(db, "test-flaky", at)
    assert (by_hand.status, by_hand.attempts) == ("done", MAX_ATTEMPTS + 1)


def test_which_engine_serve_runs_is_a_setting_and_a_bad_one_is_named(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "23:59")
    scheduler = _start_scheduler(db)
    assert isinstance(scheduler, Scheduler)
    scheduler.stop()
    monkeypatch.setenv("ROTA_SCHEDULER", "off")
    assert _start_scheduler(db) is None
    monkeypatch.setenv("ROTA_SCHEDULER", "on")
    monkeypatch.setenv("ROTA_JOBS", "procrastinate")  # the workers run the jobs: serve does not
    assert _start_scheduler(db) is None
    monkeypatch.setenv("ROTA_JOBS", "celery")
    with pytest.raises(InvalidInput, match="ROTA_JOBS: must be one of embedded, procrastinate"):
        _start_scheduler(db)
    monkeypatch.delenv("ROTA_JOBS")
    assert run(["worker"]) != 0  # SQLite: no procrastinate
    assert "rota worker (procrastinate) needs PostgreSQL" in capsys.readouterr().err

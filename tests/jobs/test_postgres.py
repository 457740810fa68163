"""The job claim on PostgreSQL: callers racing in threads, a process killed mid-run, and two
`rota worker` processes (procrastinate): each job key runs once, nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from assistant.jobs import history, run_job
from clinic.db import Database
from clinic.job_models import JobRun
from clinic.models import AuditEvent
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import now_utc
from tests.jobs.conftest import Calls
from tests.notify.peers import SmtpPeer

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HANG = """
import sys, time
from datetime import UTC, datetime
from assistant.jobs import job, run_job
from clinic.db import open_database

@job("test-hang", daily_at="00:00")
def hang(db, now):
    print("running", flush=True)
    time.sleep(120)
    return {}

run_job(open_database(sys.argv[1]), "test-hang", datetime(2026, 11, 30, 12, tzinfo=UTC))
"""


def test_callers_racing_in_threads_run_a_key_once(
    pg_db: Database, add_job: Callable[..., Calls]
) -> None:
    calls = add_job("test-slow", daily_at="00:00", body=lambda db, now: time.sleep(0.3))
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def call() -> None:
        start.wait()
        outcomes.append(run_job(pg_db, "test-slow", NOON).status)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls.nows) == 1
    assert outcomes.count("done") == 1 and set(outcomes) <= {"done", "running", "already_done"}
    assert run_job(pg_db, "test-slow", NOON + timedelta(hours=3)).status == "already_done"


def test_a_process_killed_mid_run_is_taken_over_once_its_lease_has_passed(
    pg_db: Database, add_job: Callable[..., Calls], set_now: Callable[[datetime], None]
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HANG, pg_db.url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "running"
    finally:
        process.kill()  # the machine dies mid-run
        process.wait()
    calls = add_job("test-hang", daily_at="00:00")  # this process's copy of the job
    [crashed] = history(pg_db, "test-hang")
    assert (crashed.status, crashed.attempts) == ("started", 1)
    assert run_job(pg_db, "test-hang", NOON).status == "running"  # the lease still holds
    assert calls.nows == []
    set_now(now_utc() + timedelta(minutes=16))
    outcome = run_job(pg_db, "test-hang", NOON)
    assert (outcome.status, outcome.attempts, len(calls.nows)) == ("done", 2, 1)
    assert [(r.status, r.attempts) for r in history(pg_db, "test-hang")] == [("done", 2)]


def test_two_workers_run_each_job_key_once(pg_demo_db: Database) -> None:
    db = pg_demo_db
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": db.url,
        "ROTA_END_OF_DAY_AT": "00:00",  # due whatever the time of day
        "ROTA_MORNING_AT": "23:59",  # the morning cycle (a solver run) is not this test's
        "PYTHONPATH": str(ROOT),
    }
    rota = str(Path(sys.executable).with_name("rota"))
    workers = [
        subprocess.Popen(
            [rota, "worker", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    key = datetime.now(UTC).astimezone(db.facility_tz()).date().isoformat()
    try:
        deadline = time.monotonic() + 120  # two CLI processes start slowly on a loaded machine
        done = False
        while time.monotonic() < deadline and not done:
            time.sleep(0.3)
            assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers]  # type: ignore[union-attr]
            done = [(r.key, r.status) for r in history(db, "end-of-day")] == [(key, "done")]
        assert done, history(db)
        time.sleep(1.0)  # time for both workers to tick and run it again, if they would
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(3)
            except subprocess.TimeoutExpired:
                w.kill()  # nothing is running: no need to wait for procrastinate's next poll
                w.wait()
    [run] = history(db, "end-of-day")
    assert (run.key, run.status, run.attempts) == (key, "done", 1)
    with db.read() as session:
        # every job key once (the periodic reminders and outbox jobs ran too, each key once)
        runs = session.execute(select(JobRun.job, JobRun.key, JobRun.status)).all()
        assert len(runs) == len({(job, key) for job, key, _ in runs})
        assert [r for r in runs if r.job == "end-of-day"] == [("end-of-day", key, "done")]
        ran = session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'rota.run' "
                "AND status = 'succeeded'"
            )
        ).scalar()
        keys = list(
            session.scalars(select(OutboxMessage.key).where(OutboxMessage.channel == "slack"))
        )
    assert ran == len([r for r in runs if r.status == "done"])
    assert len(keys) == len(set(keys)) == run.summary["dms_queued"]


def _workers(env: dict[str, str], n: int = 2) -> list[subprocess.Popen[str]]:
    rota = str(Path(sys.executable).with_name("rota"))
    return [
        subprocess.Popen(
            [rota, "worker", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def _until(check: Callable[[], bool], seconds: float, workers: list[Any]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [w for w in workers if w.poll() is None]
        assert len(alive) == len(workers), [w.stderr.read() for w in workers if w.poll()]
        if check():
            return True
        time.sleep(0.2)
    return False


def _stop(workers: list[subprocess.Popen[str]], *, hard: bool) -> None:
    for w in workers:
        w.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    for w in workers:
        try:
            w.wait(5)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def test_workers_killed_in_the_middle_of_the_morning_cycle_lose_nothing_and_send_once(
    pg_demo_db: Database,
) -> None:
    """The machine dies while the morning cycle is planning: the next workers take the run over
    once its lease passes, and the director's report reaches the mail server exactly once."""
    db = pg_demo_db
    with SmtpPeer() as smtp:
        env = {
            **os.environ,
            "ROTA_DATABASE_URL": db.url,
            "ROTA_MORNING_AT": "00:00",  # due whatever the time of day
            "ROTA_END_OF_DAY_AT": "23:59",  # not this test's
            "ROTA_MORNING_SECONDS": "6",  # the solver's share: the window the kill falls in
            "ROTA_JOB_LEASE_MINUTES": "0.25",
            "ROTA_JOBS_TICK_SECONDS": "2",
            "ROTA_SMTP_URL": smtp.url,
            "ROTA_MAIL_FROM": "rota@example.org",
            "PYTHONPATH": str(ROOT),
        }
        key = datetime.now(UTC).astimezone(db.facility_tz()).date().isoformat()

        def morning() -> list[tuple[str, int]]:
            return [(r.status, r.attempts) for r in history(db, "morning")]

        first = _workers(env)
        try:
            assert _until(lambda: morning() == [("started", 1)], 60, first), morning()
        finally:
            _stop(first, hard=True)  # the power goes mid-plan
        with db.read() as session:
            assert _morning_events(session) == 0  # nothing of the run was committed
        second = _workers(env)
        try:
            assert _until(lambda: morning() == [("done", 2)], 90, second), morning()
            # the outbox job runs once a minute: the report goes out at the next one
            assert _until(lambda: bool(_reports(smtp)), 75, second)
            time.sleep(3)  # ticks enough for a duplicate, if one could happen
        finally:
            _stop(second, hard=False)
    [run] = history(db, "morning")
    assert (run.key, run.status, run.attempts) == (key, "done", 2)
    with db.read() as session:
        assert _morning_events(session) == 1
        proposals = session.scalar(text("SELECT count(*) FROM proposal"))
        emails = session.execute(
            select(OutboxMessage.key, OutboxMessage.status).where(
                OutboxMessage.template == "morning_report", OutboxMessage.channel == "email"
            )
        ).all()
    assert proposals == (1 if run.summary["proposal"] else 0)
    directors = len(emails)
    assert directors >= 1 and {status for _, status in emails} == {"sent"}
    assert len(_reports(smtp)) == directors  # one report per director, never two


def _reports(smtp: SmtpPeer) -> list[str]:
    subjects = [str(m["Subject"]) for m in smtp.mailbox.messages]
    return [s for s in subjects if s.startswith("Morning report")]


def _morning_events(session: Any) -> int:
    return int(session.scalar(select(func.count()).where(AuditEvent.action == "job.morning")) or 0)

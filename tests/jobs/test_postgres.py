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

from sqlalchemy import select, text

from assistant.jobs import history, run_job
from clinic.db import Database
from clinic.job_models import JobRun
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import now_utc
from tests.jobs.conftest import Calls

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
        deadline = time.monotonic() + 40
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

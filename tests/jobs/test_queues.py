"""Solver jobs on a queue of their own (PostgreSQL, procrastinate's real queue): a worker on the
default queue runs reminders and the outbox while the morning cycle waits for a solver worker,
a solver worker runs only the morning cycle, a worker told nothing runs both, and a run queued
by an older release on the one queue of before still runs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import procrastinate
import pytest
from sqlalchemy import text

from assistant.jobs import history, load_jobs
from clinic.db import Database
from clinic.errors import InvalidInput
from integrations.cli.main import run as rota
from integrations.jobs.distributed import (
    QUEUE,
    TICK_QUEUE,
    defer_due,
    ensure_schema,
    make_app,
    worker_queues,
)
from tests.jobs.conftest import Calls
from tests.jobs.test_postgres import ROOT, _stop, _until

DEFAULTS = ("reminders", "outbox")  # the periodic jobs a busy solver must not hold up


def _queued(db: Database) -> list[tuple[str, str, str]]:
    """(job, procrastinate queue, status) of every `rota.run`, oldest first."""
    with db.read() as session:
        rows = session.execute(
            text(
                "SELECT args->>'name', queue_name, status FROM procrastinate_jobs "
                "WHERE task_name = 'rota.run' ORDER BY id"
            )
        ).all()
    return [(name, queue, status) for name, queue, status in rows]


def _ran(db: Database, job: str) -> list[str]:
    return [r.status for r in history(db, job)]


class Worker:
    """A procrastinate app on the test's database, ticked by hand (no periodic tick: it would
    read the real clock), its workers run until their queues are empty."""

    def __init__(self, db: Database) -> None:
        ensure_schema(db)
        self.db = db
        self.app: procrastinate.App = make_app(db, tick_cron=None)

    def tick(self, now: datetime) -> list[str]:
        async def go() -> list[str]:
            async with self.app.open_async():
                return await asyncio.to_thread(defer_due, self.db, self.app.tasks["rota.run"], now)

        return asyncio.run(go())

    def work(self, queues: list[str] | None) -> None:
        async def go() -> None:
            async with self.app.open_async():
                await self.app.run_worker_async(queues=worker_queues(queues), wait=False)

        asyncio.run(go())


def test_the_morning_cycle_is_declared_on_the_solver_queue_and_the_periodic_jobs_are_not() -> None:
    queues = {job.name: job.queue for job in load_jobs().values()}
    assert queues["morning"] == "solver"
    assert {name for name, queue in queues.items() if queue == "solver"} == {"morning"}


def test_a_default_worker_sends_while_the_morning_waits_and_a_solver_worker_runs_only_mornings(
    pg_demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = pg_demo_db
    monkeypatch.setenv("ROTA_MORNING_AT", "00:00")  # due whatever the time of day
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "23:59")  # not this test's
    monkeypatch.setenv("ROTA_MORNING_SECONDS", "3")
    now = datetime.now(UTC)
    worker = Worker(db)
    queued = worker.tick(now)
    assert any(q.startswith("morning:") for q in queued)
    assert all(any(q.startswith(f"{job}:") for q in queued) for job in DEFAULTS)

    worker.work(["default"])  # a machine of reminders and outbox only
    assert _ran(db, "morning") == []  # never taken by the default worker: it waits
    assert [(q, s) for job, q, s in _queued(db) if job == "morning"] == [("rota-solver", "todo")]
    assert all(_ran(db, job) == ["done"] for job in DEFAULTS)  # sent while the morning waited
    assert {s for job, _, s in _queued(db) if job != "morning"} == {"succeeded"}

    later = now + timedelta(minutes=15)  # the next slot of the periodic jobs is due
    assert "morning" not in {q.split(":")[0] for q in worker.tick(later)}  # queued once
    worker.work(["solver"])
    assert _ran(db, "morning") == ["done"]
    waiting = [job for job, _, s in _queued(db) if s == "todo"]
    assert set(DEFAULTS) <= set(waiting) and "morning" not in waiting  # left to the default

    worker.work(None)  # a worker told nothing runs every queue
    assert {s for _, _, s in _queued(db)} == {"succeeded"}
    assert all(_ran(db, job) == ["done", "done"] for job in DEFAULTS)


def test_one_worker_told_nothing_runs_both_queues_and_a_run_queued_by_an_older_release_runs(
    pg_db: Database, add_job: Callable[..., Calls]
) -> None:
    plan = add_job("test-plan", daily_at="00:00", queue="solver")
    remind = add_job("test-remind", every_minutes=5)
    noon = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    worker = Worker(pg_db)
    # An older release knew one queue: its tick put every run, a solve too, on `rota-jobs`.
    with worker.app.open():
        worker.app.tasks["rota.run"].configure(queue=QUEUE).defer(
            name="test-plan", key="2026-11-29", now=(noon - timedelta(days=1)).isoformat()
        )
    assert sorted(worker.tick(noon)) == [
        "test-plan:2026-11-30",
        "test-remind:2026-11-30T12:00+00:00",
    ]
    assert sorted((job, q) for job, q, _ in _queued(pg_db)) == [
        ("test-plan", "rota-jobs"),
        ("test-plan", "rota-solver"),
        ("test-remind", "rota-jobs"),
    ]
    worker.work(None)
    assert {s for _, _, s in _queued(pg_db)} == {"succeeded"}
    assert sorted(r.key for r in history(pg_db, "test-plan")) == ["2026-11-29", "2026-11-30"]
    assert (len(plan.nows), len(remind.nows)) == (2, 1)


def test_a_worker_s_queues_are_listed_and_a_bad_name_is_refused_before_anything_starts(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert worker_queues(None) == [TICK_QUEUE, QUEUE, "rota-solver"]
    assert worker_queues(["solver"]) == [TICK_QUEUE, "rota-solver"]  # any worker ticks
    assert worker_queues(["default"]) == [TICK_QUEUE, QUEUE]  # the queue of older releases
    assert worker_queues(["solver,default"]) == worker_queues(["default", "solver"])
    with pytest.raises(InvalidInput, match="no queue named 'solvers'"):
        worker_queues(["default", "solvers"])
    monkeypatch.setenv("ROTA_DATABASE_URL", db.url)
    assert rota(["jobs", "list"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert " solver " in listed["morning"] and " default " in listed["outbox"]
    assert rota(["worker", "--queues", "reminders"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--queues: no queue named 'reminders'" in err
    assert "default, solver" in err


def test_rota_worker_processes_split_by_queues_each_tick_and_run_only_their_own(
    pg_demo_db: Database,
) -> None:
    """Real `rota worker --queues …` processes: the default one ticks by itself and sends while
    the morning waits; a solver one started later runs the morning."""
    db = pg_demo_db
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": db.url,
        "ROTA_MORNING_AT": "00:00",  # due whatever the time of day
        "ROTA_END_OF_DAY_AT": "23:59",  # not this test's
        "ROTA_MORNING_SECONDS": "3",
        "ROTA_JOBS_TICK_SECONDS": "2",
        "PYTHONPATH": str(ROOT),
    }
    rota_bin = str(Path(sys.executable).with_name("rota"))

    def start(queues: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [rota_bin, "worker", "--queues", queues],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    default = [start("default")]
    try:
        sent = lambda: all("done" in _ran(db, job) for job in DEFAULTS)  # noqa: E731
        assert _until(sent, 120, default), _queued(db)
        assert ("morning", "rota-solver", "todo") in _queued(db)  # queued with them, waiting
        time_for_a_wrong_take = _until(lambda: _ran(db, "morning") != [], 5, default)
        assert not time_for_a_wrong_take
        solver = [start("solver")]
        try:
            assert _until(lambda: _ran(db, "morning") == ["done"], 120, default + solver)
        finally:
            _stop(solver, hard=False)
    finally:
        _stop(default, hard=False)
    # Run once (the claim); a tick between the solver worker taking the job and claiming the
    # run may queue a second that finds it done: nothing is left waiting.
    assert [(r.status, r.attempts) for r in history(db, "morning")] == [("done", 1)]
    assert {s for job, _, s in _queued(db) if job == "morning"} == {"succeeded"}

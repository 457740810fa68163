"""The job lag that /metrics reports: how long the oldest due run has waited, from the database
(the same whichever process is asked), zero once it has run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from assistant.jobs import run_job
from assistant.jobs.runs import lag
from clinic.db import Database
from tests.jobs.conftest import Calls

NOON = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 12:00 at the demo facility (New York)


def test_the_lag_is_the_oldest_due_run_and_ends_when_it_runs(
    demo_db: Database, add_job: Callable[..., Calls]
) -> None:
    add_job("test-daily", daily_at="09:00")
    add_job("test-periodic", every_minutes=15)
    assert lag(demo_db, NOON) == timedelta(hours=3)  # due at 09:00 local, three hours ago
    run_job(demo_db, "test-daily", NOON)
    assert lag(demo_db, NOON + timedelta(minutes=5)) == timedelta(minutes=5)  # the 12:00 slot
    run_job(demo_db, "test-periodic", NOON + timedelta(minutes=5))
    assert lag(demo_db, NOON + timedelta(minutes=6)) == timedelta(0)

"""Jobs registered for one test only (the registry is global: what a test adds it removes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from assistant.jobs import JOBS, job, load_jobs
from clinic.db import Database
from tests.slack.conftest import fake_slack, slack, slack_env  # noqa: F401  (the Slack door's fixtures)


class Calls:
    """What a test job saw: each call's `now`, counted under a lock (threads call it)."""

    def __init__(self) -> None:
        self.nows: list[datetime] = []
        self._lock = threading.Lock()

    def record(self, now: datetime) -> int:
        with self._lock:
            self.nows.append(now)
            return len(self.nows)


@pytest.fixture()
def add_job() -> Iterator[Callable[..., Calls]]:
    """`add_job(name, daily_at=..., every_minutes=..., body=..., queue=...)`: a job that records
    its calls (and then runs `body(db, now)`, which may raise or sleep). The registered jobs are
    set aside for the test (morning and end-of-day, and the periodic `reminders` and `outbox`,
    would run at every tick)."""
    registered = dict(load_jobs())
    JOBS.clear()
    added: list[str] = []

    def add(
        name: str,
        *,
        daily_at: str | None = None,
        every_minutes: int | None = None,
        body: Callable[[Database, datetime], Any] | None = None,
        queue: str = "default",
    ) -> Calls:
        calls = Calls()

        @job(name, daily_at=daily_at, every_minutes=every_minutes, queue=queue)
        def run(db: Database, now: datetime) -> dict[str, Any]:
            """A test job."""
            n = calls.record(now)
            if body is not None:
                body(db, now)
            return {"call": n}

        added.append(name)
        return calls

    yield add
    for name in added:
        JOBS.pop(name, None)
    JOBS.update(registered)

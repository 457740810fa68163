"""The procrastinate tasks (with procrastinate's in-memory queue, so on SQLite): a tick queues
one run per due key, a key is never queued twice, and a failed run is queued again only when
the retry policy says so — the same policy as the embedded scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from procrastinate.testing import InMemoryConnector

from assistant.jobs import history
from assistant.jobs.runs import RETRY_AFTER
from clinic.db import Database
from clinic.errors import InvalidInput
from integrations.jobs.distributed import QUEUE, defer_due, make_app
from tests.jobs.conftest import Calls

NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_ticks_queue_each_due_key_once_and_retry_a_failure_by_the_policy(
    db: Database,
    add_job: Callable[..., Calls],
    monkeypatch: pytest.MonkeyPatch,
    set_now: Callable[[datetime], None],
) -> None:
    monkeypatch.setenv("ROTA_END_OF_DAY_AT", "23:59")
    failures = {"left": 1}

    def body(_db: Database, _now: datetime) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the mail server is down")

    calls = add_job("test-noon", daily_at="11:00", body=body)
    set_now(NOON)
    connector = InMemoryConnector()
    # No periodic tick: under load the worker's own tick (the real clock, a day later) queued
    # the retry during the first run.
    app = make_app(db, tick_cron=None, connector=connector)
    run = app.tasks["rota.run"]

    async def tick(now: datetime) -> list[str]:  # what the periodic task does, in its thread
        return await asyncio.to_thread(defer_due, db, run, now)

    async def scenario() -> None:
        async with app.open_async():
            assert await tick(NOON) == ["test-noon:2026-11-30"]
            assert await tick(NOON) == []  # already queued: the queueing lock
            await app.run_worker_async(queues=[QUEUE], wait=False)
            runs = [j["status"] for j in connector.jobs.values() if j["task_name"] == "rota.run"]
            assert runs == ["failed"]
            assert history(db, "test-noon")[0].status == "failed"
            assert await tick(NOON) == []  # not before RETRY_AFTER
            set_now(NOON + RETRY_AFTER)
            assert await tick(NOON + RETRY_AFTER) == ["test-noon:2026-11-30"]
            await app.run_worker_async(queues=[QUEUE], wait=False)
            assert await tick(NOON + RETRY_AFTER) == []  # done

    asyncio.run(scenario())
    [done] = history(db, "test-noon")
    assert (done.status, done.attempts, len(calls.nows)) == ("done", 2, 2)


def test_the_worker_tick_is_a_minute_unless_told_and_refuses_a_period_that_splits_no_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from integrations.jobs.distributed import TICK_CRON, tick_cron

    monkeypatch.delenv("ROTA_JOBS_TICK_SECONDS", raising=False)
    assert tick_cron() == TICK_CRON
    monkeypatch.setenv("ROTA_JOBS_TICK_SECONDS", "15")
    assert tick_cron() == "* * * * * */15"
    monkeypatch.setenv("ROTA_JOBS_TICK_SECONDS", "7")
    with pytest.raises(InvalidInput, match="dividing a minute"):
        tick_cron()

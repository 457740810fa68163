"""Jobs on a network of facilities (PostgreSQL): each facility's jobs run once per key, as
their own runs (one facility per job), on the embedded scheduler and on `rota worker`
processes, and a facility loaded while the workers run is served without a restart."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from procrastinate.testing import InMemoryConnector
from sqlalchemy import create_engine, make_url, text

from assistant.jobs import history
from clinic.db import Database, open_database
from clinic.facility_file import load_facility
from integrations.jobs.distributed import QUEUE, defer_due, make_app
from integrations.jobs.scheduler import Scheduler
from tests.conftest import DEMO_START, PG_URL
from tests.jobs.conftest import Calls
from tests.jobs.test_postgres import ROOT, _stop, _until, _workers
from tests.legacy_demo import generate_demo

NOON = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # noon in New York, the demo's zone


@pytest.fixture()
def network_url(postgres_available: None) -> Iterator[str]:
    """A database of its own (`rota_network_<random>`), dropped afterwards, holding a network
    with one demo facility, 'north'."""
    name = f"rota_network_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _load(url, "north", seed=7).dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _load(url: str, facility: str, seed: int) -> Database:
    db = open_database(url, facility=facility, create=True)
    load_facility(db, generate_demo("s", seed=seed, start=DEMO_START), actor="test")
    return db


def test_the_embedded_scheduler_runs_each_facility_s_jobs_once(
    network_url: str, add_job: Callable[..., Calls]
) -> None:
    calls = add_job("test-net", daily_at="06:00")
    plain = open_database(network_url)  # what `rota serve` opens: no facility chosen
    scheduler = Scheduler(plain, clock=lambda: NOON)
    try:
        first = scheduler.tick()
        assert [(o.facility, o.job, o.status) for o in first] == [("north", "test-net", "done")]
        south = _load(network_url, "south", seed=8)  # added while the scheduler runs
        second = scheduler.tick()
        assert [(o.facility, o.status) for o in second] == [("south", "done")]
        assert scheduler.tick() == []  # each facility's key once
    finally:
        scheduler.stop()
        plain.dispose()
    north = open_database(network_url, facility="north")
    assert [(r.key, r.status) for r in history(north, "test-net")] == [("2026-11-30", "done")]
    assert [(r.key, r.status) for r in history(south, "test-net")] == [("2026-11-30", "done")]
    assert len(calls.nows) == 2
    north.dispose()
    south.dispose()


def test_a_tick_queues_one_run_per_facility_and_each_runs_in_its_facility(
    network_url: str, add_job: Callable[..., Calls]
) -> None:
    seen: list[str | None] = []
    add_job("test-net", daily_at="06:00", body=lambda db, _now: seen.append(db.facility))
    _load(network_url, "south", seed=8).dispose()
    plain = open_database(network_url)
    app = make_app(plain, tick_cron=None, connector=InMemoryConnector())
    run = app.tasks["rota.run"]

    async def scenario() -> list[list[str]]:
        async with app.open_async():
            queued = [await asyncio.to_thread(defer_due, plain, run, NOON)]
            queued.append(await asyncio.to_thread(defer_due, plain, run, NOON))  # the lock
            await app.run_worker_async(queues=[QUEUE], wait=False)
            queued.append(await asyncio.to_thread(defer_due, plain, run, NOON))  # done
            return queued

    try:
        queued = asyncio.run(scenario())
    finally:
        plain.dispose()
    assert queued == [["north/test-net:2026-11-30", "south/test-net:2026-11-30"], [], []]
    assert sorted(seen, key=str) == ["north", "south"]


def test_two_workers_run_each_facility_s_morning_cycle_once(network_url: str) -> None:
    """Two `rota worker` processes on a network: north's morning cycle runs once; south,
    loaded while they run, gets its own, once; neither facility's run is the other's."""
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": network_url,
        "ROTA_MORNING_AT": "00:00",  # due whatever the time of day
        "ROTA_MORNING_SECONDS": "1",
        "ROTA_END_OF_DAY_AT": "23:59",
        "ROTA_JOBS_TICK_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("ROTA_FACILITY", None)
    # Migrated first: two processes starting at once on an unmigrated schema race (the
    # migration takes no lock), which is not this test's.
    open_database(network_url).dispose()
    workers = _workers(env)
    north = open_database(network_url, facility="north")
    south: Database | None = None
    try:

        def morning_done(db: Database) -> Callable[[], bool]:
            return lambda: [r.status for r in history(db, "morning")] == ["done"]

        # two CLI processes and a solver run start slowly on a loaded machine
        assert _until(morning_done(north), 300, workers), history(north)
        south = _load(network_url, "south", seed=8)
        assert _until(morning_done(south), 300, workers), history(south)
        _until(lambda: False, 3, workers)  # time for another tick to queue it again, if it would
    finally:
        _stop(workers, hard=False)
    assert south is not None
    for db in (north, south):
        [run] = history(db, "morning")
        assert (run.status, run.attempts) == ("done", 1)
    with north.read() as session:
        rows: list[Any] = list(
            session.execute(
                text(
                    "SELECT args->>'facility', status::text FROM procrastinate_jobs "
                    "WHERE task_name = 'rota.run' AND args->>'name' = 'morning'"
                )
            )
        )
    # A tick may queue a key again while its run is starting (procrastinate's lock holds only
    # while queued); the claim in job_run (above) is what keeps it to one run.
    assert {r[0] for r in rows} == {"north", "south"}
    assert {r[1] for r in rows} == {"succeeded"}
    north.dispose()
    south.dispose()

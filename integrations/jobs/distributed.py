"""The distributed engine: procrastinate on PostgreSQL.

One periodic task, `rota.tick` (every minute; procrastinate defers it once per timestamp however
many workers run), asks which job keys are due and defers one `rota.run` per key, under a
queueing lock named after the key so a key is never queued twice. `rota.run` calls `run_job`,
whose claim in `job_run` makes a retry or a second worker harmless. Retries follow the same policy
as the embedded scheduler (assistant.jobs.runs: a failed key is queued again by a later tick after
RETRY_AFTER, at most MAX_ATTEMPTS times), not procrastinate's own. A worker killed mid-run leaves
its claim `started`: once the lease passes, the next tick's run takes it over.

On a network of facilities the tick queues one `rota.run` per facility, job and key (its
queueing lock names the facility), and the run opens that facility's database: N facilities'
morning cycles spread over the workers, one facility per job, each with its own time limit
(ROTA_MORNING_SECONDS). The tick reads the facility list each time, so a facility added to the
network is served without restarting a worker.

Queues: each job's declaration (`@job(..., queue=...)`) puts its runs on the `default` queue
(`rota-jobs`, the one queue of before: runs an older release queued there still run) or the
`solver` queue (`rota-solver`: the morning cycle, which holds a worker for a solve). `rota worker
--queues solver|default` runs one of them; a worker runs both unless told. The tick has a queue
of its own that every worker takes, so any worker keeps the schedule, whatever it runs.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager

from assistant.jobs import QUEUES, due_key, load_jobs, run_job
from assistant.jobs.runs import needs_run
from assistant.jobs.sites import Sites
from clinic.db import Database
from clinic.errors import InvalidInput, RotaError

log = logging.getLogger("rota.jobs")

TICK_CRON = "* * * * *"
QUEUE = "rota-jobs"
"""The default queue's procrastinate name: the one queue of earlier releases."""
QUEUE_NAMES = {"default": QUEUE, "solver": "rota-solver"}
"""A job's declared queue (assistant.jobs.QUEUES) → its procrastinate queue."""
TICK_QUEUE = "rota-tick"


class JobFailed(RotaError):
    """A job run that failed: raised inside the worker so procrastinate retries it."""


def conninfo(db: Database) -> str:
    """The libpq URL of the database (procrastinate speaks psycopg, not SQLAlchemy)."""
    if db.dialect != "postgresql":
        raise InvalidInput(
            "rota worker (procrastinate) needs PostgreSQL: set ROTA_DATABASE_URL to a "
            "postgresql+psycopg:// URL (on SQLite, `rota serve` runs the jobs itself)"
        )
    return db.url.replace("postgresql+psycopg://", "postgresql://", 1)


def ensure_schema(db: Database) -> bool:
    """Create procrastinate's tables unless they exist (serialized by an advisory lock, so
    workers starting together do it once). True if it was created now."""
    schema = SchemaManager.get_schema()
    with psycopg.connect(conninfo(db), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext('rota-procrastinate-schema'))")
        try:
            row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is not None and row[0] is not None:
                return False
            connection.execute(schema)  # type: ignore[arg-type]  # procrastinate's own SQL
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('rota-procrastinate-schema'))")


def make_app(
    db: Database, *, tick_cron: str | None = TICK_CRON, connector: Any = None
) -> procrastinate.App:
    """A procrastinate app whose tasks run Rota's jobs against `db` (its queue on `db` itself,
    unless another connector is given: procrastinate's in-memory one in tests). `tick_cron`
    None: no periodic tick (a test ticks by hand at the times it chooses; a worker's own tick
    would read the real clock)."""
    app = procrastinate.App(
        connector=connector or procrastinate.PsycopgConnector(conninfo=conninfo(db)),
        import_paths=[],
    )
    sites = Sites(db)

    @app.task(name="rota.run", queue=QUEUE, pass_context=False)
    def run(name: str, key: str, now: str, facility: str | None = None) -> dict[str, Any]:
        site = sites.get(facility)
        outcome = run_job(site, name, datetime.fromisoformat(now), key=key, retry_failed=False)
        where = f", facility {facility}" if facility else ""
        log.info("job %s (%s%s): %s", name, key, where, outcome.status)
        if outcome.status == "failed":  # shown as failed in procrastinate too
            raise JobFailed(f"{name} ({key}{where}): {outcome.error}")
        done = {"job": name, "key": key, "status": outcome.status}
        return done if facility is None else {**done, "facility": facility}

    @app.task(name="rota.tick", queue=TICK_QUEUE, queueing_lock="rota.tick", pass_context=False)
    def tick(timestamp: int) -> list[str]:
        return defer_due(sites, run, datetime.fromtimestamp(timestamp, UTC))

    if tick_cron is not None:
        app.periodic(cron=tick_cron, periodic_id="rota-tick")(tick)

    return app


def defer_due(sites: Sites | Database, run: Any, now: datetime) -> list[str]:
    """Queue one `rota.run` per facility, job and key due at `now` and not done (once per
    key): `job:key`, or `facility/job:key` on a network. One facility that cannot be read
    (its schema half-loaded) is logged and skipped; the others are queued."""
    sites = sites if isinstance(sites, Sites) else Sites(sites)
    queued = []
    for facility in sites.ids():
        try:
            queued.extend(_defer_facility(sites.get(facility), facility, run, now))
        except Exception as exc:
            if facility is None:
                raise
            log.error("tick: facility %s skipped: %s", facility, exc.__class__.__name__)
    return queued


def _defer_facility(db: Database, facility: str | None, run: Any, now: datetime) -> list[str]:
    queued = []
    where = "" if facility is None else f"{facility}/"
    for job in load_jobs().values():
        key = due_key(db, job, now)
        if key is None or not needs_run(db, job.name, key):
            continue
        # Without a network: the arguments and lock of before, so runs queued by an older
        # worker and a newer one still meet on the same lock.
        extra = {} if facility is None else {"facility": facility}
        try:
            run.configure(
                queue=QUEUE_NAMES[job.queue], queueing_lock=f"rota.run:{where}{job.name}:{key}"
            ).defer(name=job.name, key=key, now=now.isoformat(), **extra)
        except AlreadyEnqueued:
            continue
        queued.append(f"{where}{job.name}:{key}")
    return queued


def tick_cron() -> str:
    """Every minute, or every ROTA_JOBS_TICK_SECONDS (a divisor of 60: catch-up after a crash
    sooner, at the price of a query per tick)."""
    raw = os.environ.get("ROTA_JOBS_TICK_SECONDS", "").strip()
    if not raw or raw == "60":
        return TICK_CRON
    if not raw.isdigit() or int(raw) < 1 or 60 % int(raw):
        raise InvalidInput(
            f"ROTA_JOBS_TICK_SECONDS: {raw!r} is not a whole number of seconds dividing a "
            "minute (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)"
        )
    return f"* * * * * */{raw}"  # croniter's sixth field: seconds


def worker_queues(names: list[str] | None = None) -> list[str]:
    """The procrastinate queues of a worker told `--queues names` (comma-separated or repeated;
    none: every queue), the tick's always among them."""
    chosen = [n.strip() for name in names or [] for n in name.split(",") if n.strip()]
    bad = [n for n in chosen if n not in QUEUES]
    if bad:
        raise InvalidInput(
            f"--queues: no queue named {', '.join(map(repr, bad))} (queues: {', '.join(QUEUES)})"
        )
    return [TICK_QUEUE, *(QUEUE_NAMES[q] for q in QUEUES if q in chosen or not chosen)]


def run_worker(
    db: Database, *, concurrency: int = 1, wait: bool = True, queues: list[str] | None = None
) -> None:
    """Run a worker on `queues` (procrastinate's names, as `worker_queues` gives them; None:
    all) in the foreground until SIGINT/SIGTERM (or, without wait, the queues are empty)."""
    ensure_schema(db)
    app = make_app(db, tick_cron=tick_cron())
    with app.open():
        app.run_worker(
            queues=queues or worker_queues(), concurrency=concurrency, wait=wait, name="rota-worker"
        )

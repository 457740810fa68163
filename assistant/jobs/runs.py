"""Running a job once per key: claim the run in `job_run`, run the task, record how it ended.

The claim is an INSERT under UNIQUE(job, key): of any number of callers (threads, worker
processes, machines) exactly one gets the row. A run that crashed leaves its row `started`; once
its lease has passed (ROTA_JOB_LEASE_MINUTES, default 15) the next caller takes it over by a
compare-and-set on `attempts`, so a run whose lease was taken cannot record its end over the new
one. A failed run is retried by the engines after RETRY_AFTER (at most MAX_ATTEMPTS times), and
by hand whenever a person asks.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assistant.jobs import Job, load_jobs
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.job_models import JobRun
from clinic.models import Facility
from clinic.timeutil import format_hhmm, now_utc, parse_hhmm

log = logging.getLogger("rota.jobs")

DEFAULT_LEASE = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class JobOutcome:
    job: str
    key: str
    status: str
    """done | failed (this call ran it) | already_done | running (another holds the claim) |
    failed_before (a failed run not yet due for its retry)."""
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0
    facility: str | None = None
    """The facility of a network it ran for (None: the database's one facility)."""

    @property
    def ran(self) -> bool:
        return self.status in {"done", "failed"}


@dataclass(frozen=True)
class RunRecord:
    job: str
    key: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]
    error: str | None


# --- when ----------------------------------------------------------------------------------------


def setting_name(job: Job) -> str:
    return f"ROTA_{job.name.upper().replace('-', '_')}_AT"


def daily_time(db: Database, job: Job) -> int:
    """Minutes after local midnight a daily job is due: ROTA_<NAME>_AT, else its `daily_at`
    ("close": the facility's closing time)."""
    name = setting_name(job)
    configured = os.environ.get(name, "").strip()
    text = configured or job.daily_at or ""
    if text == "close":
        with db.read() as session:
            text = session.scalar(select(Facility.close).limit(1)) or "18:00"
    try:
        return parse_hhmm(text)
    except (InvalidInput, ValueError) as exc:
        where = name if configured else f"job {job.name}: daily_at"
        raise InvalidInput(f"{where}: {text!r} is not a time of day (use HH:MM)") from exc


def key_at(db: Database, job: Job, now: datetime) -> str:
    """The key of the run `now` belongs to: the local date (a weekly job's: the date of its
    latest weekly moment at or before now), or the start of the UTC slot."""
    if job.weekday is not None:
        return _weekly_key(db, job, now)
    if job.every_minutes is None:
        return now.astimezone(db.facility_tz()).date().isoformat()
    slot = job.every_minutes * 60
    start = int(now.timestamp()) // slot * slot
    return datetime.fromtimestamp(start, UTC).isoformat(timespec="minutes")


def due_key(db: Database, job: Job, now: datetime) -> str | None:
    """The key due at `now`, if any: a daily job once its local time has come that day (a
    missed one is thus caught up, once, later the same day); a periodic one every slot."""
    if job.every_minutes is not None:
        return key_at(db, job, now)
    local = now.astimezone(db.facility_tz())
    if job.weekday is not None:  # always one due: a missed week is caught up, once
        return _weekly_key(db, job, now)
    if local.hour * 60 + local.minute < daily_time(db, job):
        return None
    return local.date().isoformat()


def due_since(db: Database, job: Job, key: str) -> datetime:
    """The moment a key fell due (UTC): a periodic key is its slot's start; a daily or weekly
    key is its date at the job's local time."""
    if job.every_minutes is not None:
        return datetime.fromisoformat(key)
    tz = db.facility_tz()
    minutes = daily_time(db, job)
    day = datetime.fromisoformat(key).replace(tzinfo=tz)
    return (day + timedelta(minutes=minutes)).astimezone(UTC)


def lag(db: Database, now: datetime) -> timedelta:
    """How long the oldest due run has waited (zero when nothing is due): the job lag."""
    waited = timedelta(0)
    for job in load_jobs().values():
        key = due_key(db, job, now)
        if key is not None and needs_run(db, job.name, key):
            waited = max(waited, now - due_since(db, job, key))
    return waited


def _weekly_key(db: Database, job: Job, now: datetime) -> str:
    """The date of a weekly job's latest moment (its weekday at its time) at or before now."""
    assert job.weekday is not None
    local = now.astimezone(db.facility_tz())
    day = local.date() - timedelta(days=(local.weekday() - job.weekday) % 7)
    if day == local.date() and local.hour * 60 + local.minute < daily_time(db, job):
        day -= timedelta(days=7)
    return day.isoformat()


def describe_schedule(db: Database, job: Job) -> str:
    if job.every_minutes is not None:
        return f"every {job.every_minutes} min"
    if job.weekday is not None:
        day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[job.weekday]
        return f"weekly, {day} at {format_hhmm(daily_time(db, job))}"
    return f"daily at {format_hhmm(daily_time(db, job))}"


# --- running -------------------------------------------------------------------------------------


def lease() -> timedelta:
    raw = os.environ.get("ROTA_JOB_LEASE_MINUTES", "").strip()
    if not raw:
        return DEFAULT_LEASE
    try:
        return timedelta(minutes=float(raw))
    except ValueError as exc:
        raise InvalidInput(f"ROTA_JOB_LEASE_MINUTES: {raw!r} is not a number") from exc


def find(name: str) -> Job:
    jobs = load_jobs()
    if name not in jobs:
        raise InvalidInput(f"job: no job named {name!r} (jobs: {', '.join(sorted(jobs))})")
    return jobs[name]


def run_job(
    db: Database, name: str, now: datetime, *, retry_failed: bool = True, key: str | None = None
) -> JobOutcome:
    """Run job `name` as of `now`, unless its key has run or is running elsewhere."""
    job = find(name)
    key = key or key_at(db, job, now)
    attempt, seen = _claim(db, job.name, key, retry_failed=retry_failed)
    if attempt is None:
        assert seen is not None
        status = "already_done" if seen.status == "done" else "running"
        if seen.status == "failed":
            status = "failed_before"
        return JobOutcome(
            job.name, key, status, seen.summary, seen.error, seen.attempts, db.facility
        )
    try:
        summary = job.run(db, now)
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
        # The log gets the exception's class only: its words may name a patient. The run's
        # row keeps them for a person who asks (`rota jobs history`).
        log.warning(
            "job %s (%s%s) failed: %s (rota jobs history has the detail)",
            job.name,
            key,
            f", facility {db.facility}" if db.facility else "",
            exc.__class__.__name__,
        )
        _finish(db, job.name, key, attempt, "failed", {}, error)
        return JobOutcome(job.name, key, "failed", {}, error, attempt, db.facility)
    summary = dict(summary or {})
    _finish(db, job.name, key, attempt, "done", summary, None)
    return JobOutcome(job.name, key, "done", summary, None, attempt, db.facility)


def run_due(db: Database, now: datetime) -> list[JobOutcome]:
    """Every job whose key is due at `now` and not yet done: what an engine's tick does."""
    outcomes = []
    for job in load_jobs().values():
        key = due_key(db, job, now)
        if key is None:
            continue
        if not needs_run(db, job.name, key):
            continue
        outcome = run_job(db, job.name, now, retry_failed=False, key=key)
        if outcome.ran:
            outcomes.append(outcome)
    return outcomes


def history(db: Database, job: str | None = None, limit: int = 20) -> list[RunRecord]:
    if limit < 1:
        raise InvalidInput("limit: must be at least 1")
    if job is not None:
        find(job)
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    with db.read() as session:
        return [_record(r) for r in session.scalars(query)]


# --- the claim -----------------------------------------------------------------------------------


def _record(row: JobRun) -> RunRecord:
    return RunRecord(
        row.job,
        row.key,
        row.status,
        row.attempts,
        row.started_at,
        row.finished_at,
        dict(row.summary or {}),
        row.error,
    )


def _row(db: Database, job: str, key: str) -> RunRecord | None:
    with db.read() as session:
        row = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.key == key)).first()
        return None if row is None else _record(row)


def _claim(
    db: Database, job: str, key: str, *, retry_failed: bool
) -> tuple[int | None, RunRecord | None]:
    """(the attempt this caller now owns, None) or (None, the row that stops it)."""
    started = now_utc()
    try:
        with db.session() as session:
            session.add(
                JobRun(
                    job=job, key=key, status="started", attempts=1, started_at=started, summary={}
                )
            )
            session.flush()
        return 1, None
    except IntegrityError:  # the key is claimed: done, running, or free to take over
        seen = _row(db, job, key)
    assert seen is not None
    if not _may_take_over(seen, started, retry_failed=retry_failed):
        return None, seen
    with db.session() as session:
        taken = session.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.key == key,
                JobRun.attempts == seen.attempts,
                JobRun.status == seen.status,
            )
            .values(
                status="started",
                attempts=seen.attempts + 1,
                started_at=started,
                finished_at=None,
                error=None,
            )
        )
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # another caller took it first
        return None, _row(db, job, key)
    log.info(
        "job %s (%s): attempt %d takes over a %s run", job, key, seen.attempts + 1, seen.status
    )
    return seen.attempts + 1, None


def _may_take_over(seen: RunRecord, now: datetime, *, retry_failed: bool) -> bool:
    if seen.status == "started":
        return seen.started_at <= now - lease()
    if seen.status == "failed":
        if retry_failed:
            return True
        ended = seen.finished_at or seen.started_at
        return seen.attempts < MAX_ATTEMPTS and ended <= now - RETRY_AFTER
    return False


def _finish(
    db: Database,
    job: str,
    key: str,
    attempt: int,
    status: str,
    summary: dict[str, Any],
    error: str | None,
) -> None:
    with db.session() as session:
        result = session.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.key == key, JobRun.attempts == attempt)
            .values(status=status, finished_at=now_utc(), summary=summary, error=error)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning(
            "job %s (%s): attempt %d lost its lease; its end is not recorded", job, key, attempt
        )


def needs_run(db: Database, job: str, key: str) -> bool:
    """Whether an engine's tick should run this key now: never claimed, or a crashed run past
    its lease, or a failed one due for a retry (the same policy for every engine)."""
    seen = _row(db, job, key)
    return seen is None or _may_take_over(seen, now_utc(), retry_failed=False)

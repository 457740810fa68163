"""The jobs Rota runs by itself: a registry of task functions, and the one way to run them.

A task is a pure use case `run(db, now) -> summary` registered with `@job(name, daily_at=...)` or
`@job(name, every_minutes=...)`. Engines (integrations/jobs: the embedded scheduler, procrastinate
workers, `rota jobs run`) only decide *when* to call `run_job`; `run_job` claims the run in the
database first, so whichever engine calls, each job key runs once.

`daily_at` is "HH:MM" facility-local, or "close" for the facility's closing time; the setting
`ROTA_<NAME>_AT` (e.g. ROTA_MORNING_AT=06:30, ROTA_END_OF_DAY_AT=18:00) overrides it. With
`weekday` (0 = Monday … 6 = Sunday) a daily_at job runs once a week, on that day.

`queue` says which workers run it: "default", or "solver" for a job that holds a worker for a
solve (the morning cycle), so that `rota worker --queues solver` can run those on machines of
their own and reminders and the outbox never wait behind them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clinic.db import Database

Task = Callable[[Database, datetime], dict[str, Any]]

QUEUES: tuple[str, ...] = ("default", "solver")
"""The queues a job may be declared on (the workers' `--queues`)."""


@dataclass(frozen=True)
class Job:
    name: str
    run: Task
    daily_at: str | None = None
    every_minutes: int | None = None
    describe: str = ""
    weekday: int | None = None  # with daily_at: weekly, on this day (0 = Monday)
    queue: str = "default"

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"job {self.name}: queue must be one of {', '.join(QUEUES)}")
        if (self.daily_at is None) == (self.every_minutes is None):
            raise ValueError(f"job {self.name}: give exactly one of daily_at and every_minutes")
        if self.every_minutes is not None and not 1 <= self.every_minutes <= 1440:
            raise ValueError(f"job {self.name}: every_minutes must be 1..1440")
        if self.weekday is not None and (self.daily_at is None or not 0 <= self.weekday <= 6):
            raise ValueError(f"job {self.name}: weekday needs daily_at and must be 0..6")


JOBS: dict[str, Job] = {}
"""Every registered job by name (filled by importing JOB_MODULES: see `load_jobs`)."""

JOB_MODULES: tuple[str, ...] = (
    "assistant.jobs.end_of_day",
    "assistant.jobs.morning",
    "assistant.jobs.reminders",
    "assistant.jobs.outbox",
    "assistant.jobs.waitlist",
    "assistant.jobs.risk",
    "assistant.jobs.fhir_push",
    "assistant.jobs.retention",
)
"""The modules whose `@job` functions make up the registry."""


def job(
    name: str,
    *,
    daily_at: str | None = None,
    every_minutes: int | None = None,
    weekday: int | None = None,
    queue: str = "default",
) -> Callable[[Task], Task]:
    """Register `run(db, now) -> summary` as the job `name` (its docstring describes it)."""

    def register(run: Task) -> Task:
        describe = (run.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        JOBS[name] = Job(name, run, daily_at, every_minutes, describe, weekday, queue)
        return run

    return register


def load_jobs() -> dict[str, Job]:
    """The registry, with every job module imported."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS


from assistant.jobs.runs import (  # noqa: E402  (runs needs Job, defined above)
    JobOutcome,
    RunRecord,
    daily_time,
    due_key,
    history,
    key_at,
    run_due,
    run_job,
)

__all__ = [
    "JOBS",
    "JOB_MODULES",
    "QUEUES",
    "Job",
    "JobOutcome",
    "RunRecord",
    "daily_time",
    "due_key",
    "history",
    "job",
    "key_at",
    "load_jobs",
    "run_due",
    "run_job",
]
